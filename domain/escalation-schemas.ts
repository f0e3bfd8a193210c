import { z } from 'zod';
import { channels, decisionKinds, decisionReasons } from './escalation-terms.js';

// The pieces of an escalation's state and the payloads of its updates. domain/escalation.ts derives
// its types from these with `import type`, so workflow code gets the types without zod.

const timestamp = z.iso.datetime();
const count = z.number().int().min(0);

export const modelNameSchema = z.enum(['sequential', 'parallel', 'dynamic']);
export const outcomeKindSchema = z.enum(['passed', 'overridden', 'blocked', 'rolled-back', 'recovered', 'withdrawn']);
export const escalationStatusKindSchema = z.enum(['starting', 'routing', 'waiting', 'rolling-back', 'ended']);

/** Who holds a chain step; the same as `Stage` in sequential-chain.ts, which the tests hold it to. */
export const stageSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('primary') }).strict(),
  z.object({ kind: z.literal('backup') }).strict(),
  z.object({ kind: z.literal('tier'), tier: z.string(), tierIndex: count }).strict(),
]);

export const routingScoreSchema = z
  .object({
    person: z.string(),
    score: z.number(),
    factors: z.record(z.string(), z.object({ value: z.number(), weight: z.number(), why: z.string() }).strict()),
  })
  .strict();

// The updates' payloads. Callers never send these as they are: the client library and the shim build
// them from a request body and the caller's credential, so they carry no limits of their own.

export const decisionRequestSchema = z
  .object({
    reviewer: z.string(),
    decision: z.enum(decisionKinds),
    comment: z.string().optional(),
    channel: z.enum(channels),
    reason: z.enum(decisionReasons).optional().describe('Why the gate failed, as the decider sees it: false-positive, flaky, real-issue or accepted-risk'),
  })
  .strict();

export const withdrawRequestSchema = z.object({ by: z.string(), reason: z.string() }).strict();

export const acknowledgeRequestSchema = z.object({ reviewer: z.string(), channel: z.enum(channels) }).strict();

export const reassignRequestSchema = z.object({ by: z.string(), to: z.string(), reason: z.string(), channel: z.enum(channels) }).strict();

export const breakGlassRequestSchema = z.object({ by: z.string(), justification: z.string(), channel: z.enum(channels) }).strict();

/** A decision that counted: the request, when, and at which step and stage. */
export const decisionSchema = decisionRequestSchema.extend({ at: timestamp, step: count, stage: stageSchema }).strict();
