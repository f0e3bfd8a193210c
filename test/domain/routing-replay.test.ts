import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expertiseRanker } from '../../domain/routing-replay/expertise-ranker.js';
import { frequencyRanker } from '../../domain/routing-replay/frequency-ranker.js';
import { gini, rankingAccuracy } from '../../domain/routing-replay/metrics.js';
import { PathComparisons } from '../../domain/routing-replay/path-comparisons.js';
import type { LearnedApproval, ReviewerRanker, RoutedChange } from '../../domain/routing-replay/ranker.js';
import { replayReviews } from '../../domain/routing-replay/replay.js';
import { parseReviewHistory, type ReviewedChange } from '../../domain/routing-replay/review-history.js';
import { ReviewHistoryError } from '../../domain/routing-replay/review-history-error.js';
import { revfinderRanker } from '../../domain/routing-replay/revfinder-ranker.js';

/** One line of the RevFinder JSON Lines format. */
function line(changeId: number, submit: string, files: string[], approvals: Array<[number, string]>, close = submit): string {
  return JSON.stringify({
    status: 'M',
    changeId,
    project: 'platform/demo',
    files,
    submit_date: submit,
    close_date: close,
    approve_history: approvals.map(([userId, grant]) => ({ userId, approve_value: 2, grant_date: grant })),
  });
}

function change(id: string, submittedAt: number, files: string[], approvals: Array<[string, number]>): ReviewedChange {
  return { id, project: 'p', files, submittedAt, closedAt: submittedAt, approvals: approvals.map(([reviewer, at]) => ({ reviewer, at })) };
}

describe('parseReviewHistory', () => {
  it('reads changes in UTC and replaces the 1900 placeholder grant date with the close date', () => {
    const text = [line(1, '2012-01-26 22:59:36.560000000', ['a/B.java'], [[7, '1900-01-01 08:00:00.000000000']], '2012-01-27 19:16:49.719000000'), ''].join('\n');
    const [parsed] = parseReviewHistory(text);
    expect(parsed).toEqual({
      id: '1',
      project: 'platform/demo',
      files: ['a/B.java'],
      submittedAt: Date.parse('2012-01-26T22:59:36.560Z'),
      closedAt: Date.parse('2012-01-27T19:16:49.719Z'),
      approvals: [{ reviewer: '7', at: Date.parse('2012-01-27T19:16:49.719Z') }],
    });
  });

  it('names the line and the field that is wrong', () => {
    const good = line(1, '2012-01-26 22:59:36', ['a'], []);
    const missingFiles = JSON.stringify({ ...JSON.parse(good), files: undefined });
    expect(() => parseReviewHistory([good, missingFiles].join('\n'))).toThrow(new ReviewHistoryError(2, 'files: Invalid input: expected array, received undefined'));
    expect(() => parseReviewHistory([good, '{oops'].join('\n'))).toThrow(/^line 2: not JSON/);
    expect(() => parseReviewHistory(line(1, '2012-13-45 00:00:00', ['a'], []))).toThrow('line 1: submit_date: not a calendar date');
  });
});

describe('replayReviews', () => {
  it('ranks each change only from approvals granted before its submission', () => {
    const seenBy = new Map<string, number>();
    const spy: ReviewerRanker = {
      name: 'spy',
      learn: (approval: LearnedApproval) => void seenBy.set(approval.reviewer, approval.at),
      rank: (routed: RoutedChange, candidates: readonly string[]) => {
        for (const at of seenBy.values()) expect(at).toBeLessThan(routed.at);
        return [...candidates];
      },
    };
    const history = [change('1', 0, ['a'], [['alice', 10]]), change('2', 5, ['a'], [['bob', 6]]), change('3', 10, ['a'], [['alice', 20]])];
    const report = replayReviews(history, [spy]);
    // Change 1 has no one to rank; change 2 sees nobody yet (alice approves at 10) either; change 3 sees bob only.
    expect(report.changes).toEqual({ total: 3, scored: 1, withoutHistory: 2, approverUnseen: 1 });
    expect(report.results[0]!.accuracy.top[10]).toBe(0);
  });

  it('scores only changes from --from, after learning from the ones before', () => {
    const history = [change('1', 0, ['ui/A'], [['alice', 1]]), change('2', 2, ['net/B'], [['bob', 3]]), change('3', 4, ['ui/C'], [['alice', 5]])];
    const report = replayReviews(history, [frequencyRanker(), expertiseRanker()], { from: 4 });
    expect(report.changes.scored).toBe(1);
    const [frequency, escalator] = report.results;
    expect(escalator!.accuracy.top[1]).toBe(1);
    expect(frequency!.accuracy.changes).toBe(1);
  });
});

describe('rankingAccuracy', () => {
  it('computes top-k, MRR and the Gini of first choices over every reviewer', () => {
    const accuracy = rankingAccuracy([1, 2, null, 4], ['a', 'a', 'a', 'a'], ['a', 'b']);
    expect(accuracy.top).toEqual({ 1: 0.25, 3: 0.5, 5: 0.75, 10: 0.75 });
    expect(accuracy.mrr).toBeCloseTo((1 + 0.5 + 0 + 0.25) / 4);
    expect(accuracy.firstChoiceGini).toBeCloseTo(0.5);
  });

  it('gives 0 to an even spread and to no choices at all', () => {
    expect(gini([3, 3, 3])).toBe(0);
    expect(gini([])).toBe(0);
    expect(gini([0, 0, 0, 4])).toBeCloseTo(0.75);
  });
});

describe('revfinderRanker', () => {
  it('ranks the reviewer of similar paths first', () => {
    const ranker = revfinderRanker();
    ranker.learn({ reviewer: 'alice', paths: ['p/core/java/android/widget/TextView.java'], project: 'p', at: 0 });
    ranker.learn({ reviewer: 'bob', paths: ['p/media/libstagefright/Player.cpp'], project: 'p', at: 0 });
    ranker.learn({ reviewer: 'bob', paths: ['p/media/libstagefright/Codec.cpp'], project: 'p', at: 0 });
    expect(ranker.rank({ paths: ['p/core/java/android/widget/EditText.java'], project: 'p', at: 1 }, ['bob', 'alice'])).toEqual(['alice', 'bob']);
  });
});

describe('PathComparisons', () => {
  it('agrees with the textbook definitions of LCP, LCSuff, LCSubstr and LCSubseq', () => {
    const path = fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 40 });
    fc.assert(
      fc.property(path, path, (a, b) => {
        const comparisons = new PathComparisons();
        comparisons.setQuery(Int32Array.from(a), 6);
        const shared = comparisons.compare(Int32Array.from(b));
        const expected = reference(a, b);
        expect(shared).toBe(expected[3] > 0);
        if (shared) expect([...comparisons.result]).toEqual(expected);
      }),
    );
  });
});

function reference(a: number[], b: number[]): [number, number, number, number] {
  let prefix = 0;
  while (prefix < a.length && prefix < b.length && a[prefix] === b[prefix]) prefix++;
  let suffix = 0;
  while (suffix < a.length && suffix < b.length && a[a.length - 1 - suffix] === b[b.length - 1 - suffix]) suffix++;
  const run = a.map(() => b.map(() => 0));
  const sequence = [...a, 0].map(() => [...b, 0].map(() => 0));
  let substring = 0;
  a.forEach((x, i) =>
    b.forEach((y, j) => {
      run[i]![j] = x === y ? (i && j ? run[i - 1]![j - 1]! : 0) + 1 : 0;
      substring = Math.max(substring, run[i]![j]!);
      sequence[i + 1]![j + 1] = x === y ? sequence[i]![j]! + 1 : Math.max(sequence[i]![j + 1]!, sequence[i + 1]![j]!);
    }),
  );
  return [prefix, suffix, substring, sequence[a.length]![b.length]!];
}
