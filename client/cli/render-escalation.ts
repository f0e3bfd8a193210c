import { stageLabel } from '../../domain/engine/view.js';
import type { EscalationView } from '../../domain/escalation.js';
import { describeEntry } from '../../domain/timeline-text.js';
import type { RetryingAction } from '../escalator-client.js';
import { durationText } from './duration-text.js';
import { detailsTable, table } from './output.js';

/** The readable form of an escalation's state: a summary, its decisions, and the latest timeline entries. */
export function renderEscalation(view: EscalationView, options: { timelineEntries: number; now: Date; retrying?: RetryingAction[] }): string {
  const { failure } = view;
  const waiting = view.status === 'waiting';
  const summary = detailsTable([
    ['escalation', view.escalationId],
    ['status', statusOf(view)],
    ['gate', `${failure.gate.name} (${failure.gate.kind}) on ${failure.service}, ${failure.repository}`],
    ['severity', [failure.severity, failure.hotfix ? 'hotfix' : '', failure.rollback ? 'rollback' : ''].filter(Boolean).join(' · ')],
    ['change', `${failure.change.sha.slice(0, 12)} "${failure.change.title}" by ${failure.change.author}`],
    ['model', view.model ?? 'not chosen yet'],
    ['rule', view.selectedBy ?? undefined],
    ['mode', view.mode === 'shadow' ? 'shadow (notifies nobody, decides nothing for the pipeline)' : view.mode === 'pilot' ? 'pilot (only the pilot group is notified)' : undefined],
    ['step', waiting && view.step !== null ? `${view.step + 1} of ${view.stepCount ?? 1} (${stageLabel(view.stage)})` : undefined],
    ['awaited', waiting ? view.awaitedReviewers.join(', ') || 'nobody' : undefined],
    ['held back', waiting && view.heldReviewers.length ? `${view.heldReviewers.map((h) => `${h.reviewer} until ${h.until}`).join(', ')} (quiet hours; asked then if still awaited)` : undefined],
    ['primary', waiting ? (view.primary ?? undefined) : undefined],
    ['deadline', view.deadline ? `${view.deadline} (${relative(Date.parse(view.deadline) - options.now.getTime())})` : undefined],
    ['depth', `${view.depth} of ${view.maxDepth ?? '?'}`],
    ['votes', view.votes ? votesOf(view.votes) : undefined],
    ['acknowledged', view.acknowledgedBy.length ? view.acknowledgedBy.join(', ') : undefined],
    ['routing', view.routing?.length ? [...view.routing].sort((a, b) => b.score - a.score).map((s) => `${s.person} ${s.score}`).join(', ') : undefined],
    ['ticket', view.ticket ? `${view.ticket.key} ${view.ticket.url}` : undefined],
    ['policy', view.policyVersion ?? undefined],
  ]);
  const parts = [summary];
  if (view.decisions.length) {
    parts.push(
      'Decisions',
      table(
        ['at', 'reviewer', 'decision', 'step', 'stage', 'channel', 'comment'],
        view.decisions.map((d) => [d.at, d.reviewer, d.decision, d.step + 1, stageLabel(d.stage), d.channel, d.comment ?? '']),
      ),
    );
  }
  if (options.retrying?.length) {
    parts.push('Retrying', table(['action', 'attempt', 'last error', 'next attempt'], options.retrying.map((r) => [r.action, r.attempt, r.lastError ?? '', r.nextAttemptAt ?? 'running'])));
  }
  const latest = view.timeline.slice(-options.timelineEntries);
  if (latest.length) {
    const title = latest.length < view.timeline.length ? `Timeline (last ${latest.length} of ${view.timeline.length})` : 'Timeline';
    parts.push(title, table(['at', 'event', 'details'], latest.map((entry) => [entry.at, entry.event, describeEntry(entry)])));
  }
  return parts.join('\n');
}

function statusOf(view: EscalationView): string {
  if (!view.outcome) return view.status;
  return `ended: ${view.outcome.outcome}, ${view.outcome.reason}${view.outcome.postmortem ? ' (flagged for postmortem)' : ''}`;
}

function votesOf(votes: NonNullable<EscalationView['votes']>): string {
  const override = votes.quorum.override === null ? '' : ` · override ${votes.override}/${votes.quorum.override}`;
  return `approve ${votes.approve}/${votes.quorum.approve} · reject ${votes.reject}/${votes.quorum.reject}${override}`;
}

/** `primary`, `backup` or `tier <name>`: who holds a step, as the timeline and the Temporal UI say it. */

function relative(deltaMs: number): string {
  return deltaMs >= 0 ? `in ${durationText(Math.max(deltaMs, 1000))}` : `${durationText(-deltaMs)} ago`;
}

