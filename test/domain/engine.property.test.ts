import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Effect, EngineEvent } from '../../domain/engine/events.js';
import { asksForDecision } from '../../domain/engine/notifications.js';
import { refusalOf } from '../../domain/engine/refusals.js';
import { awaitedReviewers, nextDeadline } from '../../domain/engine/view.js';
import { type DecisionKind, isAuthor } from '../../domain/escalation.js';
import type { EscalationPlan, Quorum } from '../../domain/escalation-plan.js';
import type { Severity } from '../../domain/gate-failure.js';
import { quorumResult, type Vote } from '../../domain/parallel-quorum.js';
import { EngineDriver, effectsOf, failureOf, MINUTE, notificationsOf, replay, snapshotOf, type StepRecord } from '../helpers/engine-driver.js';

// Random policies of each model, random authors and random event sequences, fed to the engine in
// time order; the properties below must hold after every event of every run.

// ENGINE_PROPERTY_RUNS=5000 searches longer, when hunting a bug; ENGINE_PROPERTY_SEED replays a reported seed.
const NUM_RUNS = Number(process.env.ENGINE_PROPERTY_RUNS ?? 200);
// One seed for every property: each sees the same runs, so a run is played once and checked by all.
const SEED = Number(process.env.ENGINE_PROPERTY_SEED ?? Date.now() % 2 ** 31);
const people = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'] as const;
const personIndex = fc.integer({ min: 0, max: people.length - 1 });
const someone = (minLength = 1, maxLength = 3) => fc.uniqueArray(personIndex, { minLength, maxLength });
const minutes = fc.integer({ min: 1, max: 60 });

// ---- policies ----

const personShape = fc.record({
  channels: fc.constantFrom('all', 'email', 'slack', 'email+slack'),
  slack: fc.boolean(),
  holdsBreakGlass: fc.boolean(),
  backup: fc.option(personIndex, { nil: null }),
});

const tierShape = fc.record({ reviewers: someone(), timeoutMinutes: minutes, lead: fc.option(personIndex, { nil: null }) });

const commonShape = fc.record({
  people: fc.array(personShape, { minLength: people.length, maxLength: people.length }),
  tiers: fc.array(tierShape, { maxLength: 3 }),
  maxDepth: fc.integer({ min: 1, max: 5 }),
  rollback: fc.boolean(),
  oneDecisionPerPerson: fc.boolean(),
  requireComment: fc.constantFrom('never', 'on-reject', 'always'),
  // Quiet hours anywhere in the day, or short ones around the start (09:00 UTC), which end while events still come.
  quiet: fc.option(
    fc.oneof(
      fc.record({ fromMinute: fc.integer({ min: 0, max: 1439 }), minutes: fc.integer({ min: 30, max: 720 }), onCall: personIndex }),
      fc.record({ fromMinute: fc.integer({ min: 8 * 60, max: 9 * 60 }), minutes: fc.integer({ min: 5, max: 120 }), onCall: personIndex }),
    ),
    { nil: null },
  ),
  securityNotify: someone(1, 2),
  pageFirstTier: fc.boolean(),
  severity: fc.constantFrom<Severity>('critical', 'high', 'medium', 'low'),
});

const stepShape = fc.record({ reviewers: someone(), backup: fc.option(someone(1, 2), { nil: null }), timeoutMinutes: minutes });

const modelShapes = {
  sequential: fc.record({ model: fc.constant('sequential' as const), steps: fc.array(stepShape, { minLength: 1, maxLength: 4 }), randomizeOrder: fc.boolean() }),
  parallel: fc.record({
    model: fc.constant('parallel' as const),
    reviewers: someone(1, 5),
    quorum: fc.record({ approve: fc.integer({ min: 1, max: 5 }), reject: fc.integer({ min: 1, max: 5 }), override: fc.option(fc.integer({ min: 1, max: 5 }), { nil: null }) }),
    acknowledgeMinutes: fc.option(minutes, { nil: null }),
    renotify: fc.integer({ min: 0, max: 3 }),
    decideMinutes: minutes,
    randomizeOrder: fc.boolean(),
  }),
  dynamic: fc.record({
    model: fc.constant('dynamic' as const),
    candidates: someone(1, 5),
    pick: fc.integer({ min: 1, max: 2 }),
    decideMinutes: minutes,
    coldStart: fc.constantFrom('sequential', 'parallel'),
    chain: fc.option(fc.array(stepShape, { minLength: 1, maxLength: 2 }), { nil: null }),
  }),
};

type ModelName = keyof typeof modelShapes;
type ShapeOf<A> = A extends fc.Arbitrary<infer T> ? T : never;
type CommonShape = ShapeOf<typeof commonShape>;
type GateShape = ShapeOf<(typeof modelShapes)[ModelName]>;

const names = (indices: readonly number[]) => `[${indices.map((i) => people[i]).join(', ')}]`;

function chainYaml(steps: ReadonlyArray<ShapeOf<typeof stepShape>>, indent: string): string {
  return steps.map((s) => `${indent}- { reviewers: ${names(s.reviewers)}, timeout: ${s.timeoutMinutes}m${s.backup ? `, backup: ${names(s.backup)}` : ''} }`).join('\n');
}

/** The policy YAML for one generated shape: one gate, named `gate`; parsed like any policy file. */
function policyYaml(common: CommonShape, gate: GateShape): string {
  const person = (id: string, i: number) => {
    const p = common.people[i]!;
    const channels = p.channels === 'all' ? '' : `, channels: [${p.channels.replace('+', ', ')}]`;
    const backup = p.backup !== null && p.backup !== i ? `, backup: ${people[p.backup]}` : '';
    return `  ${id}: { email: ${id}@example.com, handles: [${id}-gh]${p.slack ? `, slack: U0${id.toUpperCase()}` : ''}${channels}${p.holdsBreakGlass ? ', roles: [incident-commander]' : ''}${backup} }`;
  };
  const tiers = common.tiers.map((t, i) => `  t${i + 1}: { reviewers: ${names(t.reviewers)}, timeout: ${t.timeoutMinutes}m${t.lead !== null ? `, lead: ${people[t.lead]}` : ''} }`);
  const escalateTo = `[${common.tiers.map((_, i) => `t${i + 1}`).join(', ')}]`;
  const holders = common.people.some((p) => p.holdsBreakGlass);
  const quiet = common.quiet;
  const clock = (minute: number) => `"${String(Math.floor(minute / 60) % 24).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}"`;
  let gateYaml: string;
  if (gate.model === 'sequential') {
    gateYaml = `    model: sequential\n    randomizeOrder: ${gate.randomizeOrder}\n    chain:\n${chainYaml(gate.steps, '      ')}`;
  } else if (gate.model === 'parallel') {
    // The loader refuses a quorum larger than the group.
    const size = gate.reviewers.length;
    const q = gate.quorum;
    const override = q.override !== null ? `, override: ${Math.min(q.override, size)}` : '';
    gateYaml = [
      '    model: parallel',
      `    reviewers: ${names(gate.reviewers)}`,
      `    quorum: { approve: ${Math.min(q.approve, size)}, reject: ${Math.min(q.reject, size)}${override} }`,
      gate.acknowledgeMinutes !== null ? `    acknowledgeWithin: ${gate.acknowledgeMinutes}m` : '',
      `    renotify: ${gate.renotify}`,
      `    decideWithin: ${gate.decideMinutes}m`,
      `    randomizeOrder: ${gate.randomizeOrder}`,
    ]
      .filter(Boolean)
      .join('\n');
  } else {
    gateYaml = [
      '    model: dynamic',
      `    candidates: ${names(gate.candidates)}`,
      '    routeBy: [codeowners, load]',
      `    pick: ${gate.pick}`,
      `    decideWithin: ${gate.decideMinutes}m`,
      `    coldStart: { model: ${gate.coldStart}, minHistory: 0 }`,
      gate.chain ? `    chain:\n${chainYaml(gate.chain, '      ')}` : '',
    ]
      .filter(Boolean)
      .join('\n');
  }
  return [
    'version: 1',
    `defaults: { maxDepth: ${common.maxDepth}, requireComment: ${common.requireComment}, oneDecisionPerPerson: ${common.oneDecisionPerPerson} }`,
    'people:',
    ...people.map(person),
    'rotations:',
    `  primary: { members: [${people[quiet?.onCall ?? 0]}], handoff: weekly, start: 2026-01-05 }`,
    'tiers:',
    ...tiers,
    `  security: { reviewers: ${names(common.securityNotify)}, timeout: 1h }`,
    holders ? 'breakGlass: { roles: [incident-commander], notify: security }' : '',
    quiet ? `quietHours: { from: ${clock(quiet.fromMinute)}, to: ${clock(quiet.fromMinute + quiet.minutes)}, notify: primary-oncall-only, oncall: primary }` : '',
    common.pageFirstTier && common.tiers.length ? 'channels: { pageTiers: [t1] }' : '',
    'gates:',
    '  gate:',
    gateYaml,
    `    escalateTo: ${escalateTo}`,
    common.rollback ? '    onExhausted: { action: rollback, endpoint: "https://deploy.example.com/rollback" }' : '',
    '',
  ]
    .filter((line, i, lines) => line !== '' || i === lines.length - 1)
    .join('\n');
}

// ---- events ----

/** Who acts: someone awaited now, anyone at all (the author and a stranger included), or a tier lead. */
const actor = fc.record({ from: fc.constantFrom('awaited', 'awaited', 'anyone', 'lead'), index: fc.nat(20) });
type Actor = ShapeOf<typeof actor>;
const decision = fc.constantFrom<DecisionKind>('approve', 'approve', 'approve', 'approve', 'reject', 'reject', 'override');
const routeRecipe = fc.record({ kind: fc.constant('route' as const), coldStart: fc.boolean(), chosen: fc.uniqueArray(fc.nat(4), { minLength: 1, maxLength: 2 }), order: fc.array(fc.nat(100), { minLength: 5, maxLength: 5 }) });

// Withdrawals and recoveries end a run at once: rare, so most runs go on to deadlines, votes and hand-offs.
const recipe = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('decide' as const), actor, decision, comment: fc.boolean() }), weight: 16 },
  { arbitrary: fc.record({ kind: fc.constant('deadline' as const), when: fc.constantFrom('next', 'next', 'next', 'now') }), weight: 12 },
  { arbitrary: fc.record({ kind: fc.constant('acknowledge' as const), actor }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('reassign' as const), by: actor, to: fc.record({ from: fc.constantFrom('anyone', 'decided'), index: fc.nat(20) }) }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('break-glass' as const), by: actor, justified: fc.boolean() }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('withdraw' as const) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('recover' as const), runId: fc.boolean() }), weight: 1 },
  { arbitrary: routeRecipe, weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('route-failed' as const) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('rollback' as const), ok: fc.boolean() }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('slack-posted' as const), actor }), weight: 2 },
);
type Recipe = ShapeOf<typeof recipe>;
const timedRecipe = fc.record({ delayMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 20 * MINUTE })), recipe });

const authorShape = fc.oneof(
  fc.record({ kind: fc.constant('person' as const), index: personIndex, form: fc.constantFrom('id', 'handle', 'email', 'shouted email') }),
  fc.record({ kind: fc.constant('stranger' as const) }),
);

function authorOf(author: ShapeOf<typeof authorShape>): string {
  if (author.kind === 'stranger') return 'outsider-gh';
  const id = people[author.index]!;
  return { id, handle: `${id}-gh`, email: `${id}@example.com`, 'shouted email': `${id.toUpperCase()}@EXAMPLE.COM` }[author.form];
}

function scenario(model: ModelName) {
  return fc.record({
    common: commonShape,
    gate: modelShapes[model] as fc.Arbitrary<GateShape>,
    author: authorShape,
    seed: fc.nat(),
    reachable: fc.record({ slack: fc.boolean(), pagerduty: fc.boolean(), webhook: fc.constant(false) }),
    // A dynamic run usually hears from routing first; the others ignore it.
    opening: model === 'dynamic' ? fc.oneof({ arbitrary: routeRecipe, weight: 4 }, { arbitrary: fc.record({ kind: fc.constant('route-failed' as const) }), weight: 1 }) : fc.constant(null),
    // `size: 'max'` lets runs grow to the maximum length: long enough to reach the depth bound and the end of quiet hours.
    events: fc.array(timedRecipe, { maxLength: 40, size: 'max' }),
  });
}
type Scenario = ShapeOf<ReturnType<typeof scenario>>;

/** One run: the plan it ran, the author, and every step. */
interface Trace {
  plan: EscalationPlan;
  author: string;
  failure: ReturnType<typeof failureOf>;
  steps: StepRecord[];
}

function pick<T>(list: readonly T[], index: number): T | undefined {
  return list.length ? list[index % list.length] : undefined;
}

/** Turns a recipe into an event for the escalation as it stands (who is awaited, when the deadline is). */
function eventFor(recipe: Recipe, driver: EngineDriver, plan: EscalationPlan, author: string, at: number): EngineEvent {
  const state = driver.state;
  const anyone = [...people, author, 'outsider'];
  const who = (a: Actor) => {
    const leads = plan.tiers.flatMap((t) => (t.lead ? [t.lead] : []));
    const from = a.from === 'awaited' ? awaitedReviewers(state) : a.from === 'lead' ? leads : anyone;
    return pick(from, a.index) ?? pick(anyone, a.index)!;
  };
  const channel = 'http' as const;
  switch (recipe.kind) {
    case 'decide':
      return { kind: 'decided', at, request: { reviewer: who(recipe.actor), decision: recipe.decision, channel, ...(recipe.comment ? { comment: 'checked it' } : {}) } };
    case 'deadline': {
      const deadline = nextDeadline(state);
      return { kind: 'deadline-due', at: recipe.when === 'next' && deadline ? Math.max(at, deadline.at) : at };
    }
    case 'acknowledge':
      return { kind: 'acknowledged', at, request: { reviewer: who(recipe.actor), channel } };
    case 'reassign': {
      // Sometimes to someone who already decided: separation of duties must hold there too.
      const decided = state.decisions.map((d) => d.reviewer);
      const to = (recipe.to.from === 'decided' ? pick(decided, recipe.to.index) : undefined) ?? pick(anyone, recipe.to.index)!;
      return { kind: 'reassigned', at, request: { by: who(recipe.by), to, reason: 'busy', channel } };
    }
    case 'break-glass':
      return { kind: 'break-glass', at, request: { by: who(recipe.by), justification: recipe.justified ? 'production is down' : ' ', channel } };
    case 'withdraw':
      return { kind: 'withdrawn', at, request: { by: author, reason: 'superseded' } };
    case 'recover':
      return { kind: 'recovered', at, ...(recipe.runId ? { pipelineRunId: 'run-2' } : {}) };
    case 'route': {
      const candidates = plan.model === 'dynamic' ? plan.candidates : [...people];
      const ranked = [...candidates].sort((a, b) => (recipe.order[candidates.indexOf(a)] ?? 0) - (recipe.order[candidates.indexOf(b)] ?? 0));
      const chosen = [...new Set(recipe.chosen.map((i) => ranked[i % ranked.length]!))];
      return { kind: 'routing-answered', at, decision: { coldStart: recipe.coldStart, reason: 'generated', chosen, ranked, scores: chosen.map((person) => ({ person, score: 1, factors: {} })) } };
    }
    case 'route-failed':
      return { kind: 'routing-failed', at, error: 'outcome store unreachable' };
    case 'rollback':
      return recipe.ok ? { kind: 'rollback-done', at, endpoint: 'https://deploy.example.com/rollback', status: 200 } : { kind: 'rollback-failed', at, endpoint: 'https://deploy.example.com/rollback', error: 'HTTP 503' };
    case 'slack-posted': {
      const reviewer = who(recipe.actor);
      return { kind: 'slack-posted', at, reviewer, channel: `D0${reviewer}`, ts: `${at}.0`, step: 0 };
    }
  }
}

/** Plays a scenario; the driver deep-freezes every state before stepping it. */
function play(s: Scenario): Trace {
  const author = authorOf(s.author);
  const failure = failureOf({ gate: { name: 'gate', kind: 'custom' }, severity: s.common.severity, change: { sha: 'a1b2c3d', author, title: 'A change', url: 'https://git.example.com/pr/1', changedFiles: ['src/a.ts'] } });
  const snapshot = snapshotOf(policyYaml(s.common, s.gate), failure, { reachable: s.reachable });
  const driver = new EngineDriver(failure);
  driver.start(snapshot, s.seed);
  const recipes = [...(s.opening ? [{ delayMs: 0, recipe: s.opening }] : []), ...s.events];
  for (const { delayMs, recipe } of recipes) driver.send(eventFor(recipe, driver, snapshot.plan, author, driver.now + delayMs));
  return { plan: snapshot.plan, author, failure, steps: driver.steps };
}

type Decided = StepRecord & { event: Extract<EngineEvent, { kind: 'decided' }> };

const played = new Map<string, Trace>();

function traceOf(s: Scenario): Trace {
  const key = JSON.stringify(s);
  const trace = played.get(key) ?? play(s);
  played.set(key, trace);
  return trace;
}

const accepted = (record: StepRecord) => refusalOf(record.before, record.event) === undefined;
const isDecided = (record: StepRecord): record is Decided => record.event.kind === 'decided';
/** The decisions that counted, in order. */
const acceptedDecisions = (trace: Trace) => trace.steps.filter(isDecided).filter(accepted);
const last = (trace: Trace) => trace.steps.at(-1)!.after;

/** Quorum of the vote in force: the plan's, or the one-approval vote of a dynamic cold start. */
function quorumOf(plan: EscalationPlan): Quorum {
  return plan.model === 'parallel' ? plan.quorum : { approve: 1, override: null, reject: 1 };
}

/**
 * What counts one level of depth (models.ts, engine.ts): a timed-out holder handing the step to its
 * backup or the next tier, or a tier joining a vote (`handed-off`); a reminder round without an
 * acknowledgement (`renotified`); a reassignment (`reassigned`); dynamic routing falling back to its
 * chain (`fallback`). Nothing else does: not the first assignment, an approval moving to the next
 * step, the round that only stops reminders, quiet hours, nor exhaustion (a hand-off beyond the
 * maximum depth is not made, and not counted).
 */
const HAND_OFFS = ['handed-off', 'renotified', 'reassigned', 'fallback'] as const;

/** Each property: a name that states it, and a check that throws when a run breaks it. */
const properties: Array<{ name: string; models: ModelName[]; check: (trace: Trace) => void }> = [
  {
    name: 'step never writes to the state it is given (every input is deep-frozen)',
    models: ['sequential', 'parallel', 'dynamic'],
    // play() freezes each state before stepping it: a write throws a TypeError, which fails the run.
    check: (trace) => {
      expect(trace.steps.length).toBeGreaterThan(0);
    },
  },
  {
    name: "depth never exceeds the plan's maximum depth",
    models: ['sequential', 'parallel', 'dynamic'],
    check: (trace) => trace.steps.forEach((r) => expect(r.after.depth).toBeLessThanOrEqual(trace.plan.maxDepth)),
  },
  {
    name: 'exactly one outcome: once ended it never changes, stored once, one ended entry',
    models: ['sequential', 'parallel', 'dynamic'],
    check: (trace) => {
      const firstEnd = trace.steps.find((r) => r.after.status === 'ended');
      const stored = effectsOf(trace.steps.flatMap((r) => r.effects), 'store-outcome');
      const final = last(trace);
      expect(stored).toHaveLength(firstEnd ? 1 : 0);
      expect(final.timeline.filter((e) => e.event === 'ended')).toHaveLength(firstEnd ? 1 : 0);
      if (!firstEnd) {
        expect(final.outcome).toBeNull();
        return;
      }
      expect(stored[0]!.outcome).toEqual(firstEnd.after.outcome);
      for (const r of trace.steps.slice(trace.steps.indexOf(firstEnd))) {
        expect(r.after.status).toBe('ended');
        expect(r.after.outcome).toEqual(firstEnd.after.outcome);
      }
    },
  },
  {
    name: 'the author never approves or overrides, by decision or break-glass',
    models: ['sequential', 'parallel', 'dynamic'],
    check: (trace) => {
      const byAuthor = last(trace).decisions.filter((d) => d.decision !== 'reject' && isAuthor(trace.plan.people[d.reviewer], d.reviewer, trace.author));
      expect(byAuthor).toEqual([]);
    },
  },
  {
    name: 'one vote per reviewer in a vote, and one decision per person where the policy says so',
    models: ['sequential', 'parallel', 'dynamic'],
    check: (trace) => {
      const votes = acceptedDecisions(trace)
        .filter((r) => r.before.model?.kind === 'parallel')
        .map((r) => r.event.request.reviewer);
      expect(votes).toEqual([...new Set(votes)]);
      if (trace.plan.oneDecisionPerPerson === false) return;
      // Break-glass is an override of the whole escalation, recorded as a decision but not one of its steps.
      const deciders = acceptedDecisions(trace).map((r) => r.event.request.reviewer);
      expect(deciders).toEqual([...new Set(deciders)]);
    },
  },
  {
    name: 'a vote ends exactly when the accepted votes reach a quorum, with the outcome quorumResult gives',
    models: ['parallel', 'dynamic'],
    check: (trace) => {
      let votes = new Map<string, Vote>();
      for (const r of trace.steps) {
        if (r.after.model?.kind !== 'parallel') continue;
        if (r.before.model?.kind !== 'parallel') votes = new Map();
        if (r.event.kind !== 'decided' || !accepted(r)) continue;
        votes.set(r.event.request.reviewer, r.event.request.decision);
        expect(r.after.model.votes).toEqual(Object.fromEntries(votes));
        const expected = quorumResult(votes, quorumOf(trace.plan));
        if (expected) expect(r.after.outcome).toMatchObject({ outcome: expected.kind, reason: expected.reason });
        else expect(r.after.status).toBe('waiting');
      }
    },
  },
  {
    name: 'nobody outside the awaited set decides, and a refused event changes nothing and asks for nothing',
    models: ['sequential', 'parallel', 'dynamic'],
    check: (trace) => {
      for (const r of trace.steps) {
        if (!accepted(r)) {
          expect(r.after).toEqual(r.before);
          expect(r.effects).toEqual([]);
        } else if (r.event.kind === 'decided' || r.event.kind === 'acknowledged') {
          expect(awaitedReviewers(r.before)).toContain(r.event.request.reviewer);
        }
      }
    },
  },
  {
    name: 'every hand-off is counted: depth is the number of handed-off, renotified, reassigned and fallback entries, each numbered in turn',
    models: ['sequential', 'parallel', 'dynamic'],
    check: (trace) => {
      for (const r of trace.steps) {
        const handOffs = r.after.timeline.filter((e): e is Extract<typeof e, { event: (typeof HAND_OFFS)[number] }> => (HAND_OFFS as readonly string[]).includes(e.event));
        expect(r.after.depth).toBe(handOffs.length);
        expect(handOffs.map((e) => e.depth)).toEqual(handOffs.map((_, i) => i + 1));
      }
    },
  },
  {
    name: 'the engine is deterministic: the same events give the same states and effects',
    models: ['sequential', 'parallel', 'dynamic'],
    check: (trace) => {
      const again = replay(trace.failure, trace.steps.map((r) => r.event));
      expect(again.map((r) => [r.after, r.effects])).toEqual(trace.steps.map((r) => [r.after, r.effects]));
    },
  },
  {
    name: 'a decision request or reminder goes only to someone awaited once the event is handled',
    models: ['sequential', 'parallel', 'dynamic'],
    check: (trace) => {
      for (const r of trace.steps) {
        const asked = notificationsOf(r.effects).filter((n) => asksForDecision(n.purpose)).map((n) => n.reviewer.id);
        const awaited = awaitedReviewers(r.after);
        expect(asked.filter((id) => !awaited.includes(id)), `asked but not awaited after ${r.event.kind}`).toEqual([]);
      }
    },
  },
  {
    name: 'whoever is awaited has been asked to decide, or is held back by quiet hours',
    models: ['sequential', 'parallel', 'dynamic'],
    check: (trace) => {
      const asked = new Set<string>();
      for (const r of trace.steps) {
        notificationsOf(r.effects)
          .filter((n) => asksForDecision(n.purpose))
          .forEach((n) => asked.add(n.reviewer.id));
        const unasked = awaitedReviewers(r.after).filter((id) => !asked.has(id) && !(id in r.after.held));
        expect(unasked, `awaited but never asked after ${r.event.kind}`).toEqual([]);
      }
    },
  },
  {
    name: 'the last index and set-deadline effects describe the state: the search attributes and the timer never go stale',
    models: ['sequential', 'parallel', 'dynamic'],
    check: (trace) => {
      let index: Extract<Effect, { kind: 'index' }> | undefined;
      let deadline: number | null = null;
      for (const r of trace.steps) {
        index = effectsOf(r.effects, 'index').at(-1) ?? index;
        const timer = effectsOf(r.effects, 'set-deadline').at(-1);
        if (timer) deadline = timer.at;
        const s = r.after;
        expect(index, `after ${r.event.kind}`).toEqual({ kind: 'index', status: s.status, depth: s.depth, awaited: awaitedReviewers(s), model: s.plan?.model ?? null, outcome: s.outcome?.outcome ?? null });
        expect(deadline, `after ${r.event.kind}`).toBe(nextDeadline(s)?.at ?? null);
      }
    },
  },
  {
    name: 'every message has its own Message-ID or Slack dedupe key',
    models: ['sequential', 'parallel', 'dynamic'],
    check: (trace) => {
      const ids = notificationsOf(trace.steps.flatMap((r) => r.effects)).map((n) => n.messageId);
      expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
    },
  },
];

for (const model of ['sequential', 'parallel', 'dynamic'] as const) {
  describe(`engine properties: ${model}`, () => {
    for (const property of properties.filter((p) => p.models.includes(model))) {
      it(property.name, () => {
        fc.assert(
          fc.property(scenario(model), (s) => {
            property.check(traceOf(s));
          }),
          { numRuns: NUM_RUNS, seed: SEED },
        );
      });
    }
  });
}
