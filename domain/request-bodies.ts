import { z } from 'zod';
import { decisionKinds, decisionReasons } from './escalation-terms.js';

// The HTTP shim validates with these schemas and its OpenAPI document is generated from them;
// descriptions set here show up in /openapi.json and /docs.

/** A decision as a caller states it. The reviewer is never part of it: it comes from the credential. */
export const decisionBodySchema = z
  .object({
    decision: z.enum(decisionKinds).describe('`override` counts only where the gate has an override quorum; use break-glass for an emergency override'),
    comment: z.string().trim().min(1).max(4000).optional().describe('Why; the policy may require one (requireComment: on-reject or always)'),
    reason: z.enum(decisionReasons).optional().describe('Why the gate failed, as you see it: false-positive, flaky, real-issue or accepted-risk (counted by the gate metrics)'),
  })
  .strict();

export const withdrawBodySchema = z.object({ reason: z.string().trim().min(1).max(4000).describe('Why the escalation is no longer needed') }).strict();

export const recoveredBodySchema = z.object({ pipelineRunId: z.string().min(1).max(200).optional().describe('The pipeline run in which the gate passed') }).strict();

/** The longest long poll of GET /v1/escalations/:id/outcome: under the idle timeout of common proxies and load balancers. */
export const longestOutcomeWaitMs = 120_000;

export const outcomeQuerySchema = z
  .object({
    wait: z
      .string()
      .regex(/^\d{1,6}(ms|s|m)?$/, 'a duration such as 30s, 2m or 500ms (a bare number is seconds)')
      .transform((text) => {
        const [, amount, unit] = /^(\d+)(ms|s|m)?$/.exec(text)!;
        return Number(amount) * (unit === 'ms' ? 1 : unit === 'm' ? 60_000 : 1000);
      })
      .refine((millis) => millis <= longestOutcomeWaitMs, `at most ${longestOutcomeWaitMs / 1000}s; poll again for longer`)
      .optional()
      .describe(`How long to hold the request open for the outcome, at most ${longestOutcomeWaitMs / 1000}s; left out, the answer is immediate`),
  })
  .strict();

export const acknowledgeBodySchema = z.object({}).strict();

export const reassignBodySchema = z
  .object({
    to: z.string().min(1).max(200).describe('A person id from the policy'),
    reason: z.string().trim().min(1).max(4000),
  })
  .strict();

export const breakGlassBodySchema = z.object({ justification: z.string().trim().min(1).max(4000).describe('Recorded on the escalation and sent to the reviewers of overrides') }).strict();

/**
 * The `:id` path parameter: `escalation-` followed by the idempotency key of the gate failure
 * (see `escalationIdFor`). Anything else cannot name an escalation and is answered 404.
 */
export const escalationIdSchema = z
  .string()
  .regex(/^escalation-[A-Za-z0-9][A-Za-z0-9._:/@-]{0,199}$/)
  .describe('`escalation-` followed by the idempotency key of the gate failure; percent-encode `/` in a path');

/** The longest escalation id: the prefix and the longest idempotency key. */
export const escalationIdMaxLength = 'escalation-'.length + 200;

/** The largest request body the shim reads; larger ones are refused with 413. */
export const requestBodyLimitBytes = 1_048_576;

/** The optional `Idempotency-Key` header: a retry with the same key (by the same caller) counts once. */
export const idempotencyKeyHeaderSchema = z
  .string()
  .regex(/^[\x21-\x7e]{1,200}$/)
  .describe('1 to 200 visible ASCII characters; a retry with the same key by the same caller counts once');
