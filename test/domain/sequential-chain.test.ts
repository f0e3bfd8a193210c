import { describe, expect, it } from 'vitest';
import { afterApproval, afterTimeout, type ChainPlan, firstAssignment } from '../../domain/sequential-chain.js';

const plan: ChainPlan = {
  steps: [
    { reviewers: ['alice'], backup: ['bob'], timeoutMs: 1000 },
    { reviewers: ['carol'], backup: [], timeoutMs: 2000 },
  ],
  tiers: [
    { name: 'leads', reviewers: ['lead'], timeoutMs: 3000, lead: null },
    { name: 'seniors', reviewers: ['senior'], timeoutMs: 4000, lead: null },
  ],
  maxDepth: 3,
};

describe('sequential chain', () => {
  it('starts with the first step primary and passes after the last approval', () => {
    const first = firstAssignment(plan);
    expect(first).toEqual({ step: 0, stage: { kind: 'primary' }, reviewers: ['alice'], timeoutMs: 1000 });
    const second = afterApproval(plan, first);
    expect(second).toEqual({ kind: 'assign', handOff: false, assignment: { step: 1, stage: { kind: 'primary' }, reviewers: ['carol'], timeoutMs: 2000 } });
    if (second.kind !== 'assign') throw new Error('unreachable');
    expect(afterApproval(plan, second.assignment)).toEqual({ kind: 'passed' });
  });

  it('hands a timed-out step to the backup, then each tier in order', () => {
    const backup = afterTimeout(plan, firstAssignment(plan), 0);
    expect(backup).toMatchObject({ kind: 'assign', handOff: true, assignment: { step: 0, stage: { kind: 'backup' }, reviewers: ['bob'] } });
    if (backup.kind !== 'assign') throw new Error('unreachable');
    const leads = afterTimeout(plan, backup.assignment, 1);
    expect(leads).toMatchObject({ kind: 'assign', assignment: { stage: { kind: 'tier', tier: 'leads', tierIndex: 0 }, reviewers: ['lead'], timeoutMs: 3000 } });
    if (leads.kind !== 'assign') throw new Error('unreachable');
    expect(afterTimeout(plan, leads.assignment, 2)).toMatchObject({ kind: 'assign', assignment: { stage: { kind: 'tier', tier: 'seniors' } } });
  });

  it('skips the backup stage for a step without a backup', () => {
    const carol = { step: 1, stage: { kind: 'primary' as const }, reviewers: ['carol'], timeoutMs: 2000 };
    expect(afterTimeout(plan, carol, 0)).toMatchObject({ kind: 'assign', assignment: { step: 1, stage: { kind: 'tier', tier: 'leads' } } });
  });

  it('exhausts instead of a hand-off beyond the maximum depth', () => {
    expect(afterTimeout({ ...plan, maxDepth: 1 }, firstAssignment(plan), 1)).toEqual({ kind: 'exhausted', reason: 'maximum escalation depth 1 reached' });
  });

  it('exhausts when no tier is left, whatever depth remains', () => {
    const seniors = { step: 0, stage: { kind: 'tier' as const, tier: 'seniors', tierIndex: 1 }, reviewers: ['senior'], timeoutMs: 4000 };
    expect(afterTimeout({ ...plan, maxDepth: 10 }, seniors, 3)).toEqual({ kind: 'exhausted', reason: 'no backup or tier is left to hand the step to' });
  });
});
