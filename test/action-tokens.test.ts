import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { actionFormSchema, confirmationPage, refusalPage, resultPage, type ActionResultSubject, type ActionSubject } from '../client/shim/action-pages.js';
import { actionUrl, checkTokenFor, createActionToken, InMemoryUsedTokenLedger, verifyActionToken, type ActionClaims, type ActionGrant } from '../domain/action-tokens.js';

const secret = 'action-link-secret-of-at-least-32-bytes!';
const issuedAt = new Date('2026-03-02T10:00:00Z');
const grant: ActionGrant = { reviewer: 'alice', escalationId: 'escalation-deploy-42', step: 1, decision: 'approve' };

function later(seconds: number): Date {
  return new Date(issuedAt.getTime() + seconds * 1000);
}

async function verifiedClaims(token: string): Promise<ActionClaims> {
  const result = await verifyActionToken(secret, token, { now: issuedAt });
  if (!result.ok) throw new Error(`expected a valid token, got ${result.reason}`);
  return result.claims;
}

// The last character of a part may carry only padding bits, so the change is made in the middle.
function withChangedCharacter(token: string, part: number): string {
  const parts = token.split('.');
  const text = parts[part]!;
  const at = Math.floor(text.length / 2);
  parts[part] = text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
  return parts.join('.');
}

describe('action tokens', () => {
  it('round-trips the reviewer, escalation, step and decision with a unique token id and its expiry', async () => {
    const token = await createActionToken(secret, grant, { ttlSeconds: 3600, now: issuedAt });
    const claims = await verifiedClaims(token);
    expect(claims).toEqual({ ...grant, tokenId: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/), issuedAt, expiresAt: later(3600) });
    const other = await verifiedClaims(await createActionToken(secret, grant, { ttlSeconds: 3600, now: issuedAt }));
    expect(other.tokenId).not.toBe(claims.tokenId);
  });

  it('builds the link under the public URL, keeping its path prefix', async () => {
    const token = await createActionToken(secret, grant, { ttlSeconds: 60, now: issuedAt });
    expect(actionUrl('https://escalator.example.com', token)).toBe(`https://escalator.example.com/v1/actions/${token}`);
    expect(actionUrl('https://example.com/escalator/', token)).toBe(`https://example.com/escalator/v1/actions/${token}`);
  });

  it('is valid until the second before it expires and expired from then on', async () => {
    const token = await createActionToken(secret, grant, { ttlSeconds: 900, now: issuedAt });
    expect((await verifyActionToken(secret, token, { now: later(899) })).ok).toBe(true);
    expect(await verifyActionToken(secret, token, { now: later(900) })).toEqual({ ok: false, reason: 'expired' });
    expect(await verifyActionToken(secret, token, { now: later(86_400) })).toEqual({ ok: false, reason: 'expired' });
  });

  it('reports a changed payload, a changed signature or another secret as tampered', async () => {
    const token = await createActionToken(secret, grant, { ttlSeconds: 900, now: issuedAt });
    expect(await verifyActionToken(secret, withChangedCharacter(token, 1), { now: issuedAt })).toEqual({ ok: false, reason: 'tampered' });
    expect(await verifyActionToken(secret, withChangedCharacter(token, 2), { now: issuedAt })).toEqual({ ok: false, reason: 'tampered' });
    expect(await verifyActionToken('another-secret-that-is-also-32-bytes-long', token, { now: issuedAt })).toEqual({ ok: false, reason: 'tampered' });
  });

  it('reports a payload re-signed as another reviewer without the secret as tampered', async () => {
    const token = await createActionToken(secret, grant, { ttlSeconds: 900, now: issuedAt });
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const forged = { ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: 'mallory' };
    expect(await verifyActionToken(secret, `${header}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${signature}`, { now: issuedAt })).toEqual({ ok: false, reason: 'tampered' });
  });

  it('reports what is not an action token as malformed', async () => {
    const token = await createActionToken(secret, grant, { ttlSeconds: 900, now: issuedAt });
    for (const bad of ['', 'not-a-token', token.split('.').slice(0, 2).join('.'), `${token}.extra`, token.slice(0, 40), 'a.b.c']) {
      expect(await verifyActionToken(secret, bad, { now: issuedAt }), bad).toEqual({ ok: false, reason: 'malformed' });
    }
  });

  it('does not take another JWT signed with the same secret for an action token', async () => {
    const other = await new SignJWT({ esc: grant.escalationId, step: 1, dec: 'approve' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setJti('x')
      .setSubject('alice')
      .setIssuedAt(issuedAt)
      .setExpirationTime(later(900))
      .sign(new TextEncoder().encode(secret));
    expect(await verifyActionToken(secret, other, { now: issuedAt })).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses secrets shorter than 32 bytes', async () => {
    await expect(createActionToken('short', grant, { ttlSeconds: 60 })).rejects.toThrow(/at least 32 bytes/);
  });

  it('consumes a token once; the second use is a replay', async () => {
    const ledger = new InMemoryUsedTokenLedger(() => issuedAt);
    const claims = await verifiedClaims(await createActionToken(secret, grant, { ttlSeconds: 900, now: issuedAt }));
    expect(await ledger.consume(claims.tokenId, claims.expiresAt)).toBe('fresh');
    expect(await ledger.consume(claims.tokenId, claims.expiresAt)).toBe('replayed');
    const [first, second] = await Promise.all([ledger.consume('concurrent', later(900)), ledger.consume('concurrent', later(900))]);
    expect([first, second].sort()).toEqual(['fresh', 'replayed']);
  });

  it('forgets used tokens once they have expired', async () => {
    let now = issuedAt;
    const ledger = new InMemoryUsedTokenLedger(() => now);
    await ledger.consume('short-lived', later(60));
    await ledger.consume('long-lived', later(3600));
    now = later(61);
    expect(await ledger.consume('long-lived', later(3600))).toBe('replayed');
    expect(ledger.size).toBe(1);
  });

  describe('foreign tokens', () => {
    const state = { escalationId: grant.escalationId, awaitedReviewers: ['alice', 'bob'], step: 1 };

    it('fits the escalation, step and awaited reviewer it was made for', async () => {
      const claims = await verifiedClaims(await createActionToken(secret, grant, { ttlSeconds: 900, now: issuedAt }));
      expect(checkTokenFor({ claims, ...state })).toEqual({ ok: true });
    });

    it('is foreign on another escalation', async () => {
      const claims = await verifiedClaims(await createActionToken(secret, grant, { ttlSeconds: 900, now: issuedAt }));
      expect(checkTokenFor({ claims, ...state, escalationId: 'escalation-other' })).toEqual({ ok: false, reason: 'foreign', why: expect.stringContaining('escalation-deploy-42') });
    });

    it('is foreign once the escalation has moved to another step', async () => {
      const claims = await verifiedClaims(await createActionToken(secret, grant, { ttlSeconds: 900, now: issuedAt }));
      expect(checkTokenFor({ claims, ...state, step: 2 })).toEqual({ ok: false, reason: 'foreign', why: 'this link was for step 2; the escalation has moved on to step 3' });
      expect(checkTokenFor({ claims, ...state, step: null })).toMatchObject({ ok: false, reason: 'foreign' });
    });

    it('is foreign for a reviewer the escalation no longer awaits', async () => {
      const claims = await verifiedClaims(await createActionToken(secret, grant, { ttlSeconds: 900, now: issuedAt }));
      expect(checkTokenFor({ claims, ...state, awaitedReviewers: ['bob'] })).toEqual({ ok: false, reason: 'foreign', why: 'the escalation no longer awaits a decision from alice' });
    });
  });
});

describe('action pages', () => {
  const subject: ActionSubject = {
    escalationId: 'escalation-deploy-42',
    failure: {
      gate: { name: 'unit-tests', kind: 'tests' },
      service: 'payments',
      severity: 'high',
      change: { title: 'Fix <script>alert("x")</script> & more', url: 'https://git.example.com/pr/42', author: 'dave' },
    },
  };

  it('confirms with a POST form and changes nothing to build it', () => {
    const page = confirmationPage({ subject, reviewer: 'alice', decision: 'approve' });
    expect(page.status).toBe(200);
    expect(page.html).toContain('<form method="post">');
    expect(page.html).not.toMatch(/<form[^>]*action=/);
    expect(page.html).toContain('name="comment"');
    expect(page.html).toMatch(/<button type="submit"[^>]*>Approve<\/button>/);
    for (const shown of ['unit-tests', 'payments', 'alice']) expect(page.html).toContain(shown);
    expect(page.html).not.toMatch(/<textarea[^>]* required/);
    expect(confirmationPage({ subject, reviewer: 'alice', decision: 'approve' })).toEqual(page);
  });

  it('requires a comment to reject or override, and to approve when the caller says so', () => {
    for (const decision of ['reject', 'override'] as const) {
      const page = confirmationPage({ subject, reviewer: 'alice', decision });
      expect(page.html).toMatch(/<textarea[^>]* required><\/textarea>/);
      expect(page.html).toContain('Comment (required)');
    }
    expect(confirmationPage({ subject, reviewer: 'alice', decision: 'approve', commentRequired: true }).html).toContain('Comment (required)');
  });

  it('escapes every interpolated value', () => {
    const hostile: ActionSubject = { ...subject, failure: { ...subject.failure, service: '"><img src=x onerror=alert(1)>', change: { ...subject.failure.change, author: "o'brien" } } };
    const html = confirmationPage({ subject: hostile, reviewer: '<b>alice</b>', decision: 'approve' }).html;
    expect(html).not.toContain('<script>');
    expect(html).toContain('Fix &#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; more');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>alice</b>');
    expect(html).toContain('o&#39;brien');
    const foreign = refusalPage({ reason: 'foreign', why: 'the escalation no longer awaits a decision from <script>' }).html;
    expect(foreign).not.toContain('<script>');
  });

  it('links the change only when its URL is a web address', () => {
    expect(confirmationPage({ subject, reviewer: 'alice', decision: 'approve' }).html).toContain('<a href="https://git.example.com/pr/42" rel="noreferrer noopener">');
    const scripted = { ...subject, failure: { ...subject.failure, change: { ...subject.failure.change, url: 'javascript:alert(1)' } } };
    expect(confirmationPage({ subject: scripted, reviewer: 'alice', decision: 'approve' }).html).not.toContain('javascript:');
  });

  it('shows where the escalation stands after the decision', () => {
    const waiting: ActionResultSubject = { ...subject, status: 'waiting', awaitedReviewers: ['carol'], outcome: null };
    expect(resultPage({ subject: waiting, reviewer: 'alice', decision: 'approve' })).toEqual({ status: 200, html: expect.stringContaining('now waiting on carol') });
    const ended: ActionResultSubject = { ...subject, status: 'ended', awaitedReviewers: [], outcome: { outcome: 'blocked', reason: 'rejected by alice' } };
    expect(resultPage({ subject: ended, reviewer: 'alice', decision: 'reject' }).html).toContain('ended: blocked (rejected by alice)');
  });

  it('answers each refusal with its own status and explanation', () => {
    expect(refusalPage({ reason: 'expired' })).toEqual({ status: 410, html: expect.stringContaining('This link has expired') });
    expect(refusalPage({ reason: 'replayed' })).toEqual({ status: 409, html: expect.stringContaining('already been used') });
    expect(refusalPage({ reason: 'tampered' })).toEqual({ status: 400, html: expect.stringContaining('not valid') });
    expect(refusalPage({ reason: 'malformed' })).toEqual({ status: 400, html: expect.stringContaining('not valid') });
    expect(refusalPage({ reason: 'foreign', why: 'the escalation no longer awaits a decision from alice' })).toEqual({ status: 403, html: expect.stringContaining('The escalation no longer awaits a decision from alice.') });
    expect(refusalPage({ reason: 'not-found' }).status).toBe(404);
    const refused = refusalPage({ reason: 'refused', code: 'AuthorCannotApprove', message: 'dave is the author of the change and cannot approve it' });
    expect(refused.status).toBe(403);
    expect(refused.html).toContain('AuthorCannotApprove');
    expect(refused.html).toContain('dave is the author of the change and cannot approve it');
    expect(refusalPage({ reason: 'refused', code: 'EscalationEnded', message: 'ended' }).status).toBe(409);
  });

  it('reads the posted comment, treating a blank one as none', () => {
    expect(actionFormSchema.parse({ comment: '  looks fine  ' })).toEqual({ comment: 'looks fine' });
    expect(actionFormSchema.parse({ comment: '   ' })).toEqual({ comment: undefined });
    expect(actionFormSchema.parse({})).toEqual({ comment: undefined });
    expect(actionFormSchema.safeParse({ comment: 'x'.repeat(4001) }).success).toBe(false);
  });
});
