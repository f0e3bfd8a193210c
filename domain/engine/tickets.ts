import type { OutcomeKind } from '../escalation.js';
import type { Severity } from '../gate-failure.js';
import type { TicketSystem, TicketTrigger } from '../policy.js';
import { describeEntry } from '../timeline-text.js';
import type { EngineEvent } from './events.js';
import type { Run } from './run.js';
import type { EscalationState } from './state.js';

/**
 * What the ticket of an ended escalation says and where it goes. The activity adds the link to the
 * escalation's own page (the worker knows its public URL) and applies each system's length limits.
 */
export interface TicketRequest {
  escalationId: string;
  system: TicketSystem;
  /** One line: Jira's summary, ServiceNow's short description. */
  title: string;
  /** Paragraphs: the failure, the change, the outcome, the escalation. */
  description: string[];
  /** The timeline up to the end, one entry a line (long timelines keep their start and their end). */
  timeline: string[];
  links: Array<{ text: string; href: string }>;
  severity: Severity;
  /** The outcome leaves nothing for people to do (the rollback went through): Jira's `doneTransition` applies. */
  resolved: boolean;
  jira?: { project: string; issueType: string; labels: string[]; doneTransition: string | null };
  servicenow?: { assignmentGroup: string | null; category: string | null; urgency: 1 | 2 | 3 };
}

/** The ticket as the system answered: opened now, or found open from an earlier attempt. */
export interface TicketOpened {
  system: TicketSystem;
  /** Jira's issue key (OPS-123) or ServiceNow's incident number (INC0010001). */
  key: string;
  url: string;
  /** The Jira transition applied (or found applied); null when none was asked for or it was not offered. */
  transition: string | null;
}

/** The most timeline lines a ticket carries, and characters a line: Jira's description holds 32,767 characters. */
export const maxTimelineLines = 100;
const maxLineLength = 250;
const timelineHead = 10;

const outcomeWords: Record<OutcomeKind, string> = {
  passed: 'passed',
  overridden: 'overridden',
  blocked: 'blocked',
  'rolled-back': 'rolled back',
  recovered: 'recovered',
  withdrawn: 'withdrawn',
};

const urgencyBySeverity: Record<Severity, 1 | 2 | 3> = { critical: 1, high: 2, medium: 3, low: 3 };

/**
 * The policy's ticket triggers an ended escalation meets: `exhausted` once the depth bound ran the
 * exhausted action (whether it then blocked, rolled back or failed to), `rolled-back` for that
 * rollback's outcome, `postmortem` whenever the outcome is flagged for one (break-glass included).
 */
export function ticketTriggersMet(s: EscalationState): TicketTrigger[] {
  if (!s.outcome) return [];
  const met: TicketTrigger[] = [];
  if (s.exhaustedReason !== null) met.push('exhausted');
  if (s.outcome.outcome === 'rolled-back') met.push('rolled-back');
  if (s.outcome.postmortem) met.push('postmortem');
  return met;
}

/** True when the ended escalation's policy asks for a ticket for this end and the worker reaches its ticket system. */
export function needsTicket(s: EscalationState): boolean {
  const settings = s.plan?.tickets;
  if (!settings || !s.reachable.tickets || s.ticket) return false;
  return ticketTriggersMet(s).some((trigger) => settings.when.includes(trigger));
}

/** The ticket for an ended escalation whose policy asks for one (see {@link needsTicket}). */
export function ticketRequest(s: EscalationState): TicketRequest {
  const settings = s.plan!.tickets!;
  const outcome = s.outcome!;
  const { failure } = s;
  const sha = failure.change.sha.slice(0, 12);
  const exhausted = s.exhaustedReason !== null ? ', escalation exhausted' : '';
  return {
    escalationId: s.escalationId,
    system: settings.system,
    title: `[${failure.severity}] ${failure.service}: ${failure.gate.name} gate ${outcomeWords[outcome.outcome]}${exhausted}`.slice(0, 255),
    description: [
      `The ${failure.gate.name} gate (${failure.gate.kind}) failed for ${failure.service} in ${failure.repository} at ${failure.occurredAt}; severity ${failure.severity}.`,
      `Change ${sha} "${failure.change.title}" by ${failure.change.author}, pipeline run ${failure.pipelineRun.id}.`,
      `Outcome: ${outcome.outcome}, ${outcome.reason}.${outcome.postmortem ? ' Flagged for postmortem.' : ''}`,
      `Escalation ${s.escalationId}: ${s.plan!.model} model, depth ${s.depth} of ${s.plan!.maxDepth}, policy ${s.policyVersion ?? 'unknown'}.`,
    ],
    timeline: timelineLines(s),
    links: [
      { text: `pipeline run ${failure.pipelineRun.id}`, href: failure.pipelineRun.url },
      { text: `change ${sha}`, href: failure.change.url },
    ],
    severity: failure.severity,
    // Only a rollback that went through leaves nothing to do; a blocked gate, a rollback handed to
    // people or an override to review keeps its ticket open for them.
    resolved: outcome.outcome === 'rolled-back',
    ...(settings.system === 'jira' && settings.jira
      ? { jira: { project: settings.jira.project, issueType: settings.jira.issueType, labels: settings.jira.labels, doneTransition: settings.jira.doneTransition ?? null } }
      : {}),
    ...(settings.system === 'servicenow' && settings.servicenow
      ? { servicenow: { assignmentGroup: settings.servicenow.assignmentGroup ?? null, category: settings.servicenow.category ?? null, urgency: settings.servicenow.urgency ?? urgencyBySeverity[failure.severity] } }
      : {}),
  };
}

function timelineLines(s: EscalationState): string[] {
  const lines = s.timeline.map((entry) => `${entry.at} ${entry.event}: ${describeEntry(entry)}`.slice(0, maxLineLength));
  if (lines.length <= maxTimelineLines) return lines;
  const tail = maxTimelineLines - timelineHead - 1;
  const left = lines.length - timelineHead - tail;
  return [...lines.slice(0, timelineHead), `… ${left} entries left out; the escalation's page has them all`, ...lines.slice(-tail)];
}

/** The ticket system answered: the state keeps the first ticket, the timeline says what happened. */
export function ticketAnswered(run: Run, event: Extract<EngineEvent, { kind: 'ticket-opened' | 'ticket-failed' }>): void {
  if (event.kind === 'ticket-failed') return run.log({ event: 'ticket-failed', system: event.system, error: event.error });
  if (run.s.ticket) return;
  run.s.ticket = { system: event.system, key: event.key, url: event.url };
  run.log({ event: 'ticket-opened', system: event.system, key: event.key, url: event.url, transition: event.transition });
}
