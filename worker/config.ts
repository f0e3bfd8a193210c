import { isIP } from 'node:net';
import { z } from 'zod';
import { durationSchema } from '../domain/duration.js';
import { fieldErrors } from '../domain/field-errors.js';

export const logLevels = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const;

/** `host:port` (an IPv6 host in brackets); the empty string turns the listener off (null). */
function listenAddress(options: { ipOnly: boolean }) {
  return z
    .string()
    .trim()
    .refine((text) => text === '' || parseListenAddress(text, options.ipOnly) !== undefined, {
      message: options.ipOnly ? 'expected IP:port (e.g. 127.0.0.1:9464, [::1]:9464), or empty to disable' : 'expected host:port (e.g. 127.0.0.1:9465), or empty to disable',
    })
    .transform((text) => (text === '' ? null : parseListenAddress(text, options.ipOnly)!));
}

/** Where a listener binds. `text` is the `host:port` form the SDK's Prometheus exporter takes. */
export interface ListenAddress {
  host: string;
  port: number;
  text: string;
}

function parseListenAddress(text: string, ipOnly: boolean): ListenAddress | undefined {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(text);
  if (!match) return undefined;
  const host = match[1] ?? match[2]!;
  const port = Number(match[3]);
  if (port > 65_535) return undefined;
  if (match[1] !== undefined && isIP(host) !== 6) return undefined;
  if (ipOnly && isIP(host) === 0) return undefined;
  return { host, port, text };
}

const environmentSchema = z.object({
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  /**
   * How long a worker that cannot reach TEMPORAL_ADDRESS at start-up keeps retrying (backoff from
   * 500 ms to 10 s) before it exits non-zero, so the parts of a stack can start in any order.
   */
  ESCALATOR_TEMPORAL_CONNECT_TIMEOUT: durationSchema.default(5 * 60_000),
  ESCALATOR_TASK_QUEUE: z.string().min(1).default('escalator'),
  ESCALATOR_POLICY_FILE: z.string().min(1).default('policies/example.yaml'),
  ESCALATOR_SMTP_URL: z.url({ protocol: /^smtps?$/ }).default('smtp://127.0.0.1:1025'),
  /** Keep up to 5 SMTP connections open and reuse them, instead of one connection per email. */
  ESCALATOR_SMTP_POOL: z.stringbool().default(true),
  ESCALATOR_MAIL_FROM: z.string().min(3).default('Escalator <escalator@localhost>'),
  ESCALATOR_PUBLIC_URL: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:8080'),
  /** Slack: a bot token posts decision requests with buttons and keeps them current; unset: no Slack. */
  ESCALATOR_SLACK_BOT_TOKEN: z.string().min(1).optional(),
  ESCALATOR_SLACK_API_URL: z.url({ protocol: /^https?$/ }).default('https://slack.com/api'),
  /** PagerDuty Events API v2: the integration's routing key; unset: no paging. */
  ESCALATOR_PAGERDUTY_ROUTING_KEY: z.string().min(1).optional(),
  ESCALATOR_PAGERDUTY_EVENTS_URL: z.url({ protocol: /^https?$/ }).default('https://events.pagerduty.com/v2/enqueue'),
  /** Outbound webhooks: every state change, signed with the secret; both or neither. */
  ESCALATOR_WEBHOOK_URL: z.url({ protocol: /^https?$/ }).optional(),
  ESCALATOR_WEBHOOK_SECRET: z.string().min(16, 'at least 16 characters').optional(),
  /** Jira Cloud, for policies whose `tickets.system` is jira: the site, an account's email and an API token; all three or none. */
  ESCALATOR_JIRA_URL: z.url({ protocol: /^https?$/ }).optional(),
  ESCALATOR_JIRA_EMAIL: z.email().optional(),
  ESCALATOR_JIRA_API_TOKEN: z.string().min(1).optional(),
  /** ServiceNow, for policies whose `tickets.system` is servicenow: the instance, a user and its password; all three or none. */
  ESCALATOR_SERVICENOW_URL: z.url({ protocol: /^https?$/ }).optional(),
  ESCALATOR_SERVICENOW_USER: z.string().min(1).optional(),
  ESCALATOR_SERVICENOW_PASSWORD: z.string().min(1).optional(),
  /** A GitHub App (id and its PEM private key's file): check runs on commits and deployment protection rule reviews; both or neither. */
  ESCALATOR_GITHUB_APP_ID: z.string().regex(/^\d+$/, 'the numeric App ID from the app\'s settings page').optional(),
  ESCALATOR_GITHUB_PRIVATE_KEY_FILE: z.string().min(1).optional(),
  ESCALATOR_GITHUB_API_URL: z.url({ protocol: /^https?$/ }).default('https://api.github.com'),
  /** GitLab: the API (…/api/v4) and the approver user's access token (scope api): commit statuses and deployment approvals; both or neither. */
  ESCALATOR_GITLAB_API_URL: z.url({ protocol: /^https?$/ }).optional(),
  ESCALATOR_GITLAB_TOKEN: z.string().min(1).optional(),
  /** Signs the approve/reject links in emails (HS256, at least 32 characters); the shim needs the same secret. Unset: no links. */
  ESCALATOR_ACTION_SECRET: z.string().min(32, 'at least 32 characters').optional(),
  ESCALATOR_ACTION_LINK_TTL: durationSchema.default(24 * 3_600_000),
  /** The embedded outcome store; ignored when ESCALATOR_OUTCOMES_DATABASE_URL is set. */
  ESCALATOR_OUTCOMES_FILE: z.string().min(1).default('.data/outcomes.sqlite'),
  ESCALATOR_OUTCOMES_DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  /** Minimum level of the JSON log lines on stdout (SDK, Core, workflows, activities). */
  ESCALATOR_LOG_LEVEL: z
    .string()
    .default('INFO')
    .transform((level) => level.trim().toUpperCase())
    .pipe(z.enum(logLevels, { error: `expected one of ${logLevels.join(', ')}` })),
  /** The SDK's own Prometheus exporter (Core: worker, poller, task and request metrics); null is off. */
  ESCALATOR_SDK_METRICS_ADDRESS: listenAddress({ ipOnly: true }).default({ host: '127.0.0.1', port: 9464, text: '127.0.0.1:9464' }),
  /** The worker's HTTP server: /metrics (Escalator's metrics), /healthz, /readyz; null is off. */
  ESCALATOR_WORKER_HTTP_ADDRESS: listenAddress({ ipOnly: false }).default({ host: '127.0.0.1', port: 9465, text: '127.0.0.1:9465' }),
  /**
   * Tuning (unset: the SDK's defaults). Workflows kept in memory between tasks: each open escalation
   * beyond it is replayed from history when its next event arrives, so this bounds memory and trades
   * it for CPU.
   */
  ESCALATOR_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).optional(),
  /** Workflow tasks processed at once. */
  ESCALATOR_MAX_CONCURRENT_WORKFLOW_TASKS: z.coerce.number().int().min(2).optional(),
  /** Activities (emails after their first attempt, Slack, PagerDuty, webhooks, rollbacks) run at once. */
  ESCALATOR_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().min(1).optional(),
  /** Local activities (policy snapshots, routing, outcome-store writes, first email attempts) run at once. */
  ESCALATOR_MAX_CONCURRENT_LOCAL_ACTIVITIES: z.coerce.number().int().min(1).optional(),
  /** Dynamic routing is retrained every this many days (its Schedule), measured on the days since the last run. */
  ESCALATOR_ROUTING_RETRAIN_DAYS: z.coerce.number().int().min(1).max(90).default(7),
  /** How many days of routed escalations before that period the fit learns from. */
  ESCALATOR_ROUTING_TRAINING_DAYS: z.coerce.number().int().min(7).max(3650).default(182),
  /** OpenTelemetry tracing of workflows and activities; off unless `true`. */
  ESCALATOR_OTEL_ENABLED: z.stringbool().default(false),
  /** `otlp`: OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT; `console`: one JSON line per span on stdout. */
  ESCALATOR_OTEL_EXPORTER: z.enum(['otlp', 'console']).default('otlp'),
  /** Base URL of the OTLP/HTTP collector (`/v1/traces` is appended); unset: the exporter's default, http://localhost:4318. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  OTEL_SERVICE_NAME: z.string().min(1).default('escalator-worker'),
}).superRefine((environment, ctx) => {
  requireTogether(environment, ['ESCALATOR_JIRA_URL', 'ESCALATOR_JIRA_EMAIL', 'ESCALATOR_JIRA_API_TOKEN'], ctx);
  requireTogether(environment, ['ESCALATOR_SERVICENOW_URL', 'ESCALATOR_SERVICENOW_USER', 'ESCALATOR_SERVICENOW_PASSWORD'], ctx);
  requireTogether(environment, ['ESCALATOR_GITHUB_APP_ID', 'ESCALATOR_GITHUB_PRIVATE_KEY_FILE'], ctx);
  requireTogether(environment, ['ESCALATOR_GITLAB_API_URL', 'ESCALATOR_GITLAB_TOKEN'], ctx);
});

/** A ticket system or CI integration needs all of its settings: one given without the others is a mistake to name, not a system quietly left out. */
function requireTogether<K extends string>(environment: Partial<Record<K, unknown>>, names: K[], ctx: z.RefinementCtx): void {
  const given = names.filter((name) => environment[name] !== undefined);
  if (given.length === 0 || given.length === names.length) return;
  for (const name of names.filter((name) => !given.includes(name))) ctx.addIssue({ code: 'custom', path: [name], message: `required with ${given.join(' and ')}` });
}

export type WorkerConfig = z.output<typeof environmentSchema>;
export type LogLevelName = (typeof logLevels)[number];

/** Reads the worker's settings from the environment; throws naming every bad variable. */
export function workerConfigFrom(environment: NodeJS.ProcessEnv): WorkerConfig {
  const result = environmentSchema.safeParse(environment);
  if (!result.success) {
    throw new Error(`invalid worker configuration:\n${fieldErrors(result.error).map((e) => `  ${e.path}: ${e.message}`).join('\n')}`);
  }
  return result.data;
}
