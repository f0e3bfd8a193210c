import type { Notification, NotificationPurpose } from './events.js';
import { decisionDeadline, stageOf } from './models.js';
import type { PendingAsk } from './run.js';
import type { EscalationState } from './state.js';
import { awaitedReviewers, heldReviewers, stepText } from './view.js';

/** Decision requests and reminders; quiet hours and the reviewer's channels apply to these only. */
export function asksForDecision(purpose: NotificationPurpose): boolean {
  return purpose === 'decide' || purpose === 'reminder';
}

/**
 * The messages for the people asked while one event was handled, built from the state after it, so
 * each says who else is awaited now. Numbers them on `s` (Message-IDs stay unique per escalation).
 */
export function buildNotifications(s: EscalationState, asks: PendingAsk[]): Notification[] {
  if (!asks.length) return [];
  // Where the escalation stands is the same for every message of the event: computed once.
  const standing = { awaited: awaitedReviewers(s), held: heldReviewers(s), stepLabel: stepText(s) };
  const notifications: Notification[] = [];
  for (const ask of asks) {
    for (const reviewerId of ask.reviewers) notifications.push(...messagesFor(s, reviewerId, ask, standing));
  }
  return notifications;
}

interface Standing {
  awaited: string[];
  held: Array<{ reviewer: string; until: string }>;
  stepLabel: string;
}

/** One person's messages: Slack and/or email by the severity's channels narrowed to the person's own. */
function messagesFor(s: EscalationState, reviewerId: string, ask: PendingAsk, standing: Standing): Notification[] {
  const plan = s.plan!;
  const reviewer = plan.people[reviewerId];
  if (!reviewer) return [];
  const allowed = (plan.channels?.use ?? ['email']).filter((channel) => !reviewer.channels || reviewer.channels.includes(channel));
  // Nobody goes unreached: where the two leave nothing, email.
  const channels = allowed.length ? allowed : ['email'];
  const decision = asksForDecision(ask.purpose);
  const step = s.model?.kind === 'sequential' ? s.model.assignment.step : 0;
  const awaited = standing.awaited.filter((id) => id !== reviewerId);
  const heldBack = standing.held.filter((h) => h.reviewer !== reviewerId);
  const common = {
    purpose: ask.purpose,
    reviewer: { id: reviewer.id, name: reviewer.name, email: reviewer.email },
    model: plan.model,
    step,
    stepCount: s.model?.kind === 'sequential' ? s.model.plan.steps.length : 1,
    stage: s.model ? stageOf(s.model) : ({ kind: 'primary' } as const),
    deadline: s.status === 'waiting' && s.model ? new Date(decisionDeadline(s.model)).toISOString() : null,
    alsoAsked: awaited.filter((id) => !heldBack.some((h) => h.reviewer === id)),
    heldBack,
    primary: s.model?.kind === 'parallel' ? s.model.settings.primary : null,
    stepLabel: standing.stepLabel,
    ...(ask.override ? { override: ask.override } : {}),
    ...(ask.rollback ? { rollback: ask.rollback } : {}),
  };
  const messages: Notification[] = [];
  const bySlack = channels.includes('slack') && s.reachable.slack && reviewer.slack !== undefined;
  // What is not a decision request (an override to review, a rollback to do by hand) goes by email, always.
  if (decision && bySlack) {
    // Each message its own key: a reminder is a new post, not a retry of the first one.
    s.notificationCount++;
    messages.push({ ...common, channel: 'slack', slackUser: reviewer.slack, messageId: `${s.escalationId}.step${step + 1}.slack.${reviewerId}.${s.notificationCount}` });
  }
  // Slack-only people are emailed when Slack cannot reach them (no Slack on this worker, no Slack id).
  if (decision && !channels.includes('email') && bySlack) return messages;
  s.notificationCount++;
  messages.push({ ...common, channel: 'email', messageId: `<${s.escalationId}.step${step + 1}.n${s.notificationCount}@escalator>` });
  return messages;
}
