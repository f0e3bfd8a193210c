import { describe, expect, it } from 'vitest';
import { DecayedCount } from '../../domain/expertise/decayed-count.js';
import { ExpertiseIndex, type ExpertiseOptions } from '../../domain/expertise/expertise-index.js';

const DAY = 86_400_000;
const plain: ExpertiseOptions = { halfLifeMs: null, prefixExponent: 1, suffixWeight: 0, share: false };

describe('ExpertiseIndex', () => {
  it('prefers the reviewer of the same folder over one of a sibling folder, and scores strangers 0', () => {
    const index = new ExpertiseIndex(plain);
    index.add({ reviewer: 'alice', paths: ['repo/ui/button/Button.java'], at: 0 });
    index.add({ reviewer: 'bob', paths: ['repo/net/http/Client.java'], at: 0 });
    const affinity = index.affinity(['repo/ui/button/Icon.java'], ['alice', 'bob', 'carol'], DAY);
    expect(affinity.get('alice')!).toBeGreaterThan(affinity.get('bob')!);
    expect(affinity.get('bob')!).toBeGreaterThan(0); // shares the repository
    expect(affinity.get('carol')).toBe(0);
  });

  it('sums shared prefixes as RevFinder sums common-prefix lengths, each over the new path length', () => {
    const index = new ExpertiseIndex(plain);
    index.add({ reviewer: 'alice', paths: ['a/b/c'], at: 0 });
    index.add({ reviewer: 'alice', paths: ['a/x'], at: 0 });
    // prefix weight k/n with n = 3: shares a (both), a/b (first): 1/3 + 1/3 + 2/3.
    expect(index.affinity(['a/b/z'], ['alice'], 0).get('alice')).toBeCloseTo(4 / 3);
  });

  it('lets older reviews fade with the half-life', () => {
    const index = new ExpertiseIndex({ ...plain, halfLifeMs: 30 * DAY });
    index.add({ reviewer: 'old', paths: ['repo/core/A.java'], at: 0 });
    index.add({ reviewer: 'recent', paths: ['repo/core/B.java'], at: 60 * DAY });
    const affinity = index.affinity(['repo/core/C.java'], ['old', 'recent'], 60 * DAY);
    expect(affinity.get('old')! / affinity.get('recent')!).toBeCloseTo(0.25);
  });

  it('with share, ranks the folder specialist above a prolific generalist who leads by count', () => {
    const reviews = (index: ExpertiseIndex) => {
      for (let i = 0; i < 20; i++) index.add({ reviewer: 'generalist', paths: [`repo/m${i}/File.java`], at: i });
      index.add({ reviewer: 'generalist', paths: ['repo/media/audio/Old.java'], at: 30 });
      index.add({ reviewer: 'specialist', paths: ['repo/media/audio/New.java'], at: 31 });
      index.add({ reviewer: 'specialist', paths: ['repo/media/audio/Other.java'], at: 32 });
      return index.affinity(['repo/media/audio/Player.java'], ['generalist', 'specialist'], 40);
    };
    const byShare = reviews(new ExpertiseIndex({ ...plain, share: true }));
    const byCount = reviews(new ExpertiseIndex(plain));
    expect(byShare.get('specialist')!).toBeGreaterThan(byShare.get('generalist')!);
    expect(byCount.get('generalist')!).toBeGreaterThan(byCount.get('specialist')!);
  });

  it('counts a sweeping change per file, so it does not outweigh a focused review', () => {
    const index = new ExpertiseIndex(plain);
    index.add({ reviewer: 'sweeper', paths: Array.from({ length: 10 }, (_, i) => `repo/lib/F${i}.java`), at: 0 });
    index.add({ reviewer: 'focused', paths: ['repo/lib/F0.java'], at: 0 });
    const affinity = index.affinity(['repo/lib/F0.java'], ['sweeper', 'focused'], 0);
    expect(affinity.get('focused')!).toBeGreaterThan(affinity.get('sweeper')!);
  });

  it('counts approvals with the same decay', () => {
    const index = new ExpertiseIndex({ ...plain, halfLifeMs: DAY });
    index.add({ reviewer: 'alice', paths: ['x'], at: 0 });
    index.add({ reviewer: 'alice', paths: ['y'], at: DAY });
    expect(index.approvalCounts(['alice', 'bob'], DAY)).toEqual(new Map([['alice', 1.5], ['bob', 0]]));
  });
});

describe('DecayedCount', () => {
  it('takes an out-of-order addition at its decayed worth', () => {
    const count = new DecayedCount(DAY);
    count.add(1, 2 * DAY);
    count.add(1, DAY);
    expect(count.valueAt(2 * DAY)).toBeCloseTo(1.5);
    expect(count.valueAt(3 * DAY)).toBeCloseTo(0.75);
  });
});
