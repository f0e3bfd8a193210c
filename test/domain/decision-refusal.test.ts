import { describe, expect, it } from 'vitest';
import { type DecisionContext, refusalOf } from '../../domain/escalation.js';

const context: DecisionContext = {
  status: 'waiting',
  awaitedReviewers: ['alice', 'mallory'],
  author: 'MALLORY@example.com',
  people: {
    alice: { id: 'alice', name: 'Alice', email: 'alice@example.com', aliases: ['alice', 'alice@example.com'] },
    mallory: { id: 'mallory', name: 'Mallory', email: 'mallory@example.com', aliases: ['mallory', 'mallory@example.com'] },
  },
  requireComment: 'on-reject',
  voted: [],
  overrideAllowed: false,
};

describe('decision refusal', () => {
  it('accepts an approval from an awaited reviewer who is not the author', () => {
    expect(refusalOf(context, { reviewer: 'alice', decision: 'approve', channel: 'http' })).toBeUndefined();
  });

  it('refuses any decision once the escalation ended, before any other check', () => {
    expect(refusalOf({ ...context, status: 'ended' }, { reviewer: 'zed', decision: 'approve', channel: 'http' })?.code).toBe('EscalationEnded');
  });

  it('refuses reviewers the escalation is not waiting on', () => {
    expect(refusalOf(context, { reviewer: 'bob', decision: 'approve', channel: 'http' })).toEqual({ code: 'NotAwaitedReviewer', message: 'bob is not a reviewer this escalation is waiting on (waiting on: alice, mallory)' });
  });

  it('refuses the author approving, matched by email regardless of case, but lets the author reject', () => {
    expect(refusalOf(context, { reviewer: 'mallory', decision: 'approve', channel: 'slack' })?.code).toBe('AuthorCannotApprove');
    expect(refusalOf(context, { reviewer: 'mallory', decision: 'reject', comment: 'my change is broken', channel: 'http' })).toBeUndefined();
  });

  it('requires a non-blank comment where the policy says so', () => {
    expect(refusalOf(context, { reviewer: 'alice', decision: 'reject', comment: '   ', channel: 'http' })?.code).toBe('CommentRequired');
    expect(refusalOf({ ...context, requireComment: 'always' }, { reviewer: 'alice', decision: 'approve', channel: 'http' })?.code).toBe('CommentRequired');
    expect(refusalOf({ ...context, requireComment: 'never' }, { reviewer: 'alice', decision: 'reject', channel: 'http' })).toBeUndefined();
  });
});
