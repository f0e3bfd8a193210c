import { ApplicationFailure, log } from '@temporalio/activity';
import type { Transporter } from 'nodemailer';
import type { EscalationOutcome } from '../domain/escalation.js';
import { type PolicySnapshot, resolvePlan } from '../domain/escalation-plan.js';
import type { GateFailure } from '../domain/gate-failure.js';
import { countEnded, countNewEntries, type EscalatorMetrics } from './metrics.js';
import type { EscalationEvents, OutcomeStore } from './outcome-store/store.js';
import type { PolicySource } from './policy-source.js';
import { createReviewerEmailer, type EmailSettings } from './reviewer-email.js';
import { requestRollback } from './rollback.js';
import { createRouter } from './routing.js';
import type { ReviewerEmail } from './types.js';

export interface ActivityDependencies {
  policy: PolicySource;
  mail: Transporter;
  email: EmailSettings;
  store: OutcomeStore;
  /** Escalator's Prometheus metrics; without them nothing is counted and the store is not read before writes. */
  metrics?: EscalatorMetrics;
}

/** The activities the worker registers, bound to their dependencies. */
export function createActivities(deps: ActivityDependencies) {
  return {
    /**
     * The policy resolved for one failure at `at` (model, rule, pools, rotations, tiers), recorded
     * in history as this activity's result so policy edits never change a running escalation.
     */
    async snapshotPolicy({ failure, at }: { failure: GateFailure; at: string }): Promise<PolicySnapshot> {
      const { policy, version } = deps.policy.current();
      const ordinal = await deps.store.historySize({ gate: failure.gate.name });
      const plan = resolvePlan(policy, failure, { at: new Date(at), ordinal });
      if (!plan) throw ApplicationFailure.nonRetryable(`no policy for gate "${failure.gate.name}" and no "*" entry in ${deps.policy.file}`, 'NoPolicyForGate');
      return { policyVersion: version, policySource: deps.policy.file, plan };
    },
    routeReviewers: createRouter(deps.store),
    emailReviewer: countedEmailer(createReviewerEmailer(deps.mail, deps.email), deps.metrics),
    requestRollback,
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
    /** Records the escalation's single outcome; retried calls write nothing twice. */
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
    },
  };
}

/** Counts every attempt of the email activity: `sent`, or `failed` for each attempt that throws (retried or not). */
function countedEmailer(send: (email: ReviewerEmail) => Promise<{ messageId: string }>, metrics: EscalatorMetrics | undefined) {
  return async function emailReviewer(email: ReviewerEmail): Promise<{ messageId: string }> {
    try {
      const sent = await send(email);
      metrics?.notifications.inc({ channel: 'email', result: 'sent' });
      log.info('reviewer notified', { reviewer: email.reviewer.id, channel: 'email', purpose: email.purpose, step: email.step, messageId: email.messageId });
      return sent;
    } catch (error) {
      metrics?.notifications.inc({ channel: 'email', result: 'failed' });
      throw error;
    }
  };
}
