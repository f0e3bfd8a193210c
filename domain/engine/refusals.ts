import { breakGlassRefusal, type Refusal, reassignRefusal, refusalOf as decisionRefusalOf } from '../escalation.js';
import type { EngineEvent } from './events.js';
import { overrideAllowed, votedIn } from './models.js';
import type { EscalationState } from './state.js';
import { awaitedReviewers, decidedEarlier } from './view.js';

/**
 * Why a message must not count now, or `undefined` when it may. The workflow's update validators
 * ask this before anything reaches history; `step` asks it again and ignores a refused event, so a
 * second vote in the same activation (validated before the first was counted) changes nothing.
 */
export function refusalOf(s: EscalationState, event: EngineEvent): Refusal | undefined {
  const author = s.failure.change.author;
  const people = s.plan?.people ?? {};
  switch (event.kind) {
    case 'decided':
      return decisionRefusalOf(
        {
          status: s.status,
          awaitedReviewers: awaitedReviewers(s),
          author,
          people,
          requireComment: s.plan?.requireComment ?? null,
          voted: votedIn(s.model),
          overrideAllowed: overrideAllowed(s.model),
          decidedEarlier: decidedEarlier(s),
        },
        event.request,
      );
    case 'acknowledged':
      if (s.status === 'ended') return { code: 'EscalationEnded', message: 'the escalation has ended' };
      if (!awaitedReviewers(s).includes(event.request.reviewer)) return { code: 'NotAwaitedReviewer', message: `${event.request.reviewer} is not a reviewer this escalation is waiting on` };
      return undefined;
    case 'reassigned':
      return reassignRefusal(
        {
          status: s.status,
          awaitedReviewers: awaitedReviewers(s),
          leads: s.plan?.tiers.flatMap((tier) => (tier.lead ? [tier.lead] : [])) ?? [],
          author,
          people,
          decidedEarlier: decidedEarlier(s),
          voted: votedIn(s.model),
        },
        event.request,
      );
    case 'break-glass':
      // The rollback request has gone out: an override now would record an outcome that did not happen.
      if (s.status === 'rolling-back') return { code: 'EscalationEnded', message: 'a rollback is under way; there is nothing left to override' };
      return breakGlassRefusal({ status: s.status, holders: s.plan?.breakGlass.holders ?? [], author, people }, event.request);
    case 'withdrawn':
      if (s.status === 'ended') return { code: 'EscalationEnded', message: 'the escalation has ended; it can no longer be withdrawn' };
      if (s.status === 'rolling-back') return { code: 'EscalationEnded', message: 'a rollback is under way; the escalation can no longer be withdrawn' };
      return undefined;
    default:
      return undefined;
  }
}
