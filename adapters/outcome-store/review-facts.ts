import type { Channel, Decision, DecisionKind, TimelineEntry } from '../../domain/escalation.js';

export interface DecisionFact {
  seq: number;
  reviewer: string;
  decision: DecisionKind;
  channel: Channel;
  comment: string | null;
  step: number;
  /** Since when the reviewer had been awaited when they decided; null if that is not in the timeline. */
  askedAt: string | null;
  decidedAt: string;
  responseMs: number | null;
}

export interface ReviewFacts {
  decisions: DecisionFact[];
  /** Who the escalation awaits after its last entry, and since when. */
  awaiting: Array<{ reviewer: string; since: string }>;
  /** The depth of the last entry that carries one, or null if none does. */
  depth: number | null;
}

/**
 * What the decision and load tables hold for one escalation, from its timeline in seq order. A
 * function of the timeline alone (plus the decisions, for comments), so recomputing it after any
 * batch gives the same answer however the entries were batched, retried or delayed.
 *
 * Awaiting: an `assigned` entry replaces the set, but a reviewer it lists again keeps their
 * `since` (a parallel hand-off re-lists everyone still waited on); a `reassigned` entry moves the
 * wait from `from` to `to`; a reviewer who decides leaves it; `exhausted` and `ended` empty it. An
 * on-call standing in during quiet hours joins it, until the quiet hours end or the next assignment.
 *
 * Decisions: one per `decided` entry, and one `override` per `break-glass`; each is asked at the
 * reviewer's `since` when they decided. A break-glass holder who was not awaited has no response time.
 */
export function reviewFacts(timeline: ReadonlyArray<{ seq: number; entry: TimelineEntry }>, decisions: readonly Decision[]): ReviewFacts {
  let awaiting = new Map<string, string>();
  // Only for a timeline with gaps: a decision whose reviewer is not in the set at all.
  const lastAssignedAt = new Map<string, string>();
  let depth: number | null = null;
  const facts: DecisionFact[] = [];

  for (const { seq, entry } of timeline) {
    switch (entry.event) {
      case 'assigned':
        awaiting = new Map(entry.reviewers.map((reviewer) => [reviewer, awaiting.get(reviewer) ?? entry.at]));
        for (const reviewer of entry.reviewers) lastAssignedAt.set(reviewer, entry.at);
        depth = entry.depth;
        break;
      case 'reassigned':
        for (const reviewer of entry.from) awaiting.delete(reviewer);
        if (!awaiting.has(entry.to)) awaiting.set(entry.to, entry.at);
        lastAssignedAt.set(entry.to, entry.at);
        depth = entry.depth;
        break;
      case 'decided': {
        const match = matchingDecision(decisions, { reviewer: entry.reviewer, decision: entry.decision, at: entry.at, step: entry.step });
        const askedAt = awaiting.get(entry.reviewer) ?? lastAssignedAt.get(entry.reviewer) ?? null;
        facts.push(fact(seq, entry.reviewer, entry.decision, entry.channel, match?.comment ?? null, entry.step, askedAt, entry.at));
        awaiting.delete(entry.reviewer);
        break;
      }
      case 'break-glass': {
        const match = matchingDecision(decisions, { reviewer: entry.by, decision: 'override', at: entry.at });
        facts.push(fact(seq, entry.by, 'override', entry.channel, match?.comment ?? entry.justification, match?.step ?? 0, awaiting.get(entry.by) ?? null, entry.at));
        break;
      }
      case 'quiet-hours':
        // The on-call standing in for held reviewers is awaited with them, as the escalation's state says.
        if (entry.standIn && !awaiting.has(entry.standIn)) awaiting.set(entry.standIn, entry.at);
        break;
      case 'quiet-hours-ended':
        for (const reviewer of entry.released) awaiting.delete(reviewer);
        break;
      case 'handed-off':
      case 'renotified':
      case 'fallback':
        depth = entry.depth;
        break;
      case 'exhausted':
        depth = entry.depth;
        awaiting = new Map();
        break;
      case 'ended':
        awaiting = new Map();
        break;
    }
  }
  return { decisions: facts, awaiting: [...awaiting].map(([reviewer, since]) => ({ reviewer, since })), depth };
}

function fact(seq: number, reviewer: string, decision: DecisionKind, channel: Channel, comment: string | null, step: number, askedAt: string | null, decidedAt: string): DecisionFact {
  const responseMs = askedAt === null ? null : Date.parse(decidedAt) - Date.parse(askedAt);
  return { seq, reviewer, decision, channel, comment, step, askedAt, decidedAt, responseMs };
}

/** The decision an entry logged: same reviewer, verdict (and step) at the same instant, else the only such decision. */
function matchingDecision(decisions: readonly Decision[], wanted: { reviewer: string; decision: DecisionKind; at: string; step?: number }): Decision | undefined {
  const candidates = decisions.filter((d) => d.reviewer === wanted.reviewer && d.decision === wanted.decision && (wanted.step === undefined || d.step === wanted.step));
  return candidates.find((d) => Date.parse(d.at) === Date.parse(wanted.at)) ?? (candidates.length === 1 ? candidates[0] : undefined);
}
