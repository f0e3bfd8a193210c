import { ApplicationFailure } from '@temporalio/activity';
import type { Transporter } from 'nodemailer';
import type { EscalationOutcome } from '../domain/escalation.js';
import { type PolicySnapshot, resolvePlan } from '../domain/escalation-plan.js';
import type { GateFailure } from '../domain/gate-failure.js';
import type { EscalationEvents, OutcomeStore } from './outcome-store/store.js';
import type { PolicySource } from './policy-source.js';
import { createReviewerEmailer, type EmailSettings } from './reviewer-email.js';
import { requestRollback } from './rollback.js';
import { createRouter } from './routing.js';

export interface ActivityDependencies {
  policy: PolicySource;
  mail: Transporter;
  email: EmailSettings;
  store: OutcomeStore;
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
    emailReviewer: createReviewerEmailer(deps.mail, deps.email),
    requestRollback,
    /** Appends timeline entries to the outcome store; retried calls write nothing twice. */
    async recordEvents(events: EscalationEvents): Promise<void> {
      await deps.store.recordEvents(events);
    },
    /** Records the escalation's single outcome; retried calls write nothing twice. */
    async recordOutcome(outcome: EscalationOutcome): Promise<void> {
      await deps.store.recordOutcome(outcome);
    },
  };
}
