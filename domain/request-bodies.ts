import { z } from 'zod';
import { decisionKinds } from './escalation.js';

/** A decision as a caller states it. The reviewer is never part of it: it comes from the credential. */
export const decisionBodySchema = z
  .object({
    decision: z.enum(decisionKinds),
    comment: z.string().trim().min(1).max(4000).optional(),
  })
  .strict();

export const withdrawBodySchema = z.object({ reason: z.string().trim().min(1).max(4000) }).strict();

export const recoveredBodySchema = z.object({ pipelineRunId: z.string().min(1).max(200).optional() }).strict();

export const acknowledgeBodySchema = z.object({}).strict();

export const reassignBodySchema = z.object({ to: z.string().min(1).max(200), reason: z.string().trim().min(1).max(4000) }).strict();

export const breakGlassBodySchema = z.object({ justification: z.string().trim().min(1).max(4000) }).strict();
