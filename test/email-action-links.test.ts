import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildShim } from '../client/shim/app.js';
import { TokenRegistry } from '../client/shim/tokens.js';
import { startEscalator, type EscalatorEnv } from './helpers/escalator-env.js';
import { gateFailure } from './helpers/gate-failure.js';
import { sequentialPolicy } from './helpers/policies.js';

const secret = 'email-links-secret-0123456789abcdef-0000';

describe('email action links, end to end', () => {
  let env: EscalatorEnv;
  let shim: FastifyInstance;
  let base: string;

  beforeAll(async () => {
    env = await startEscalator(sequentialPolicy(), { actionSecret: secret });
    shim = buildShim({
      escalator: env.escalator,
      tokens: new TokenRegistry([{ identity: 'ci', scopes: ['raise'], token: 'ci-token-0123456789abcdef' }]),
      checkTemporal: async () => undefined,
      recordRefusal: (refusal) => env.store.recordRefusal(refusal),
      actions: { secret, consume: (id, expires) => env.store.consumeActionToken(id, expires), used: (id) => env.store.actionTokenUsed(id), recordRefusal: (r) => env.store.recordRefusal(r) },
    });
    await shim.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(shim.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await shim?.close();
    await env?.close();
  });

  /** The approve and reject links of the newest email to `reviewer`, pointed at this test's shim. */
  async function linksFor(escalationId: string, reviewer: string, count = 1): Promise<{ approve: string; reject: string }> {
    const mails = await env.smtp.waitFor((m) => m.mail.headers.get('x-escalation-id') === escalationId && m.envelopeTo.includes(`${reviewer}@example.com`), count);
    const text = mails.at(-1)!.mail.text ?? '';
    const link = (verb: string) => new RegExp(`${verb} \\(opens a confirmation page\\): (\\S+)`).exec(text)![1]!.replace(env.publicUrl, base);
    return { approve: link('Approve'), reject: link('Reject') };
  }

  it('approves through the emailed link: the GET changes nothing, the POST decides as the reviewer, by email', async () => {
    const { escalationId } = await env.escalator.raise(gateFailure());
    const { approve } = await linksFor(escalationId, 'alice');
    const page = await fetch(approve);
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toContain('no-store');
    expect(await page.text()).toContain('method="post"');
    expect((await env.escalator.status(escalationId)).decisions).toEqual([]);

    const posted = await fetch(approve, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'comment=checked+the+flaky+test' });
    expect(posted.status).toBe(200);
    const state = await env.escalator.status(escalationId);
    expect(state.decisions).toEqual([expect.objectContaining({ reviewer: 'alice', decision: 'approve', channel: 'email', comment: 'checked the flaky test' })]);
    expect(state.awaitedReviewers).toEqual(['carol']);

    const replay = await fetch(approve, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    expect(replay.status).toBe(409);
    expect(await replay.text()).toMatch(/already been used/i);
    expect((await env.escalator.status(escalationId)).decisions).toHaveLength(1);
  });

  it('keeps the link when the escalation refuses the decision, so a missing comment can be added', async () => {
    const { escalationId } = await env.escalator.raise(gateFailure());
    const { reject } = await linksFor(escalationId, 'alice');
    const refused = await fetch(reject, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('CommentRequired');
    expect(await env.store.refusals(escalationId)).toEqual([expect.objectContaining({ actor: 'alice', code: 'CommentRequired', channel: 'email' })]);
    const again = await fetch(reject, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'comment=breaks+checkout' });
    expect(again.status).toBe(200);
    expect((await env.escalator.outcome(escalationId)).outcome).toBe('blocked');
  });

  it('sends the links as buttons in an HTML part too, with the text escaped', async () => {
    const { escalationId } = await env.escalator.raise(gateFailure({ change: { ...gateFailure().change, title: 'Fix <script>alert(1)</script> totals' } }));
    const [received] = await env.smtp.waitFor((m) => m.mail.headers.get('x-escalation-id') === escalationId);
    const html = String(received!.mail.html);
    expect(html).toContain('&lt;script&gt;');
    expect(html).not.toContain('<script>');
    expect(html.match(/<a href="http:\/\/escalator\.test\/v1\/actions\/[^"]+"[^>]*>(Approve|Reject)<\/a>/g)).toHaveLength(2);
    await env.escalator.withdraw(escalationId, { by: 'ci', reason: 'done' });
  });

  it('refuses the change author approving through their own email link', async () => {
    const { escalationId } = await env.escalator.raise(gateFailure({ gate: { name: 'self-review', kind: 'review' }, change: { ...gateFailure().change, author: 'mallory' } }));
    const { approve } = await linksFor(escalationId, 'mallory');
    const refused = await fetch(approve, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('AuthorCannotApprove');
    expect(await env.store.refusals(escalationId)).toEqual([expect.objectContaining({ actor: 'mallory', code: 'AuthorCannotApprove', channel: 'email' })]);
    expect((await env.escalator.status(escalationId)).decisions).toEqual([]);
    await env.escalator.withdraw(escalationId, { by: 'ci', reason: 'done' });
  });

  it('refuses a link for a step the escalation has left, and a tampered one, changing nothing', async () => {
    const { escalationId } = await env.escalator.raise(gateFailure());
    const { approve } = await linksFor(escalationId, 'alice');
    await env.escalator.decide(escalationId, { reviewer: 'alice', decision: 'approve', channel: 'client' });
    const foreign = await fetch(approve);
    expect(foreign.status).toBe(403);
    const tampered = await fetch(`${approve.slice(0, -3)}abc`);
    expect(tampered.status).toBe(400);
    expect((await env.escalator.status(escalationId)).decisions).toHaveLength(1);
  });
});

describe('an email retried after a temporary SMTP refusal', () => {
  it('arrives once, with the Message-ID the escalation chose', async () => {
    const { startSmtpSink } = await import('./helpers/smtp-sink.js');
    const busy = await startSmtpSink({ refuseFirst: 1 });
    const env = await startEscalator(sequentialPolicy(), { environment: { ESCALATOR_SMTP_URL: busy.url } });
    try {
      const { escalationId } = await env.escalator.raise(gateFailure());
      const [mail] = await busy.waitFor((m) => m.mail.headers.get('x-escalation-id') === escalationId, 1, 30_000);
      expect(busy.refused).toBe(1);
      expect(mail!.mail.messageId).toBe(`<${escalationId}.step1.n1@escalator>`);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(busy.received.filter((m) => m.mail.headers.get('x-escalation-id') === escalationId)).toHaveLength(1);
      await env.escalator.withdraw(escalationId, { by: 'ci', reason: 'done' });
    } finally {
      await env.close();
      await busy.close();
    }
  });
});
