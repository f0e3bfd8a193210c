import { describe, expect, it } from 'vitest';
import { ownership } from '../../domain/codeowners.js';
import type { CandidateFacts, Reviewer } from '../../domain/escalation-plan.js';
import { type RoutingInputs, scoreCandidates } from '../../domain/routing.js';

/** A person as `resolvePlan` describes them: aliases lower-cased (id, email, handles). */
function reviewer(id: string, handles: string[] = []): Reviewer {
  const email = `${id}@example.com`;
  return { id, name: id, email, aliases: [id, email, ...handles].map((alias) => alias.toLowerCase()) };
}

const people: Record<string, Reviewer> = {
  alice: reviewer('alice', ['Alice-GH']),
  bob: reviewer('bob', ['bob-gh']),
  carol: reviewer('carol'),
  dave: reviewer('dave'),
  mallory: reviewer('mallory', ['mallory-gh']),
};

const neutral: CandidateFacts = { working: null, outOfOffice: false, onCall: false };

/** Four candidates with equal facts and no history; override what the test is about. */
function inputs(overrides: Partial<RoutingInputs> = {}): RoutingInputs {
  const candidates = overrides.candidates ?? ['alice', 'bob', 'carol', 'dave'];
  return {
    candidates,
    routeBy: ['codeowners', 'oncall', 'workingHours', 'responseHistory', 'severity', 'load'],
    pick: 1,
    severity: 'high',
    author: 'mallory',
    people,
    facts: Object.fromEntries(candidates.map((id) => [id, neutral])),
    ownership: {},
    medianResponseMs: {},
    load: {},
    ...overrides,
  };
}

const MINUTE = 60_000;

function scoreOf(result: ReturnType<typeof scoreCandidates>, person: string) {
  const score = result.scores.find((s) => s.person === person);
  if (!score) throw new Error(`no score for ${person}`);
  return score;
}

describe('scoreCandidates', () => {
  it('lets the owner of the changed files win over faster, less loaded candidates', () => {
    const result = scoreCandidates(
      inputs({
        routeBy: ['codeowners', 'responseHistory', 'load'],
        ownership: { carol: 1, dave: 1 / 3 },
        medianResponseMs: { alice: 0, bob: 0, carol: 90 * MINUTE, dave: 0 },
        load: { carol: 1 },
      }),
    );
    // carol: 3·1 + 1·0.25 + 1·0.5; alice and bob: 0 + 1 + 1; dave: 3·⅓ + 1 + 1.
    expect(result.scores.map((s) => [s.person, s.score])).toEqual([
      ['alice', 2],
      ['bob', 2],
      ['carol', 3.75],
      ['dave', 3],
    ]);
    expect(result.chosen).toEqual(['carol']);
    expect(result.ranked).toEqual(['carol', 'dave', 'alice', 'bob']);
    expect(scoreOf(result, 'carol').factors.codeowners).toEqual({ value: 1, weight: 3, why: 'owns 100% of the changed files' });
    expect(scoreOf(result, 'dave').factors.codeowners).toEqual({ value: 1 / 3, weight: 3, why: 'owns 33% of the changed files' });
    expect(scoreOf(result, 'alice').factors.codeowners).toEqual({ value: 0, weight: 3, why: 'owns none of the changed files' });
  });

  it('never chooses the author (by handle, any case) or someone out of office while another candidate is eligible', () => {
    const result = scoreCandidates(
      inputs({
        candidates: ['mallory', 'alice', 'bob', 'carol'],
        routeBy: ['codeowners'],
        author: 'Mallory-GH',
        facts: { mallory: neutral, alice: { ...neutral, outOfOffice: true }, bob: neutral, carol: neutral },
        ownership: { mallory: 1, alice: 0.5, carol: 0.25 },
      }),
    );
    expect(result.chosen).toEqual(['carol']);
    // Eligible first, best first; then the ineligible, best first.
    expect(result.ranked).toEqual(['carol', 'bob', 'mallory', 'alice']);
    expect(scoreOf(result, 'mallory').score).toBe(3);
    expect(scoreOf(result, 'alice').score).toBe(1.5);
  });

  it('recognises the author by email, and picks among the ineligible only when nobody else is left', () => {
    const recognised = scoreCandidates(inputs({ candidates: ['mallory', 'bob'], routeBy: ['codeowners'], author: 'MALLORY@example.com', ownership: { mallory: 1 } }));
    expect(recognised.chosen).toEqual(['bob']);

    const nobodyElse = scoreCandidates(
      inputs({
        candidates: ['mallory', 'alice'],
        routeBy: ['codeowners'],
        facts: { mallory: neutral, alice: { ...neutral, outOfOffice: true } },
        ownership: { alice: 1 },
      }),
    );
    expect(nobodyElse.ranked).toEqual(['alice', 'mallory']);
    expect(nobodyElse.chosen).toEqual(['alice']);
  });

  it('prefers the candidate on call, with the factor worth 2', () => {
    const result = scoreCandidates(inputs({ routeBy: ['oncall'], facts: { alice: neutral, bob: neutral, carol: { ...neutral, onCall: true }, dave: neutral } }));
    expect(result.chosen).toEqual(['carol']);
    expect(scoreOf(result, 'carol')).toEqual({ person: 'carol', score: 2, factors: { oncall: { value: 1, weight: 2, why: 'on call now' } } });
    expect(scoreOf(result, 'alice')).toEqual({ person: 'alice', score: 0, factors: { oncall: { value: 0, weight: 2, why: 'not on call' } } });
  });

  it('scores working hours: within 1, unknown 0.5, outside 0, out of office 0', () => {
    const result = scoreCandidates(
      inputs({
        routeBy: ['workingHours'],
        facts: {
          alice: { ...neutral, working: false },
          bob: neutral,
          carol: { ...neutral, working: true, outOfOffice: true },
          dave: { ...neutral, working: true },
        },
      }),
    );
    expect(result.scores.map((s) => [s.person, s.score, s.factors.workingHours])).toEqual([
      ['alice', 0, { value: 0, weight: 2, why: 'outside working hours' }],
      ['bob', 1, { value: 0.5, weight: 2, why: 'no working hours in the policy' }],
      ['carol', 0, { value: 0, weight: 2, why: 'out of office' }],
      ['dave', 2, { value: 1, weight: 2, why: 'within working hours' }],
    ]);
    expect(result.chosen).toEqual(['dave']);
    expect(result.ranked).toEqual(['dave', 'bob', 'alice', 'carol']);
  });

  it('chooses the faster median responder when every other fact is equal', () => {
    const result = scoreCandidates(inputs({ medianResponseMs: { alice: 90 * MINUTE, bob: 30 * MINUTE, carol: null, dave: 6 * MINUTE } }));
    expect(result.chosen).toEqual(['dave']);
    expect(result.ranked).toEqual(['dave', 'bob', 'carol', 'alice']);
    expect(scoreOf(result, 'dave').factors.responseHistory).toEqual({ value: 1 / 1.2, weight: 1, why: 'median response 6 min' });
    expect(scoreOf(result, 'bob').factors.responseHistory).toEqual({ value: 0.5, weight: 1, why: 'median response 30 min' });
    expect(scoreOf(result, 'alice').factors.responseHistory).toEqual({ value: 0.25, weight: 1, why: 'median response 90 min' });
    expect(scoreOf(result, 'carol').factors.responseHistory).toEqual({ value: 0.5, weight: 1, why: 'no response history' });
    // Severity favours fast responders: high urgency 0.75 times the same speed.
    expect(scoreOf(result, 'alice').factors.severity).toEqual({ value: 0.75 * 0.25, weight: 1, why: 'high severity favours fast responders (urgency 0.75)' });
  });

  it('penalises candidates already awaited on other escalations', () => {
    const result = scoreCandidates(inputs({ routeBy: ['load'], load: { alice: 3, bob: 1, carol: 0 } }));
    expect(result.scores.map((s) => [s.person, s.score])).toEqual([
      ['alice', 0.25],
      ['bob', 0.5],
      ['carol', 1],
      ['dave', 1],
    ]);
    expect(scoreOf(result, 'alice').factors.load).toEqual({ value: 0.25, weight: 1, why: '3 escalation(s) awaiting them now' });
    expect(result.ranked).toEqual(['carol', 'dave', 'bob', 'alice']);
  });

  it("gives every candidate a score made of exactly the policy's factors, each with a why", () => {
    const result = scoreCandidates(
      inputs({
        severity: 'critical',
        facts: { alice: { working: true, outOfOffice: false, onCall: true }, bob: neutral, carol: neutral, dave: neutral },
        ownership: { alice: 0.5 },
        medianResponseMs: { alice: 30 * MINUTE },
        load: { alice: 1 },
      }),
    );
    expect(result.scores.map((s) => s.person)).toEqual(['alice', 'bob', 'carol', 'dave']);
    for (const score of result.scores) {
      expect(Object.keys(score.factors).sort()).toEqual(['codeowners', 'load', 'oncall', 'responseHistory', 'severity', 'workingHours']);
      for (const factor of Object.values(score.factors)) expect(factor.why).toMatch(/\w/);
      const sum = Object.values(score.factors).reduce((total, f) => total + f.value * f.weight, 0);
      expect(score.score).toBe(Math.round(sum * 1000) / 1000);
    }
    // 3·0.5 + 2·1 + 2·1 + 1·0.5 + 1·(1·0.5) + 1·0.5
    expect(scoreOf(result, 'alice').score).toBe(7);
    expect(scoreOf(result, 'alice').factors.severity).toEqual({ value: 0.5, weight: 1, why: 'critical severity favours fast responders (urgency 1)' });
  });

  it('picks the two best eligible candidates when pick is 2', () => {
    const result = scoreCandidates(inputs({ pick: 2, routeBy: ['codeowners'], ownership: { bob: 0.25, carol: 1, dave: 0.5 } }));
    expect(result.chosen).toEqual(['carol', 'dave']);
    expect(result.ranked).toEqual(['carol', 'dave', 'bob', 'alice']);
  });

  it('keeps policy order between equal scores', () => {
    const result = scoreCandidates(inputs({ candidates: ['dave', 'carol', 'bob', 'alice'], pick: 2 }));
    expect(new Set(result.scores.map((s) => s.score)).size).toBe(1);
    expect(result.ranked).toEqual(['dave', 'carol', 'bob', 'alice']);
    expect(result.chosen).toEqual(['dave', 'carol']);
  });
});

describe('ownership', () => {
  it('maps @handles, ids and emails to people, whatever their case, as a share of the changed files', () => {
    const codeowners = ['src/basket/   @ALICE-gh', 'src/payments/ @bob', 'docs/         Carol@Example.com'].join('\n');
    expect(ownership(codeowners, ['src/basket/totals.ts', 'src/payments/card.ts', 'docs/readme.md', 'README.md'], people)).toEqual({ alice: 0.25, bob: 0.25, carol: 0.25 });
  });

  it('lets the last matching rule win, and a rule without owners un-own what it matches', () => {
    const codeowners = ['src/            @alice-gh', 'src/basket/     @bob-gh', 'src/generated/'].join('\n');
    expect(ownership(codeowners, ['src/basket/totals.ts', 'src/app.ts', 'src/generated/api.ts', 'src/basket/rounding.ts'], people)).toEqual({ alice: 0.25, bob: 0.5 });
  });

  it('ignores @org/team owners and handles nobody in the policy has', () => {
    const codeowners = ['*          @acme/platform', 'src/       @acme/checkout @alice-gh', 'docs/      @stranger'].join('\n');
    expect(ownership(codeowners, ['src/app.ts', 'docs/readme.md', 'Makefile'], people)).toEqual({ alice: 1 / 3 });
  });

  it('counts a file once per person, even when a rule names them twice, and every owner of a rule gets it', () => {
    const codeowners = 'src/ @alice-gh alice@example.com @bob-gh';
    expect(ownership(codeowners, ['src/app.ts', 'README.md'], people)).toEqual({ alice: 0.5, bob: 0.5 });
  });

  it('gives nobody a share when nothing changed', () => {
    expect(ownership('* @alice-gh', [], people)).toEqual({});
  });
});
