import { z } from 'zod';
import { fieldErrors } from '../../domain/field-errors.js';

const environmentSchema = z.object({
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  ESCALATOR_TASK_QUEUE: z.string().min(1).default('escalator'),
  ESCALATOR_TOKENS_FILE: z.string().min(1).default('config/tokens.dev.yaml'),
  ESCALATOR_SHIM_HOST: z.string().min(1).default('127.0.0.1'),
  ESCALATOR_SHIM_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** SSO: bearer JWTs from your identity provider, verified against its JWKS; all three or none. */
  ESCALATOR_SSO_JWKS_URL: z.url({ protocol: /^https?$/ }).optional(),
  ESCALATOR_SSO_ISSUER: z.string().min(1).optional(),
  ESCALATOR_SSO_AUDIENCE: z.string().min(1).optional(),
  ESCALATOR_SSO_IDENTITY_CLAIM: z.enum(['preferred_username', 'email', 'sub']).default('preferred_username'),
  /** Slack app's signing secret: turns on /v1/slack/interactions; people map through the policy's `slack` ids. */
  ESCALATOR_SLACK_SIGNING_SECRET: z.string().min(16).optional(),
  ESCALATOR_POLICY_FILE: z.string().min(1).default('policies/example.yaml'),
  /** A GitHub App's webhook secret: turns on /v1/github/webhooks; the policy's \`integrations.github\` maps events to gates. */
  ESCALATOR_GITHUB_WEBHOOK_SECRET: z.string().min(16, 'at least 16 characters').optional(),
  /** The GitHub API the worker's app calls: deployment callbacks elsewhere are refused. */
  ESCALATOR_GITHUB_API_URL: z.url({ protocol: /^https?$/ }).default('https://api.github.com'),
  /** A GitLab webhook's secret token: turns on /v1/gitlab/webhooks; the policy's \`integrations.gitlab\` maps events to gates. */
  ESCALATOR_GITLAB_WEBHOOK_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  /** Requests per minute per identity. */
  ESCALATOR_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(300),
  /** Verifies the email action links the worker signs (the same secret). Unset: every link is refused. */
  ESCALATOR_ACTION_SECRET: z.string().min(32, 'at least 32 characters').optional(),
  /** The Temporal UI the dashboard links escalations to, as `<url>/namespaces/<TEMPORAL_NAMESPACE>/workflows/<id>`. */
  ESCALATOR_UI_URL: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:8233'),
  /** The outcome store the worker writes; the shim adds refused attempts to it. */
  ESCALATOR_OUTCOMES_FILE: z.string().min(1).default('.data/outcomes.sqlite'),
  ESCALATOR_OUTCOMES_DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
});

export type ShimConfig = z.output<typeof environmentSchema>;

const ssoVariables = ['ESCALATOR_SSO_JWKS_URL', 'ESCALATOR_SSO_ISSUER', 'ESCALATOR_SSO_AUDIENCE'] as const;

/** Reads the shim's settings from the environment; throws naming every bad variable. */
export function shimConfigFrom(environment: NodeJS.ProcessEnv): ShimConfig {
  const result = environmentSchema.safeParse(environment);
  if (!result.success) {
    throw new Error(`invalid shim configuration:\n${fieldErrors(result.error).map((e) => `  ${e.path}: ${e.message}`).join('\n')}`);
  }
  const given = ssoVariables.filter((name) => result.data[name] !== undefined);
  if (given.length > 0 && given.length < ssoVariables.length) {
    throw new Error(`invalid shim configuration:\n  ${ssoVariables.filter((name) => !given.includes(name)).join(', ')}: required with ${given.join(', ')}`);
  }
  return result.data;
}
