import { ApplicationFailure, Context, log } from '@temporalio/activity';
import type { Transporter } from 'nodemailer';
import type { TicketOpened, TicketRequest } from '../domain/engine/tickets.js';
import type { EscalationOutcome } from '../domain/escalation.js';
import { type PolicySnapshot, resolvePlan } from '../domain/escalation-plan.js';
import type { GateFailure } from '../domain/gate-failure.js';
import { countEnded, countNewEntries, type EscalatorMetrics } from './metrics.js';
import type { EscalationEvents, OutcomeStore } from '../adapters/outcome-store/store.js';
import type { PolicySource } from '../adapters/policy-source.js';
import { createReviewerEmailer, type EmailSettings } from './reviewer-email.js';
import { heartbeating } from './heartbeat.js';
import { requestRollback } from './rollback.js';
import { type createPagerDuty } from './channels/pagerduty.js';
import type { PagerDutyTrigger, SlackDecisionRequest, SlackMessageUpdate, SlackPosted, WebhookEvent } from './channels/types.js';
import { type createSlackNotifier } from './channels/slack.js';
import { type createWebhookSender } from './channels/webhook.js';
import type { GitHubApp } from './pipelines/github-app.js';
import type { GitLabClient } from './pipelines/gitlab.js';
import { createPipelineReporter } from './pipelines/report.js';
import { createRatingRequester } from './rating-requests.js';
import { createRouter } from '../adapters/routing/store-router.js';
import { createDigestSender } from './weekly-digest.js';
import { createRoutingRetrainer } from '../adapters/routing/retrainer.js';
import { type createJiraTickets } from './tickets/jira.js';
import { type createServiceNowTickets } from './tickets/servicenow.js';
import type { ReviewerEmail } from './types.js';

/** The optional channels this worker can reach; the workflow learns which through the snapshot. */
export interface ChannelDependencies {
  /** A GitHub App: check runs on commits and deployment protection rule reviews. */
  github?: GitHubApp;
  /** A GitLab approver's client: commit statuses and deployment approvals. */
  gitlab?: GitLabClient;
  slack?: ReturnType<typeof createSlackNotifier>;
  pagerDuty?: ReturnType<typeof createPagerDuty>;
  webhook?: ReturnType<typeof createWebhookSender>;
  /** Ticket systems; a policy's `tickets.system` is reachable when its system is here. */
  jira?: ReturnType<typeof createJiraTickets>;
  serviceNow?: ReturnType<typeof createServiceNowTickets>;
}

export interface ActivityDependencies {
  policy: PolicySource;
  mail: Transporter;
  email: EmailSettings;
  store: OutcomeStore;
  channels?: ChannelDependencies;
  /** Escalator's Prometheus metrics; without them nothing is counted and the store is not read before writes. */
  metrics?: EscalatorMetrics;
  /** Routing retraining: the period measured on (default 7 days) and the history fitted on before it (default 182 days). */
  routingRetraining?: { periodDays: number; trainingDays: number };
}

/** One email of a batch: sent, or why not and whether a retry could help. */
export type EmailResult = { messageId: string; sent: true } | { messageId: string; sent: false; error: string; final: boolean };

/** The activities the worker registers, bound to their dependencies. */
export function createActivities(deps: ActivityDependencies) {
  const emailReviewer = countedEmailer(createReviewerEmailer(deps.mail, deps.email), deps.metrics);
  const requestRatings = createRatingRequester({ mail: deps.mail, email: deps.email, store: deps.store, policy: () => deps.policy.current().policy });
  return {
    /**
     * The policy resolved for one failure at `at` (model, rule, pools, rotations, tiers), recorded
     * in history as this activity's result so policy edits never change a running escalation.
     */
    async snapshotPolicy({ failure, at }: { failure: GateFailure; at: string }): Promise<PolicySnapshot> {
      const { policy, version } = deps.policy.current();
      // The outcome does not carry the change's author, whom the end asks for a rating: kept from the start.
      const escalationId = Context.current().info.workflowExecution?.workflowId;
      if (escalationId) await deps.store.recordChangeAuthor(escalationId, failure.change.author);
      // Dynamic routing learns who reviews which paths from the changed files of past escalations.
      if (escalationId && failure.change.changedFiles.length) await deps.store.recordChangedFiles(escalationId, failure.repository, failure.change.changedFiles);
      const ordinal = await deps.store.historySize({ gate: failure.gate.name });
      const plan = resolvePlan(policy, failure, { at: new Date(at), ordinal });
      if (!plan) throw ApplicationFailure.nonRetryable(`no policy for gate "${failure.gate.name}" and no "*" entry in ${deps.policy.file}`, 'NoPolicyForGate');
      const channels = deps.channels ?? {};
      const tickets = plan.tickets?.system === 'jira' ? !!channels.jira : plan.tickets?.system === 'servicenow' ? !!channels.serviceNow : false;
      return { policyVersion: version, policySource: deps.policy.file, plan, reachable: { slack: !!channels.slack, pagerduty: !!channels.pagerDuty, webhook: !!channels.webhook, tickets } };
    },
    routeReviewers: createRouter(deps.store),
    emailReviewer,
    /**
     * Several emails at once, each on its own: one local activity for a whole batch, so a step that
     * asks three reviewers costs one marker. Never throws; says per email whether it went out, and
     * whether a failure is final (the address refused) or worth the retried activity.
     */
    async emailReviewers(emails: ReviewerEmail[]): Promise<EmailResult[]> {
      return Promise.all(
        emails.map(async (email): Promise<EmailResult> => {
          try {
            await emailReviewer(email);
            return { messageId: email.messageId, sent: true };
          } catch (error) {
            const final = error instanceof ApplicationFailure && error.nonRetryable === true;
            // Caught here, so the SDK's own "Activity failed" line never comes: say it.
            log.warn('email failed', { reviewer: email.reviewer.id, messageId: email.messageId, final, error: { type: error instanceof ApplicationFailure ? error.type : (error as Error).name, message: (error as Error).message } });
            return { messageId: email.messageId, sent: false, error: error instanceof Error ? error.message : String(error), final };
          }
        }),
      );
    },
    requestRollback,
    retrainRouting: createRoutingRetrainer({
      store: deps.store,
      metrics: deps.metrics,
      log: (message, meta) => log.info(message, meta),
      periodDays: deps.routingRetraining?.periodDays ?? 7, trainingDays: deps.routingRetraining?.trainingDays ?? 182,
    }),
    sendWeeklyDigest: createDigestSender({ store: deps.store, policy: () => deps.policy.current().policy, mail: deps.mail, from: deps.email.from, publicUrl: deps.email.publicUrl }),
    ...createPipelineReporter({
      ...(deps.channels?.github ? { github: deps.channels.github } : {}),
      ...(deps.channels?.gitlab ? { gitlab: deps.channels.gitlab } : {}),
      escalationUrl: (escalationId) => `${deps.email.publicUrl.replace(/\/$/, '')}/v1/escalations/${encodeURIComponent(escalationId)}`,
    }),
    /** Posts a Slack decision request (de-duplicated by its key across retries). */
    async postSlack(request: SlackDecisionRequest): Promise<SlackPosted> {
      return counted('slack', deps.metrics, () => channel(deps.channels?.slack, 'Slack').postSlackDecisionRequest(request));
    },
    /** Replaces a Slack message's buttons with the escalation's state. */
    async updateSlack(update: SlackMessageUpdate): Promise<void> {
      await channel(deps.channels?.slack, 'Slack').updateSlackMessage(update);
    },
    /** PagerDuty: trigger, acknowledge or resolve the escalation's incident (dedup_key = escalation id). */
    async page(request: { action: 'trigger'; incident: PagerDutyTrigger } | { action: 'acknowledge' | 'resolve'; escalationId: string }): Promise<void> {
      const pagerDuty = channel(deps.channels?.pagerDuty, 'PagerDuty');
      if (request.action === 'trigger') await counted('pagerduty', deps.metrics, () => pagerDuty.triggerIncident(request.incident));
      else if (request.action === 'acknowledge') await pagerDuty.acknowledgeIncident(request.escalationId);
      else await pagerDuty.resolveIncident(request.escalationId);
    },
    /** One signed webhook event; its id is stable, so receivers drop redeliveries. */
    async sendWebhook(event: WebhookEvent): Promise<void> {
      await counted('webhook', deps.metrics, () => channel(deps.channels?.webhook, 'webhook').sendWebhookEvent(event));
    },
    /**
     * Opens the escalation's one ticket (a Jira issue or a ServiceNow incident), or finds the one an
     * earlier attempt opened; links it to the escalation's page under the public URL.
     */
    async openTicket(request: TicketRequest): Promise<TicketOpened> {
      const escalationUrl = `${deps.email.publicUrl.replace(/\/$/, '')}/v1/escalations/${encodeURIComponent(request.escalationId)}`;
      const opened =
        request.system === 'jira'
          ? await channel(deps.channels?.jira, 'Jira').openIssue(request, escalationUrl)
          : await channel(deps.channels?.serviceNow, 'ServiceNow').openIncident(request, escalationUrl);
      log.info('ticket opened', { system: opened.system, key: opened.key, transition: opened.transition });
      return opened;
    },
    /** Appends timeline entries to the outcome store; retried calls write nothing twice. */
    async recordEvents(events: EscalationEvents): Promise<void> {
      const { metrics } = deps;
      // The seqs stored before the write are the ones it skips: counting the rest counts each entry once.
      const storedSeqs = metrics ? new Set((await deps.store.timeline(events.escalationId)).map((entry) => entry.seq)) : undefined;
      await deps.store.recordEvents(events);
      const added = storedSeqs ? events.entries.filter((_, index) => !storedSeqs.has(events.fromSeq + index)) : events.entries;
      if (metrics) countNewEntries(metrics, events.gate, added, []);
      const snapshot = added.find((entry) => entry.event === 'policy-snapshot');
      if (snapshot) log.info('escalation started', { gate: events.gate, service: events.service, severity: events.severity, model: snapshot.model, selectedBy: snapshot.selectedBy });
    },
    /**
     * Records the escalation's single outcome, then asks its author and deciders for a rating;
     * retried calls write nothing twice and ask nobody twice. A rating email that fails never fails this.
     */
    async recordOutcome(outcome: EscalationOutcome): Promise<void> {
      const { metrics } = deps;
      // Read before the write, which replaces the stored timeline: what it did not hold is new.
      const before = metrics ? { escalation: await deps.store.escalation(outcome.escalationId), timeline: await deps.store.timeline(outcome.escalationId) } : undefined;
      await deps.store.recordOutcome(outcome);
      if (metrics && before) {
        countNewEntries(metrics, outcome.gate, outcome.timeline, before.timeline);
        if (!before.escalation?.endedAt) countEnded(metrics, outcome);
      }
      log.info('escalation ended', { gate: outcome.gate, model: outcome.model, outcome: outcome.outcome, reason: outcome.reason, depth: outcome.depth, postmortem: outcome.postmortem });
      await requestRatings(outcome);
    },
  };
}

/** Counts every attempt of the email activity: `sent`, or `failed` for each attempt that throws (retried or not). */
function channel<T>(configured: T | undefined, name: string): T {
  if (!configured) throw ApplicationFailure.nonRetryable(`${name} is not configured on this worker`, 'ChannelNotConfigured');
  return configured;
}

async function counted<T>(name: string, metrics: EscalatorMetrics | undefined, send: () => Promise<T>): Promise<T> {
  try {
    const result = await send();
    metrics?.notifications.inc({ channel: name, result: 'sent' });
    return result;
  } catch (error) {
    metrics?.notifications.inc({ channel: name, result: 'failed' });
    throw error;
  }
}

function countedEmailer(send: (email: ReviewerEmail) => Promise<{ messageId: string }>, metrics: EscalatorMetrics | undefined) {
  return async function emailReviewer(email: ReviewerEmail): Promise<{ messageId: string }> {
    try {
      const sent = await heartbeating(send(email));
      metrics?.notifications.inc({ channel: 'email', result: 'sent' });
      log.info('reviewer notified', { reviewer: email.reviewer.id, channel: 'email', purpose: email.purpose, step: email.step, messageId: email.messageId });
      return sent;
    } catch (error) {
      metrics?.notifications.inc({ channel: 'email', result: 'failed' });
      throw error;
    }
  };
}
