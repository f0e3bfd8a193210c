import * as wf from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';

/**
 * The activities an escalation calls, each with the timeouts and retries its side effect needs.
 * One place for them, so the workflow reads as what it does and a timeout is changed once.
 */
export type Activities = ReturnType<typeof createActivities>;

// Reading the policy file and writing the outcome store are short and local to the worker: local
// activities record one marker each instead of three events, which keeps histories small.
export const { snapshotPolicy, recordOutcome, recordEvents } = wf.proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', nonRetryableErrorTypes: ['NoPolicyForGate'] },
});

// Routing reads history from the outcome store; when it cannot answer in time the workflow falls back
// to the sequential chain rather than wait on the store.
export const { routeReviewers } = wf.proxyLocalActivities<Activities>({
  startToCloseTimeout: '20 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 3 },
});

// Email is at-least-once with a stable Message-ID; a long outage must not hold the escalation, whose
// deadline runs on its own timer, so attempts are bounded and a final failure lands in the timeline.
// The activity heartbeats: a worker killed mid-send is retried elsewhere within seconds.
export const emailOptions: wf.ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  heartbeatTimeout: '5 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 8, nonRetryableErrorTypes: ['InvalidRecipient'] },
};
export const { emailReviewer } = wf.proxyActivities<Activities>(emailOptions);

// The first attempt of the emails a step sends runs as one local activity for all of them: a marker
// in history instead of an activity task's three events per email and the workflow tasks their
// completions wake, which is most of what an escalation costs beyond a bare workflow. It gets one
// short try; an email the relay refuses or that hangs goes on to the retried activity above, so an
// outage holds the workflow task (and the decisions and deadlines it would carry) for at most those
// seconds.
export const emailBatchOptions: wf.LocalActivityOptions = { startToCloseTimeout: '3 seconds', retry: { maximumAttempts: 1 } };
export const { emailReviewers } = wf.proxyLocalActivities<Activities>(emailBatchOptions);

// Slack has no idempotency key; the activity looks for its own earlier post, so attempts are bounded
// and spaced well beyond one HTTP timeout.
export const slackOptions: wf.ActivityOptions = {
  startToCloseTimeout: '60 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 6, nonRetryableErrorTypes: ['SlackRefused', 'ChannelNotConfigured'] },
};
export const { postSlack, updateSlack } = wf.proxyActivities<Activities>(slackOptions);

// PagerDuty de-duplicates by dedup_key (the escalation id), so retries are safe.
export const pageOptions: wf.ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 8, nonRetryableErrorTypes: ['PagerDutyRefused', 'ChannelNotConfigured'] },
};
export const { page } = wf.proxyActivities<Activities>(pageOptions);

// A receiver may be down for a while: retried with backoff for a day; the escalation never waits on it.
export const { sendWebhook } = wf.proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '24 hours',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '15 minutes', nonRetryableErrorTypes: ['WebhookGone', 'WebhookRefused', 'ChannelNotConfigured'] },
});

// A rollback endpoint is retried with the same Idempotency-Key; 4xx answers are final.
export const rollbackOptions: wf.ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  heartbeatTimeout: '5 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 6, nonRetryableErrorTypes: ['RollbackRefused'] },
};
export const { requestRollback } = wf.proxyActivities<Activities>(rollbackOptions);

// A ticket is opened after the outcome is stored, so nothing waits on it but the run's completion:
// retried with backoff for a day. The activity looks for the escalation's own ticket before it
// creates one; the first retry waits 5 s because Jira's search takes seconds to see a new issue.
export const ticketOptions: wf.ActivityOptions = {
  startToCloseTimeout: '60 seconds',
  scheduleToCloseTimeout: '24 hours',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '15 minutes', nonRetryableErrorTypes: ['TicketRefused', 'ChannelNotConfigured'] },
};
export const { openTicket } = wf.proxyActivities<Activities>(ticketOptions);

// The pipeline's view of the escalation (a check run, a commit status) is kept up to date as it
// moves: best effort, for half an hour, and never holding the escalation. The verdict a waiting
// deployment needs is retried for a day, like a rollback.
export const pipelineStatusOptions: wf.ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '30 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', nonRetryableErrorTypes: ['GitHubRefused', 'GitHubInvalidRequest', 'GitLabRefused', 'ChannelNotConfigured'] },
};
export const pipelineVerdictOptions: wf.ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '24 hours',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '15 minutes', nonRetryableErrorTypes: ['GitHubRefused', 'GitHubInvalidRequest', 'GitLabRefused', 'GitLabDeploymentNotWaiting', 'ChannelNotConfigured'] },
};
export const { reportPipelineStatus } = wf.proxyActivities<Activities>(pipelineStatusOptions);
export const { deliverPipelineVerdict } = wf.proxyActivities<Activities>(pipelineVerdictOptions);

/** The message of an activity's failure, without the SDK's wrapping. */
export function failureMessage(error: unknown): string {
  if (error instanceof wf.ActivityFailure && error.cause) return error.cause.message;
  return error instanceof Error ? error.message : String(error);
}
