import { ownership } from '../codeowners.js';
import type { RoutingDecision } from '../engine/events.js';
import type { DynamicPlan } from '../escalation-plan.js';
import type { GateFailure } from '../gate-failure.js';
import { routingDecision } from '../routing.js';

/**
 * Dynamic routing inside the simulation: the same scoring (domain/routing.ts) and CODEOWNERS shares
 * (domain/codeowners.ts) as the worker's router, fed by an outcome store the simulation keeps itself.
 * The store starts empty, as on the day a team adopts Escalator, so the first escalations of each gate
 * and service run the cold-start model: `routingDecision` decides, as it does for the worker.
 */
export class SimulatedRouter {
  private readonly endedByGate = new Map<string, number>();
  private readonly endedByService = new Map<string, number>();
  /** Each reviewer's response times so far, kept sorted for the median. */
  private readonly responses = new Map<string, number[]>();
  private readonly owned = new Map<string, Record<string, number>>();

  /** Ended escalations of the gate so far: the ordinal that rotates a parallel primary, too. */
  ended(gate: string): number {
    return this.endedByGate.get(gate) ?? 0;
  }

  recordEnd(gate: string, service: string): void {
    this.endedByGate.set(gate, this.ended(gate) + 1);
    this.endedByService.set(service, (this.endedByService.get(service) ?? 0) + 1);
  }

  /** A decision that counted, `ms` after the reviewer was first asked (the store's response time). */
  recordResponse(reviewer: string, ms: number): void {
    let sorted = this.responses.get(reviewer);
    if (!sorted) this.responses.set(reviewer, (sorted = []));
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]! <= ms) lo = mid + 1;
      else hi = mid;
    }
    sorted.splice(lo, 0, ms);
  }

  /** Routes as the worker would, given how many escalations under way await each person (`load`). */
  route(plan: DynamicPlan, failure: GateFailure, load: ReadonlyMap<string, number>): RoutingDecision {
    return routingDecision({
      plan,
      failure,
      history: { gate: this.ended(failure.gate.name), service: this.endedByService.get(failure.service) ?? 0 },
      medianResponseMs: Object.fromEntries(plan.candidates.map((id) => [id, median(this.responses.get(id))])),
      load: Object.fromEntries(plan.candidates.map((id) => [id, load.get(id) ?? 0])),
      ownership: plan.codeowners ? this.ownershipOf(plan.codeowners, failure.change.changedFiles, plan.people) : {},
    });
  }

  /** CODEOWNERS shares per change set: the same few change sets come back failure after failure. */
  private ownershipOf(codeowners: string, files: string[], people: DynamicPlan['people']): Record<string, number> {
    const key = `${codeowners}\u0000${files.join('\n')}`;
    let shares = this.owned.get(key);
    if (!shares) this.owned.set(key, (shares = ownership(codeowners, files, people)));
    return shares;
  }
}

/** As the outcome store computes it: the middle value, or the mean of the middle two. */
function median(sorted: number[] | undefined): number | null {
  if (!sorted?.length) return null;
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
