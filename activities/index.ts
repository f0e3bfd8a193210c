import { ApplicationFailure } from '@temporalio/activity';
import type { Transporter } from 'nodemailer';
import { planFor, type PolicySnapshot } from '../domain/escalation-plan.js';
import { createOutcomeRecorder } from './audit-log.js';
import type { PolicySource } from './policy-source.js';
import { createReviewerEmailer, type EmailSettings } from './reviewer-email.js';
import { requestRollback } from './rollback.js';

export interface ActivityDependencies {
  policy: PolicySource;
  mail: Transporter;
  email: EmailSettings;
  auditFile: string;
}

/** The activities the worker registers, bound to their dependencies. */
export function createActivities(deps: ActivityDependencies) {
  return {
    /** The policy resolved for one gate, recorded in history as this activity's result. */
    async snapshotPolicy({ gate }: { gate: string }): Promise<PolicySnapshot> {
      const { policy, version } = deps.policy.current();
      const plan = planFor(policy, gate);
      if (!plan) throw ApplicationFailure.nonRetryable(`no policy for gate "${gate}" and no "*" entry in ${deps.policy.file}`, 'NoPolicyForGate');
      return { policyVersion: version, policySource: deps.policy.file, plan };
    },
    emailReviewer: createReviewerEmailer(deps.mail, deps.email),
    requestRollback,
    recordOutcome: createOutcomeRecorder(deps.auditFile),
  };
}
