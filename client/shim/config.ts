import { z } from 'zod';
import { fieldErrors } from '../../domain/field-errors.js';

const environmentSchema = z.object({
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  ESCALATOR_TASK_QUEUE: z.string().min(1).default('escalator'),
  ESCALATOR_TOKENS_FILE: z.string().min(1).default('config/tokens.dev.yaml'),
  ESCALATOR_SHIM_HOST: z.string().min(1).default('127.0.0.1'),
  ESCALATOR_SHIM_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** Verifies the email action links the worker signs (the same secret). Unset: every link is refused. */
  ESCALATOR_ACTION_SECRET: z.string().min(32, 'at least 32 characters').optional(),
  /** The outcome store the worker writes; the shim adds refused attempts to it. */
  ESCALATOR_OUTCOMES_FILE: z.string().min(1).default('.data/outcomes.sqlite'),
  ESCALATOR_OUTCOMES_DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
});

export type ShimConfig = z.output<typeof environmentSchema>;

/** Reads the shim's settings from the environment; throws naming every bad variable. */
export function shimConfigFrom(environment: NodeJS.ProcessEnv): ShimConfig {
  const result = environmentSchema.safeParse(environment);
  if (!result.success) {
    throw new Error(`invalid shim configuration:\n${fieldErrors(result.error).map((e) => `  ${e.path}: ${e.message}`).join('\n')}`);
  }
  return result.data;
}
