import type { z } from 'zod';
import type { receiptSchema } from '../api-responses.js';
import type { EscalationView } from '../escalation.js';
import type { GateFailure } from '../gate-failure.js';
import type { Stage } from '../sequential-chain.js';
import { awaitedBy, decisionDeadline, nextWakeAt, stageOf, tally, votedIn } from './models.js';
import { modeOf } from './gate-mode.js';
import type { EscalationState } from './state.js';

/** Who decided a step so far, where one person decides at most one step (the policy's default). */
export function decidedEarlier(s: EscalationState): Array<{ reviewer: string; step: number }> {
  if (s.plan?.oneDecisionPerPerson === false) return [];
  return s.decisions.map(({ reviewer, step }) => ({ reviewer, step }));
}

/** Who may decide now: the model's awaited reviewers, less who decided already, plus quiet-hours stand-ins. */
export function awaitedReviewers(s: EscalationState): string[] {
  const { model } = s;
  if (s.status !== 'waiting' || !model) return [];
  const decided = decidedEarlier(s).map((d) => d.reviewer);
  const awaited = awaitedBy(model).filter((id) => !decided.includes(id));
  const voted = votedIn(model);
  const standIns = s.standIns.filter((id) => !awaited.includes(id) && !voted.includes(id) && !decided.includes(id));
  return [...awaited, ...standIns];
}

/** Awaited reviewers that quiet hours hold back, and when they are asked. */
export function heldReviewers(s: EscalationState): Array<{ reviewer: string; until: string }> {
  const awaited = awaitedReviewers(s);
  return Object.entries(s.held)
    .filter(([id]) => awaited.includes(id))
    .map(([reviewer, until]) => ({ reviewer, until: new Date(until).toISOString() }));
}

/** When the escalation next needs the clock (its model's deadline or the end of quiet hours), and what for. */
export function nextDeadline(s: EscalationState): { at: number; summary: string } | null {
  if (s.status !== 'waiting' || !s.model) return null;
  const modelAt = nextWakeAt(s.model);
  const held = Object.values(s.held);
  const quietEnd = held.length ? Math.min(...held) : null;
  if (quietEnd !== null && quietEnd < modelAt) return { at: quietEnd, summary: 'end of quiet hours' };
  const stage = stageLabel(stageOf(s.model));
  if (s.model.kind === 'parallel') return { at: modelAt, summary: `decision window, ${stage}` };
  const step = s.model.kind === 'sequential' ? s.model.assignment.step : 0;
  return { at: modelAt, summary: `decision deadline, step ${step + 1} ${stage}` };
}

/**
 * The small answer of an update: that it was taken, and where the escalation stands now. The whole
 * view (failure, timeline, decisions) stays the `state` query's, so it never enters history.
 */
export type Receipt = z.output<typeof receiptSchema>;

export function receipt(s: EscalationState): Receipt {
  const { model } = s;
  return {
    escalationId: s.escalationId,
    accepted: true,
    status: s.status,
    step: model ? (model.kind === 'sequential' ? model.assignment.step : 0) : null,
    stage: model ? stageOf(model) : null,
    awaitedReviewers: awaitedReviewers(s),
    heldReviewers: heldReviewers(s),
    deadline: s.status === 'waiting' && model ? new Date(decisionDeadline(model)).toISOString() : null,
    depth: s.depth,
    votes: model ? tally(model) : null,
    outcome: s.outcome && { outcome: s.outcome.outcome, reason: s.outcome.reason, postmortem: s.outcome.postmortem },
  };
}

/** The receipt of a run started before the engine, whose updates answered with the whole view. */
export function receiptOfView(view: EscalationView): Receipt {
  const { escalationId, status, step, stage, awaitedReviewers, heldReviewers, deadline, depth, votes, outcome } = view;
  return { escalationId, accepted: true, status, step, stage, awaitedReviewers, heldReviewers: heldReviewers ?? [], deadline, depth, votes, outcome: outcome && { outcome: outcome.outcome, reason: outcome.reason, postmortem: outcome.postmortem } };
}

/** The `state` query's answer. The failure comes from the workflow's input: the state keeps only its summary. */
export function escalationView(s: EscalationState, failure: GateFailure): EscalationView {
  const model = s.model;
  const waiting = s.status === 'waiting' && model !== null;
  const sequential = model?.kind === 'sequential' ? model : null;
  return {
    escalationId: s.escalationId,
    failure,
    model: s.plan?.model ?? null,
    selectedBy: s.plan?.selectedBy ?? null,
    mode: modeOf(s.plan),
    policyVersion: s.policyVersion,
    status: s.status,
    step: model ? (sequential?.assignment.step ?? 0) : null,
    stepCount: model ? (sequential?.plan.steps.length ?? 1) : null,
    stage: model ? stageOf(model) : null,
    awaitedReviewers: awaitedReviewers(s),
    heldReviewers: heldReviewers(s),
    primary: model?.kind === 'parallel' ? model.settings.primary : null,
    votes: model ? tally(model) : null,
    acknowledgedBy: model?.kind === 'parallel' ? [...model.acknowledged] : [],
    routing: s.routing,
    deadline: waiting ? new Date(decisionDeadline(model)).toISOString() : null,
    depth: s.depth,
    maxDepth: s.plan?.maxDepth ?? null,
    decisions: [...s.decisions],
    timeline: [...s.timeline],
    outcome: s.outcome,
    ticket: s.ticket,
  };
}

/** "step 2 of 3, backup" or "vote, tier seniors": where the escalation stands, for messages. */
export function stepText(s: EscalationState): string {
  const stage = stageLabel(s.model ? stageOf(s.model) : null);
  if (s.plan?.model === 'parallel') return `vote, ${stage}`;
  const sequential = s.model?.kind === 'sequential' ? s.model : null;
  return `step ${(sequential?.assignment.step ?? 0) + 1} of ${sequential?.plan.steps.length ?? 1}, ${stage}`;
}

export function stageLabel(stage: Stage | null): string {
  if (!stage || stage.kind === 'primary') return 'primary';
  return stage.kind === 'backup' ? 'backup' : `tier ${stage.tier}`;
}

/**
 * The run's current details in the Temporal UI (markdown): what it waits for, from whom, until
 * when, and why it went to them.
 */
export function currentDetails(s: EscalationState): string {
  const lines: string[] = [];
  const awaited = awaitedReviewers(s);
  if (s.outcome) {
    lines.push(`**${s.outcome.outcome}**: ${s.outcome.reason}`, `Depth ${s.depth}${s.outcome.postmortem ? ', flagged for postmortem' : ''}.`);
  } else if (s.status === 'rolling-back') {
    lines.push(`**Rolling back**: ${s.exhaustedReason ?? 'escalation exhausted'}`);
  } else if (s.model) {
    const votes = tally(s.model);
    const where =
      s.model.kind === 'parallel' && votes
        ? `votes ${votes.approve}/${votes.quorum.approve} to pass, ${votes.reject}/${votes.quorum.reject} to block; primary ${s.model.settings.primary}`
        : stepText(s);
    lines.push(`**Waiting for** ${awaited.join(', ') || 'nobody'} until ${new Date(decisionDeadline(s.model)).toISOString()} (${where}).`, `Depth ${s.depth} of ${s.plan?.maxDepth ?? '?'}.`);
    const held = heldReviewers(s);
    if (held.length) lines.push(`Held back by quiet hours: ${held.map((h) => `${h.reviewer} (asked at ${h.until} if still awaited)`).join(', ')}.`);
  } else {
    lines.push(`**${s.status === 'routing' ? 'Routing' : 'Starting'}**: choosing who to ask.`);
  }
  if (s.ticket) lines.push(`Ticket [${s.ticket.key}](${s.ticket.url}) (${s.ticket.system === 'jira' ? 'Jira' : 'ServiceNow'}).`);
  lines.push(`Model **${s.plan?.model ?? 'not chosen yet'}**: ${s.plan?.selectedBy ?? ''}.`);
  const mode = modeOf(s.plan);
  if (mode === 'shadow') lines.push('**Shadow run**: nobody is notified and the pipeline is not told; the timeline records who would have been asked.');
  if (mode === 'pilot') lines.push(`**Pilot**: only ${s.plan?.pilotGroup?.join(', ') ?? 'the pilot group'} are notified; the others are assigned but not told.`);
  const best = s.routing ? [...s.routing].sort((a, b) => b.score - a.score)[0] : undefined;
  if (best) lines.push(`Routed: ${best.person} scored ${best.score} (${Object.values(best.factors).map((f) => f.why).join('; ')}).`);
  return lines.join('\n\n');
}
