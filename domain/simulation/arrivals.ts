import type { GateFailure, Severity } from '../gate-failure.js';
import { severities } from '../gate-failure.js';
import { parseWorkingHours, type WorkingHours } from '../schedule.js';
import { exponentialGap, hashText, pickWeighted, type Random, randomStream, streamSeed } from './random.js';
import { HoursClock, zoneClock } from './schedule-cache.js';
import type { GateArrivals, Team } from './team.js';

const WEEK_MINUTES = 7 * 1440;

/** One gate's failure process: when the next failure comes, and what it looks like. */
interface GateSource {
  gate: string;
  spec: GateArrivals;
  gaps: Random;
  /** The rate candidates are drawn at; `during` keeps the share of them that falls in its hours. */
  drawRate: number;
  during: HoursClock | null;
}

/**
 * Gate failures as Poisson processes, one per gate of the team file. Arrival times come from one
 * stream per gate and each failure's details from a stream of its own, so they are the same whichever
 * model runs. With `during`, failures arrive only in those hours (on the policy's clock) and the rate
 * stays per calendar day: candidates are drawn faster and those outside the hours dropped (thinning).
 */
export class Arrivals {
  private readonly sources: GateSource[];

  constructor(
    team: Team,
    policyTimeZone: string,
    private readonly seed: number,
  ) {
    this.sources = Object.entries(team.failures).map(([gate, spec]) => {
      const hours = spec.during ? parseWorkingHours(spec.during) : null;
      return {
        gate,
        spec,
        gaps: randomStream(streamSeed(seed, 1, hashText(gate))),
        drawRate: hours ? spec.rate / weeklyShare(hours) : spec.rate,
        during: hours ? new HoursClock(hours, zoneClock(policyTimeZone)) : null,
      };
    });
  }

  get gateCount(): number {
    return this.sources.length;
  }

  gateName(gateIndex: number): string {
    return this.sources[gateIndex]!.gate;
  }

  /** The first arrival of the gate strictly after `after`. */
  next(gateIndex: number, after: number): number {
    const source = this.sources[gateIndex]!;
    let at = after;
    // Bounded in practice: `during` covers a positive share of the week, so some candidate lands in it.
    for (;;) {
      at += exponentialGap(source.drawRate, source.gaps);
      if (!source.during || source.during.isWorking(at)) return at;
    }
  }

  /** The `n`th failure of the gate (0-based), arriving at `at`. */
  failure(gateIndex: number, n: number, at: number): GateFailure {
    const { gate, spec } = this.sources[gateIndex]!;
    const random = randomStream(streamSeed(this.seed, 2, hashText(gate), n));
    const severity = pickWeighted(
      severities.map((value) => ({ value: value as Severity, weight: spec.severity[value] ?? 0 })),
      random,
    );
    const service = spec.services[Math.floor(random() * spec.services.length)]!;
    const author = spec.authors[Math.floor(random() * spec.authors.length)]!;
    const files = spec.changes.length ? pickWeighted(spec.changes.map((change) => ({ value: change.files, weight: change.weight })), random) : [];
    const hotfix = random() < spec.hotfix;
    const rollback = random() < spec.rollback;
    const id = `sim-${gateIndex}-${n}`;
    return {
      gate: { name: gate, kind: spec.kind },
      service,
      repository: 'simulated/repository',
      severity,
      change: { sha: (0x1000000 + n).toString(16), author, title: `simulated failure ${n + 1} of ${gate}`, url: 'https://simulation.invalid/change', changedFiles: files },
      pipelineRun: { id, url: 'https://simulation.invalid/run' },
      occurredAt: new Date(at).toISOString(),
      hotfix,
      rollback,
      idempotencyKey: id,
    };
  }
}

/** The share of a week the hours cover, from their spans (a DST day's extra or missing hour aside). */
function weeklyShare(hours: WorkingHours): number {
  const minutes = hours.spans.reduce((sum, span) => {
    const length = span.endMinute > span.startMinute ? span.endMinute - span.startMinute : span.endMinute + 1440 - span.startMinute;
    return sum + length * span.days.length;
  }, 0);
  return Math.min(1, minutes / WEEK_MINUTES);
}
