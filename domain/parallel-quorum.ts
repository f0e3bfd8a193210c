import type { Quorum } from './escalation-plan.js';

export type Vote = 'approve' | 'reject' | 'override';

export type QuorumResult = { kind: 'passed' | 'overridden' | 'blocked'; reason: string } | undefined;

/**
 * What the votes so far decide. An override vote also counts as an approval; the override quorum is
 * checked first, so a vote that completes both ends the escalation as overridden. One vote per
 * reviewer is the caller's guarantee (the map's keys).
 */
export function quorumResult(votes: ReadonlyMap<string, Vote>, quorum: Quorum): QuorumResult {
  const count = (...kinds: Vote[]) => [...votes.values()].filter((vote) => kinds.includes(vote)).length;
  const overrides = count('override');
  const approvals = count('approve', 'override');
  const rejections = count('reject');
  if (rejections >= quorum.reject) return { kind: 'blocked', reason: `${rejections} of ${quorum.reject} rejection(s) needed to block` };
  if (quorum.override !== null && overrides >= quorum.override) return { kind: 'overridden', reason: `override quorum reached: ${overrides} of ${quorum.override}` };
  if (approvals >= quorum.approve) return { kind: 'passed', reason: `approval quorum reached: ${approvals} of ${quorum.approve}` };
  return undefined;
}
