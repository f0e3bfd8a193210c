import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type GateFailureInput, gateFailureSchema } from '../../domain/gate-failure.js';
import type { Policy, PolicyRule } from '../../domain/policy.js';
import { parsePolicy } from '../../domain/policy-parser.js';
import { describeWhen, firstMatchingRule, ruleVerdicts } from '../../domain/rule-conditions.js';
import { gateFailure } from '../helpers/gate-failure.js';

// Friday 27 November 2026, 10:00 UTC: within the business hours below.
const friday = new Date('2026-11-27T10:00:00Z');

const { policy: teams } = parsePolicy(
  `version: 1
businessHours: Mon-Fri 09:00-18:00
codeowners: |
  *                @acme/platform
  src/basket/      @acme/checkout
  src/payments/    @acme/payments
  src/shared/      @acme/checkout @acme/payments
  src/checkout-ui/ @ACME/Checkout
  docs/            @carol-gh
  src/promotions/  dana@example.com
  vendor/          @stranger
  generated/
people:
  alice: { email: alice@example.com, handles: [alice-gh], team: checkout, seniority: senior, roles: [lead] }
  bob:   { email: bob@example.com, team: payments, seniority: junior, roles: [developer] }
  carol: { email: carol@example.com, handles: [carol-gh], team: checkout }
  dana:  { email: dana@example.com, seniority: staff }
  erin:  { email: erin@example.com, team: platform, seniority: staff, roles: [sre] }
gates:
  "*": { model: sequential, chain: [{ reviewers: [alice], timeout: 1h }] }
  unit-tests:
    model: dynamic
    candidates: [alice, bob]
    routeBy: [codeowners]
    decideWithin: 30m
    codeowners: "* @acme/qa"
`,
  'teams.yaml',
);

function failure(overrides: { author?: string; changedFiles?: string[]; gate?: string } & Omit<Partial<GateFailureInput>, 'gate' | 'change'> = {}) {
  const { author = 'mallory', changedFiles = [], gate = 'build', ...rest } = overrides;
  return gateFailureSchema.parse(gateFailure({ gate: { name: gate, kind: 'tests' }, change: { ...gateFailure().change, author, changedFiles }, ...rest }));
}

/** The verdict of a single rule with these conditions. */
function judge(when: PolicyRule['when'], overrides: Parameters<typeof failure>[0] = {}, policy: Policy = teams) {
  return ruleVerdicts({ ...policy, rules: [{ when, use: {} }] }, failure(overrides), friday)[0]!;
}

describe('crossTeam: the changed files have owners in more than one team', () => {
  const per = "per the policy's CODEOWNERS";
  it.each([
    { files: ['src/basket/totals.ts'], holds: false, text: `crossTeam is false (only team checkout owns the changed files, ${per}), the rule wants true` },
    { files: ['src/basket/totals.ts', 'src/payments/card.ts'], holds: true, text: `crossTeam is true (teams checkout, payments own the changed files, ${per})` },
    { files: ['src/shared/money.ts'], holds: true, text: `crossTeam is true (teams checkout, payments own the changed files, ${per})` },
    { files: ['README.md', 'src/basket/totals.ts'], holds: true, text: `crossTeam is true (teams checkout, platform own the changed files, ${per})` },
    // carol owns docs/ as a person; the policy puts her in checkout, the team that owns src/basket/.
    { files: ['src/basket/totals.ts', 'docs/basket.md'], holds: false, text: `crossTeam is false (only team checkout owns the changed files, ${per}), the rule wants true` },
    // Team slugs compare case-insensitively, as GitHub's do.
    { files: ['src/basket/totals.ts', 'src/checkout-ui/cart.tsx'], holds: false, text: `crossTeam is false (only team checkout owns the changed files, ${per}), the rule wants true` },
    { files: ['src/basket/totals.ts', 'generated/api.ts'], holds: false, text: `crossTeam is false (only team checkout owns the changed files, ${per}), the rule wants true` },
    {
      files: ['src/basket/totals.ts', 'vendor/left-pad.js', 'src/promotions/codes.ts'],
      holds: false,
      text: `crossTeam is false (only team checkout owns the changed files, not counting @stranger, dana@example.com, who have no team in the policy, ${per}), the rule wants true`,
    },
    { files: [], holds: false, text: `crossTeam is false (no team owns a changed file, ${per}), the rule wants true` },
  ])('$files → $holds', ({ files, holds, text }) => {
    const verdict = judge({ crossTeam: true }, { changedFiles: files });
    expect(verdict.conditions).toEqual([{ condition: 'crossTeam', holds, text }]);
    expect(judge({ crossTeam: false }, { changedFiles: files }).matched).toBe(!holds);
  });

  it("reads the gate's own CODEOWNERS where the gate entry has one", () => {
    const verdict = judge({ crossTeam: true }, { gate: 'unit-tests', changedFiles: ['src/basket/totals.ts', 'src/payments/card.ts'] });
    expect(verdict).toMatchObject({ matched: false, why: "crossTeam is false (only team qa owns the changed files, per gate unit-tests's CODEOWNERS), the rule wants true" });
  });

  it('does not hold without CODEOWNERS, and says so (the parser refuses such a policy; this guards hand-built ones)', () => {
    const bare: Policy = { ...teams, codeowners: undefined, gates: { '*': teams.gates['*']! } };
    expect(judge({ crossTeam: false }, { changedFiles: ['src/basket/totals.ts'] }, bare)).toMatchObject({ matched: false, why: 'crossTeam cannot be judged: the policy has no CODEOWNERS' });
  });
});

describe("authorSeniority and authorRole: the change author's attributes under people", () => {
  it.each([
    { author: 'alice', holds: true, text: 'author alice is senior, one of senior, staff' },
    { author: 'Alice@Example.com', holds: true, text: 'author Alice@Example.com (alice) is senior, one of senior, staff' },
    { author: '@alice-gh', holds: true, text: 'author @alice-gh (alice) is senior, one of senior, staff' },
    { author: 'dana', holds: true, text: 'author dana is staff, one of senior, staff' },
    { author: 'bob', holds: false, text: 'author bob is junior, not one of senior, staff' },
    { author: 'carol', holds: false, text: 'author carol has no seniority in the policy, the rule wants one of senior, staff' },
    { author: 'zed', holds: false, text: 'author zed is not under people, so has no seniority, the rule wants one of senior, staff' },
  ])('authorSeniority [senior, staff] for $author → $holds', ({ author, holds, text }) => {
    expect(judge({ authorSeniority: ['senior', 'staff'] }, { author }).conditions).toEqual([{ condition: 'authorSeniority', holds, text }]);
  });

  it.each([
    { author: 'alice', holds: true, text: 'author alice holds lead, one of lead, sre' },
    { author: 'bob', holds: false, text: 'author bob holds developer, none of lead, sre' },
    { author: 'carol', holds: false, text: 'author carol holds no role, none of lead, sre' },
    { author: 'zed', holds: false, text: 'author zed is not under people, so holds no role, the rule wants one of lead, sre' },
  ])('authorRole [lead, sre] for $author → $holds', ({ author, holds, text }) => {
    expect(judge({ authorRole: ['lead', 'sre'] }, { author }).conditions).toEqual([{ condition: 'authorRole', holds, text }]);
  });

  it('never matches an author who is not under people, whatever the rule asks for', () => {
    const known = new Set(Object.entries(teams.people).flatMap(([id, p]) => [id, p.email, ...p.handles].map((a) => a.toLowerCase())));
    const stranger = fc.stringMatching(/^@?[a-z][a-z0-9.@-]{0,20}$/).filter((a) => !known.has(a.replace(/^@/, '').toLowerCase()));
    fc.assert(
      fc.property(stranger, fc.subarray(['junior', 'mid', 'senior', 'staff'] as const, { minLength: 1 }), fc.subarray(['lead', 'developer', 'sre']), (author, seniority, roles) => {
        expect(judge({ authorSeniority: seniority }, { author }).matched).toBe(false);
        expect(judge({ authorRole: roles }, { author }).matched).toBe(false);
      }),
    );
  });
});

describe('rule verdicts', () => {
  const { policy: example } = parsePolicy(readFileSync('policies/example.yaml', 'utf8'), 'policies/example.yaml');

  it('keeps the texts policy explain has always shown, and stops at the first match', () => {
    const verdicts = ruleVerdicts(example, failure({ gate: 'unit-tests', severity: 'high' }), new Date('2026-11-27T09:00:00Z'));
    expect(verdicts.map((v) => [v.name, v.matched, v.why])).toEqual([
      ['rollbacks-fast', false, 'rollback is false, the rule wants true'],
      ['night-hotfix', false, 'hotfix is false, the rule wants true; within business hours (Mon-Fri 09:00-18:00 Europe/Berlin), the rule wants outside'],
      ['severe-tests-in-parallel', true, 'kind tests is one of tests; severity high is one of critical, high'],
    ]);
    expect(verdicts.length).toBeLessThanOrEqual(example.rules.length);
  });

  it('lists every condition in a fixed order, and names a rule without a name by its position', () => {
    const policy: Policy = { ...teams, rules: [{ when: { authorRole: ['lead'], crossTeam: false, severity: ['high'], gate: ['build'] }, use: {} }] };
    const [verdict] = ruleVerdicts(policy, failure({ author: 'alice', changedFiles: ['src/basket/a.ts'], severity: 'high' }), friday);
    expect(verdict).toMatchObject({ index: 0, name: '#1', matched: true });
    expect(verdict!.conditions.map((c) => c.condition)).toEqual(['gate', 'severity', 'crossTeam', 'authorRole']);
    expect(describeWhen(policy.rules[0]!)).toBe('authorRole: lead, crossTeam: false, severity: high, gate: build');
  });

  it('matches every failure with a rule of no conditions', () => {
    expect(judge({})).toMatchObject({ matched: true, why: 'no conditions: matches every failure', conditions: [] });
  });

  it('finds no rule when none matches', () => {
    expect(firstMatchingRule({ ...teams, rules: [{ when: { hotfix: true }, use: {} }] }, failure(), friday)).toBeUndefined();
  });
});

describe('crossTeam properties', () => {
  // Owners in the policy above, by the team each stands for; `null`: an owner with no team.
  const ownersByTeam: Record<string, string[]> = {
    checkout: ['@acme/checkout', '@Acme/CHECKOUT', '@alice-gh', 'carol@example.com'],
    payments: ['@acme/payments', 'bob@example.com'],
    platform: ['@acme/platform', '@erin-gh'],
  };
  const unteamed = ['@stranger', 'dana@example.com'];
  const teamNames = Object.keys(ownersByTeam);
  const { policy: base } = parsePolicy(
    `version: 1
codeowners: "* @acme/placeholder"
people:
  alice: { email: alice@example.com, handles: [alice-gh], team: checkout }
  bob:   { email: bob@example.com, team: payments }
  carol: { email: carol@example.com, team: checkout }
  dana:  { email: dana@example.com }
  erin:  { email: erin@example.com, handles: [erin-gh], team: platform }
gates:
  "*": { model: sequential, chain: [{ reviewers: [alice], timeout: 1h }] }
`,
    'base.yaml',
  );
  /** Directory n is owned by `lines[n]` (possibly nobody); files are picked from the directories and from outside them. */
  const change = (owners: fc.Arbitrary<string>) =>
    fc.record({
      lines: fc.array(fc.array(owners, { maxLength: 3 }), { minLength: 1, maxLength: 6 }),
      picks: fc.array(fc.nat({ max: 7 }), { maxLength: 8 }),
    });
  const judgeChange = (crossTeam: boolean, { lines, picks }: { lines: string[][]; picks: number[] }) => {
    const codeowners = lines.map((owners, n) => `dir${n}/ ${owners.join(' ')}`).join('\n');
    const policy: Policy = { ...base, codeowners, rules: [{ when: { crossTeam }, use: {} }] };
    return ruleVerdicts(policy, failure({ changedFiles: picks.map((n) => `dir${n}/file.ts`) }), friday)[0]!;
  };

  it('a change whose owned files all map to one team never matches crossTeam: true', () => {
    const oneTeam = fc.constantFrom(...teamNames).chain((team) => change(fc.constantFrom(...ownersByTeam[team]!, ...unteamed)));
    fc.assert(
      fc.property(oneTeam, (c) => {
        expect(judgeChange(true, c).matched).toBe(false);
        expect(judgeChange(false, c).matched).toBe(true);
      }),
    );
  });

  it('crossTeam holds exactly when the owners of the changed files span more than one team, and crossTeam: false is its negation', () => {
    const teamOf = new Map(Object.entries(ownersByTeam).flatMap(([team, owners]) => owners.map((owner) => [owner, team] as const)));
    fc.assert(
      fc.property(change(fc.constantFrom(...teamOf.keys(), ...unteamed)), (c) => {
        const owning = new Set(c.picks.flatMap((n) => c.lines[n] ?? []).flatMap((owner) => teamOf.get(owner) ?? []));
        expect(judgeChange(true, c).matched).toBe(owning.size > 1);
        expect(judgeChange(false, c).matched).toBe(owning.size <= 1);
      }),
    );
  });
});
