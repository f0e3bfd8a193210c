import { z } from 'zod';

export const severities = ['critical', 'high', 'medium', 'low'] as const;
export const gateKinds = ['tests', 'coverage', 'security', 'performance', 'review', 'custom'] as const;

/** Identifier-safe text: used in workflow ids, Message-IDs and search attributes. */
const slug = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:/@-]*$/, 'letters, digits and . _ : / @ - only, starting with a letter or digit');

/**
 * The event that starts an escalation. Validated once at the edge (client library, HTTP shim);
 * everything inward receives the parsed `GateFailure`.
 */
export const gateFailureSchema = z
  .object({
    gate: z.object({ name: slug, kind: z.enum(gateKinds) }).strict(),
    service: slug,
    repository: z.string().min(1).max(300),
    severity: z.enum(severities),
    change: z
      .object({
        sha: z.string().regex(/^[0-9a-f]{7,64}$/, 'a hex commit sha of 7 to 64 characters'),
        author: z.string().min(1).max(200),
        title: z.string().min(1).max(500),
        url: z.url(),
        changedFiles: z.array(z.string().min(1).max(1000)).max(10_000).default([]),
      })
      .strict(),
    pipelineRun: z.object({ id: z.string().min(1).max(200), url: z.url() }).strict(),
    occurredAt: z.iso.datetime({ offset: true }),
    hotfix: z.boolean().default(false),
    rollback: z.boolean().default(false),
    idempotencyKey: slug,
  })
  .strict();

export type GateFailure = z.output<typeof gateFailureSchema>;
export type GateFailureInput = z.input<typeof gateFailureSchema>;
export type Severity = GateFailure['severity'];

/** The workflow id of the escalation for a failure: re-delivered events land on the same run. */
export function escalationIdFor(idempotencyKey: string): string {
  return `escalation-${idempotencyKey}`;
}
