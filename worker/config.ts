import { z } from 'zod';
import { fieldErrors } from '../domain/field-errors.js';

const environmentSchema = z.object({
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  ESCALATOR_TASK_QUEUE: z.string().min(1).default('escalator'),
  ESCALATOR_POLICY_FILE: z.string().min(1).default('policies/example.yaml'),
  ESCALATOR_SMTP_URL: z.url({ protocol: /^smtps?$/ }).default('smtp://127.0.0.1:1025'),
  ESCALATOR_MAIL_FROM: z.string().min(3).default('Escalator <escalator@localhost>'),
  ESCALATOR_PUBLIC_URL: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:8080'),
  /** The embedded outcome store; ignored when ESCALATOR_OUTCOMES_DATABASE_URL is set. */
  ESCALATOR_OUTCOMES_FILE: z.string().min(1).default('.data/outcomes.sqlite'),
  ESCALATOR_OUTCOMES_DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
});

export type WorkerConfig = z.output<typeof environmentSchema>;

/** Reads the worker's settings from the environment; throws naming every bad variable. */
export function workerConfigFrom(environment: NodeJS.ProcessEnv): WorkerConfig {
  const result = environmentSchema.safeParse(environment);
  if (!result.success) {
    throw new Error(`invalid worker configuration:\n${fieldErrors(result.error).map((e) => `  ${e.path}: ${e.message}`).join('\n')}`);
  }
  return result.data;
}
