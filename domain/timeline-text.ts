import type { TimelineEntry } from './escalation.js';
import { stageLabel } from './engine/view.js';

/** One timeline entry in a line, for people: the CLI's timeline table and the text of a ticket. */
export function describeEntry(entry: TimelineEntry): string {
  switch (entry.event) {
    case 'raised':
      return `${entry.severity}: ${entry.gate} on ${entry.service}`;
    case 'policy-snapshot':
      return `${entry.model} (${entry.selectedBy}), policy ${entry.policyVersion.slice(0, 19)}${entry.mode ? `, ${entry.mode} mode` : ''}${entry.notes.length ? `; ${entry.notes.join('; ')}` : ''}`;
    case 'assigned':
      return `step ${entry.step + 1} ${stageLabel(entry.stage)}: ${entry.reviewers.join(', ')} until ${entry.deadline} (depth ${entry.depth})`;
    case 'notified':
      return `${entry.reviewer} by ${entry.channel} (step ${entry.step + 1})`;
    case 'notification-failed':
      return `${entry.reviewer} by ${entry.channel}: ${entry.error}`;
    case 'would-notify':
      return `${entry.reviewer} by ${entry.channel} (step ${entry.step + 1}, ${entry.purpose}): withheld, the gate is not live`;
    case 'quiet-hours': {
      const until = entry.until ? ` until ${entry.until}` : '';
      const standIn = entry.standIn ? `; ${entry.standIn} stands in for them` : '';
      return `only ${entry.notified.join(', ') || 'nobody'} notified; held${until}: ${entry.held.join(', ') || 'nobody'}${standIn}`;
    }
    case 'quiet-hours-ended':
      return `asked now: ${entry.asked.join(', ') || 'nobody'}${entry.released.length ? `; ${entry.released.join(', ')} no longer stand(s) in` : ''}`;
    case 'decided':
      return `${entry.reviewer} ${entry.decision} (step ${entry.step + 1}, ${entry.channel})`;
    case 'acknowledged':
      return `${entry.reviewer} is on it (${entry.channel})`;
    case 'renotified':
      return `round ${entry.round}: ${entry.reviewers.join(', ')} (depth ${entry.depth})`;
    case 'routed':
      return `${entry.chosen.join(', ') || 'nobody'}${entry.coldStart ? ' (cold start)' : ''}: ${entry.reason}`;
    case 'fallback':
      return `${entry.from} → ${entry.to}: ${entry.reason} (depth ${entry.depth})`;
    case 'reassigned':
      return `by ${entry.by} from ${entry.from.join(', ')} to ${entry.to}: ${entry.reason} (depth ${entry.depth})`;
    case 'break-glass':
      return `by ${entry.by}: ${entry.justification}`;
    case 'timed-out':
      return `step ${entry.step + 1} ${stageLabel(entry.stage)}: ${entry.reviewers.join(', ')} did not decide`;
    case 'handed-off':
      return `step ${entry.step + 1}: ${stageLabel(entry.from)} → ${stageLabel(entry.to)} (depth ${entry.depth})`;
    case 'exhausted':
      return `${entry.reason}; ${entry.action} (depth ${entry.depth})`;
    case 'rollback-requested':
      return `${entry.endpoint} answered ${entry.status}`;
    case 'rollback-failed':
      return `${entry.endpoint}: ${entry.error}`;
    case 'rollback-handed-off':
      return `${entry.to.join(', ')} asked to roll back by hand`;
    case 'would-roll-back':
      return `shadow run: ${entry.endpoint} not called`;
    case 'recovered':
      return entry.pipelineRunId ? `green in pipeline run ${entry.pipelineRunId}` : 'the gate re-ran green';
    case 'withdrawn':
      return `by ${entry.by}: ${entry.reason}`;
    case 'ended':
      return `${entry.outcome}: ${entry.reason}`;
    case 'ticket-opened':
      return `${entry.key} ${entry.url}${entry.transition ? ` (${entry.transition})` : ''}`;
    case 'ticket-failed':
      return `${entry.system}: ${entry.error}`;
  }
}
