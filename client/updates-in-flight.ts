/**
 * How many updates this process keeps in flight per escalation; the rest wait here, first come
 * first served. Temporal admits at most 10 updates in flight per workflow (the server's
 * `history.maxInFlightUpdates`); beyond that it answers RESOURCE_EXHAUSTED, and a crowd of resends
 * keeps the workflow's update tasks failing and starting over: 100 votes sent at once to one
 * escalation took 78 s on two loaded cores, and more than 180 s in CI, against 2.3 s when at most 8
 * were in flight (`npx vitest run test/concurrency.test.ts -t "100 simultaneous"` with both cores
 * busy). Eight leaves room for a second process, and votes still race each other at the workflow.
 */
export const defaultUpdatesInFlightPerEscalation = 8;

export class UpdatesInFlight {
  private readonly lanes = new Map<string, { running: number; waiting: Array<() => void> }>();

  constructor(readonly perEscalation = defaultUpdatesInFlightPerEscalation) {
    if (!Number.isInteger(perEscalation) || perEscalation < 1) throw new RangeError(`updates in flight per escalation must be a whole number ≥ 1, got ${perEscalation}`);
  }

  /** Runs `send` once fewer than `perEscalation` of this escalation's updates are in flight. */
  async run<T>(escalationId: string, send: () => Promise<T>): Promise<T> {
    const lane = this.lanes.get(escalationId) ?? { running: 0, waiting: [] };
    this.lanes.set(escalationId, lane);
    if (lane.running >= this.perEscalation) await new Promise<void>((resolve) => lane.waiting.push(resolve));
    else lane.running++;
    try {
      return await send();
    } finally {
      // The freed place passes straight to the next in line, so `running` never dips below the queue.
      const next = lane.waiting.shift();
      if (next) next();
      else if (--lane.running === 0) this.lanes.delete(escalationId);
    }
  }

  /** Updates in flight and waiting for one escalation (for tests and diagnostics). */
  load(escalationId: string): { running: number; waiting: number } {
    const lane = this.lanes.get(escalationId);
    return { running: lane?.running ?? 0, waiting: lane?.waiting.length ?? 0 };
  }
}
