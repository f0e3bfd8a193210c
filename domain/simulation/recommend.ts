import type { ModelName } from '../escalation.js';
import type { ModelRun } from './report.js';
import { modelNames } from './variants.js';

/** The decision checklist's questions, answered (the guide's, plus the approvals a gate needs). */
export interface ChecklistAnswers {
  /** Engineers on the team. */
  teamSize: number;
  /** Gate failures that need a person, per day. */
  failuresPerDay: number;
  /** Distinct people who must approve (2 or more: separation of duties). */
  approvals: number;
  /** A regulator or auditor wants an ordered sign-off with a full trail. */
  regulated: boolean;
  /** Who answers outside working hours. */
  onCall: 'none' | 'business-hours' | '24x7';
  /** CODEOWNERS (or similar) says who owns which code. */
  codeowners: boolean;
  /** Months of gate outcomes already recorded. */
  historyMonths: number;
  /** What an hour of a blocked gate costs. */
  costPerHour: number;
}

/** One checklist answer and what it did to the models. */
export interface Reason {
  /** The answer, as the user gave it: "team size 8". */
  answer: string;
  /** The checklist line it was judged by, quoted. */
  checklist: string;
  /** Points per model this answer gave (negative: counts against). */
  points: Partial<Record<ModelName, number>>;
}

export interface Recommendation {
  model: ModelName;
  /** Checklist points per model; ruled-out models keep theirs for the record. */
  scores: Record<ModelName, number>;
  reasons: Reason[];
  ruledOut: Array<{ model: ModelName; answer: string; why: string }>;
  /** Where the simulation chose between models the checklist left level, or disagrees with it. */
  notes: string[];
}

const quotes = {
  teamSize: 'Team size: If fewer than 10 engineers, start with sequential; 10–30, try parallel; 30+, consider dynamic.',
  frequency: 'Deployment frequency: If more than once per day, avoid sequential; if less than weekly, sequential is fine.',
  compliance: 'Compliance requirements: If regulated, sequential with full audit trail is often required; consult legal.',
  data: 'Data maturity: If you have no historical gate data, start with sequential or parallel; collect data for 3 months before implementing dynamic.',
  quorum: "Define quorum rules: for a 'pass' decision, require at least 2 approvals from 3 reviewers.",
  onCallNone: 'Ensure that the system respects working hours and on-call rotations; the dynamic gate routes by time of day.',
  onCallFull: "Implement a 'quiet hours' policy where parallel gates only notify the primary on-call person during nights and weekends.",
  costHigh: 'A team that loses $10,000 per hour of downtime should prioritize low-latency escalation.',
  costLow: 'A team with $500 per hour may accept slower, more thorough reviews.',
};

/**
 * The guide's decision checklist as arithmetic: each answer gives points to the models its checklist
 * line favours and takes them from those it warns against; some answers rule a model out. The highest
 * score that is not ruled out wins; a tie goes to the simulation's lower cost of delay (then its p90),
 * and failing that to the simpler model, as the guide says to start simple and loosen later.
 */
export function recommend(answers: ChecklistAnswers, simulated: readonly ModelRun[] = []): Recommendation {
  const reasons: Reason[] = [];
  const ruledOut: Recommendation['ruledOut'] = [];
  const add = (answer: string, checklist: string, points: Reason['points']) => reasons.push({ answer, checklist, points });

  const size = `team size ${answers.teamSize}`;
  if (answers.teamSize < 10) add(size, quotes.teamSize, { sequential: 2 });
  else if (answers.teamSize <= 30) add(size, quotes.teamSize, { parallel: 2 });
  else add(size, quotes.teamSize, { dynamic: 2 });

  const rate = `${round(answers.failuresPerDay)} failures a day`;
  if (answers.failuresPerDay > 1) add(rate, quotes.frequency, { sequential: -2, parallel: 1, dynamic: 1 });
  else if (answers.failuresPerDay < 1 / 7) add(rate, quotes.frequency, { sequential: 1 });

  if (answers.regulated) add('regulated', quotes.compliance, { sequential: 3 });
  if (answers.approvals >= 2) {
    const approvals = `${answers.approvals} approvals needed`;
    add(approvals, quotes.quorum, { sequential: 1, parallel: 1 });
    ruledOut.push({ model: 'dynamic', answer: approvals, why: "routing hands the failure to the best-placed reviewer and the engine ends it at their decision, so it cannot collect several approvals (or keep duties separate)" });
  }

  const data = `${answers.codeowners ? 'code ownership known' : 'no code-ownership data'}, ${answers.historyMonths} month(s) of gate history`;
  if (!answers.codeowners || answers.historyMonths < 3) ruledOut.push({ model: 'dynamic', answer: data, why: quotes.data });
  else add(data, quotes.data, { dynamic: 1 });

  if (answers.onCall === 'none') add('no on-call', quotes.onCallNone, { sequential: -1, parallel: 1, dynamic: 1 });
  else if (answers.onCall === '24x7') add('on call around the clock', quotes.onCallFull, { parallel: 1 });

  const cost = `${answers.costPerHour.toLocaleString('en-US')} an hour of delay`;
  if (answers.costPerHour >= 5000) add(cost, quotes.costHigh, { sequential: -1, parallel: 2, dynamic: 2 });
  else if (answers.costPerHour <= 1000) add(cost, quotes.costLow, { sequential: 1 });

  const scores = Object.fromEntries(modelNames.map((model) => [model, reasons.reduce((sum, reason) => sum + (reason.points[model] ?? 0), 0)])) as Record<ModelName, number>;
  const allowed = modelNames.filter((model) => !ruledOut.some((out) => out.model === model));
  const best = Math.max(...allowed.map((model) => scores[model]));
  const tied = allowed.filter((model) => scores[model] === best);
  const notes: string[] = [];
  let model = tied[0]!;
  const ranked = rankBySimulation(tied, simulated);
  if (tied.length > 1 && ranked) {
    model = ranked[0]!;
    notes.push(`the checklist leaves ${tied.join(' and ')} level (${best} point${best === 1 ? '' : 's'} each); the simulation's ${delayMeasure(simulated)} decides for ${model}`);
  }
  const fastest = rankBySimulation(allowed, simulated)?.[0];
  if (fastest && fastest !== model) notes.push(`the simulation resolves failures fastest with ${fastest} (${delayMeasure(simulated)}); weigh that against the checklist's reasons for ${model}`);
  return { model, scores, reasons, ruledOut, notes };
}

/** The models ordered by the simulated cost of delay, or by p90 where delay has no price; null without runs. */
function rankBySimulation(models: readonly ModelName[], runs: readonly ModelRun[]): ModelName[] | null {
  const measured = models.flatMap((model) => {
    const run = runs.find((r) => r.model === model);
    return run ? [{ model, delay: delayOf(run) }] : [];
  });
  if (measured.length !== models.length || measured.length === 0) return null;
  return [...measured].sort((a, b) => a.delay - b.delay || modelNames.indexOf(a.model) - modelNames.indexOf(b.model)).map((m) => m.model);
}

function delayOf(run: ModelRun): number {
  return run.gates.reduce((sum, gate) => sum + (gate.costOfDelay?.total || gate.resolution.p90Ms || 0), 0);
}

function delayMeasure(runs: readonly ModelRun[]): string {
  return runs.some((run) => run.gates.some((gate) => gate.costOfDelay?.total)) ? 'lower cost of delay' : 'lower p90 time to resolution';
}

function round(value: number): string {
  return value >= 10 ? value.toFixed(0) : value.toFixed(value >= 1 ? 1 : 2).replace(/\.?0+$/, '');
}
