import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import nodemailer from 'nodemailer';
import { createPagerDuty } from '../activities/channels/pagerduty.js';
import { createSlackNotifier } from '../activities/channels/slack.js';
import { createWebhookSender } from '../activities/channels/webhook.js';
import { createActivities } from '../activities/index.js';
import { createGitHubApp } from '../activities/pipelines/github-app.js';
import { createGitLabClient } from '../activities/pipelines/gitlab.js';
import { createJiraTickets } from '../activities/tickets/jira.js';
import type { Policy } from '../domain/policy.js';
import { ensureDigestSchedule } from './digest-schedule.js';
import { ensureRetrainingSchedule, routesDynamically } from './retraining-schedule.js';
import { createServiceNowTickets } from '../activities/tickets/servicenow.js';
import { createEscalatorMetrics, type EscalatorMetrics } from '../activities/metrics.js';
import { openOutcomeStore, type OutcomeStore } from '../adapters/outcome-store/store.js';
import { PolicySource } from '../adapters/policy-source.js';
import type { WorkerConfig } from './config.js';
import { escalationLogAttributes, type WorkerTracing } from './telemetry.js';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export interface EscalatorWorkerOptions {
  connection?: NativeConnection;
  /** The policy, already read and validated; read from ESCALATOR_POLICY_FILE when not given. */
  policy?: PolicySource;
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Where the activities count; a fresh registry by default (read it from the result). */
  metrics?: EscalatorMetrics;
  /**
   * OpenTelemetry tracing (from `startTracing`). Its workflow interceptor module only takes effect
   * when the worker bundles the workflows itself: a pre-built `workflowBundle` must have been built
   * with it (`bundleWorkflowCode({ workflowInterceptorModules: [otelWorkflowInterceptorsModule] })`),
   * or only activity spans are traced.
   */
  tracing?: WorkerTracing;
}

/**
 * Builds a worker for the escalation task queue. The policy file is read and validated here, so a
 * bad policy stops start-up with its file, path and problem; the outcome store is opened and migrated.
 * Call `close()` after the worker stopped: it closes the outcome store and the SMTP connections. Pass `workflowBundle` to reuse a
 * pre-built bundle (tests build one per run).
 */
export async function createEscalatorWorker(
  config: WorkerConfig,
  options: EscalatorWorkerOptions = {},
): Promise<{
  worker: Worker;
  connection: NativeConnection;
  ownsConnection: boolean;
  store: OutcomeStore;
  metrics: EscalatorMetrics;
  digestSchedule: string;
  retrainingSchedule: string;
  close(): Promise<void>;
}> {
  const policy = options.policy ?? new PolicySource(config.ESCALATOR_POLICY_FILE);
  const store = await openOutcomeStore({ sqliteFile: config.ESCALATOR_OUTCOMES_FILE, ...(config.ESCALATOR_OUTCOMES_DATABASE_URL ? { databaseUrl: config.ESCALATOR_OUTCOMES_DATABASE_URL } : {}) });
  await store.migrate();
  // Pooled: an escalation's emails go out over open connections, without a TCP and SMTP handshake each.
  const mail = nodemailer.createTransport({ url: config.ESCALATOR_SMTP_URL, pool: config.ESCALATOR_SMTP_POOL });
  const metrics = options.metrics ?? createEscalatorMetrics();
  const activities = createActivities({
    policy,
    mail,
    email: {
      from: config.ESCALATOR_MAIL_FROM,
      publicUrl: config.ESCALATOR_PUBLIC_URL,
      ...(config.ESCALATOR_ACTION_SECRET ? { actionSecret: config.ESCALATOR_ACTION_SECRET } : {}),
      actionLinkTtlMs: config.ESCALATOR_ACTION_LINK_TTL,
    },
    store,
    metrics,
    routingRetraining: { periodDays: config.ESCALATOR_ROUTING_RETRAIN_DAYS, trainingDays: config.ESCALATOR_ROUTING_TRAINING_DAYS },
    channels: {
      ...(config.ESCALATOR_SLACK_BOT_TOKEN ? { slack: createSlackNotifier({ baseUrl: config.ESCALATOR_SLACK_API_URL, botToken: config.ESCALATOR_SLACK_BOT_TOKEN }) } : {}),
      ...(config.ESCALATOR_PAGERDUTY_ROUTING_KEY ? { pagerDuty: createPagerDuty({ eventsUrl: config.ESCALATOR_PAGERDUTY_EVENTS_URL, routingKey: config.ESCALATOR_PAGERDUTY_ROUTING_KEY }) } : {}),
      ...(config.ESCALATOR_WEBHOOK_URL && config.ESCALATOR_WEBHOOK_SECRET ? { webhook: createWebhookSender({ url: config.ESCALATOR_WEBHOOK_URL, secret: config.ESCALATOR_WEBHOOK_SECRET }) } : {}),
      ...(config.ESCALATOR_JIRA_URL && config.ESCALATOR_JIRA_EMAIL && config.ESCALATOR_JIRA_API_TOKEN
        ? { jira: createJiraTickets({ baseUrl: config.ESCALATOR_JIRA_URL, email: config.ESCALATOR_JIRA_EMAIL, apiToken: config.ESCALATOR_JIRA_API_TOKEN }) }
        : {}),
      ...(config.ESCALATOR_GITHUB_APP_ID && config.ESCALATOR_GITHUB_PRIVATE_KEY_FILE
        ? { github: createGitHubApp({ appId: config.ESCALATOR_GITHUB_APP_ID, privateKeyPem: readFileSync(config.ESCALATOR_GITHUB_PRIVATE_KEY_FILE, 'utf8'), apiUrl: config.ESCALATOR_GITHUB_API_URL }) }
        : {}),
      ...(config.ESCALATOR_GITLAB_API_URL && config.ESCALATOR_GITLAB_TOKEN ? { gitlab: createGitLabClient({ apiUrl: config.ESCALATOR_GITLAB_API_URL, token: config.ESCALATOR_GITLAB_TOKEN }) } : {}),
      ...(config.ESCALATOR_SERVICENOW_URL && config.ESCALATOR_SERVICENOW_USER && config.ESCALATOR_SERVICENOW_PASSWORD
        ? { serviceNow: createServiceNowTickets({ baseUrl: config.ESCALATOR_SERVICENOW_URL, user: config.ESCALATOR_SERVICENOW_USER, password: config.ESCALATOR_SERVICENOW_PASSWORD }) }
        : {}),
    },
  });
  // Before the worker exists: a Schedule that cannot be created or updated fails the start with its own
  // error, and no worker holds the connection the caller then closes.
  const { digestSchedule, retrainingSchedule } = await patiently(() => ensureSchedules(config, policy.current().policy));
  const connection = options.connection ?? (await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS }));
  const { tracing } = options;
  const worker = await Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.ESCALATOR_TASK_QUEUE,
    activities,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath }),
    interceptors: {
      activity: [...(tracing?.interceptors.activity ?? []), escalationLogAttributes],
      // A pre-built bundle has its interceptors compiled in; the SDK would ignore these with a warning.
      ...(tracing && !options.workflowBundle ? { workflowModules: tracing.interceptors.workflowModules } : {}),
    },
    ...(tracing ? { sinks: tracing.sinks } : {}),
    ...definedOnly({
      maxCachedWorkflows: config.ESCALATOR_MAX_CACHED_WORKFLOWS,
      maxConcurrentWorkflowTaskExecutions: config.ESCALATOR_MAX_CONCURRENT_WORKFLOW_TASKS,
      maxConcurrentActivityTaskExecutions: config.ESCALATOR_MAX_CONCURRENT_ACTIVITIES,
      maxConcurrentLocalActivityExecutions: config.ESCALATOR_MAX_CONCURRENT_LOCAL_ACTIVITIES,
    }),
  });
  const close = async () => {
    mail.close();
    await store.close();
  };
  return { worker, connection, ownsConnection: options.connection === undefined, store, metrics, digestSchedule, retrainingSchedule, close };
}

/**
 * The weekly digest's and routing retraining's Schedules, created or updated over a client connection
 * of its own (the worker's is native); no connection when the policy needs neither.
 */
async function ensureSchedules(config: WorkerConfig, policy: Policy): Promise<{ digestSchedule: string; retrainingSchedule: string }> {
  if (!policy.digest && !routesDynamically(policy)) return { digestSchedule: 'no digest', retrainingSchedule: 'no dynamic routing' };
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  try {
    const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
    return {
      digestSchedule: await ensureDigestSchedule(client, config.ESCALATOR_TASK_QUEUE, policy),
      retrainingSchedule: await ensureRetrainingSchedule(client, config.ESCALATOR_TASK_QUEUE, policy, config.ESCALATOR_ROUTING_RETRAIN_DAYS),
    };
  } finally {
    await connection.close();
  }
}

/**
 * Retries a start-up step a few times (1 + 2 + 3 + 4 s apart) before it fails the start. A Schedule is
 * described through the server's own scheduler workflow, which a server that has just (re)started may
 * not run yet.
 */
async function patiently<T>(step: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      if (attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, attempt * 1000));
    }
  }
}

/** The settings that were given, so the SDK's defaults apply to the others. */
function definedOnly<T extends Record<string, number | undefined>>(settings: T): Partial<Record<keyof T, number>> {
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined)) as Partial<Record<keyof T, number>>;
}
