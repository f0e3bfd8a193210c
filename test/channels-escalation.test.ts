import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildShim } from '../client/shim/app.js';
import { TokenRegistry } from '../client/shim/tokens.js';
import { startEscalator, type EscalatorEnv } from './helpers/escalator-env.js';
import { startFakePagerDuty, type FakePagerDuty } from './helpers/fake-pagerduty.js';
import { startFakeSlack, type FakeSlack } from './helpers/fake-slack.js';
import { gateFailure } from './helpers/gate-failure.js';
import { startWebhookReceiver, type WebhookReceiver } from './helpers/webhook-receiver.js';

const slackSecret = 'slack-signing-secret-for-tests-0001';
const webhookSecret = 'webhook-secret-0123456789';

const policy = `
version: 1
defaults: { maxDepth: 3, requireComment: never }
people:
  alice:   { email: alice@example.com, slack: U0ALICE, backup: bob }
  bob:     { email: bob@example.com, slack: U0BOB, channels: [email] }
  lead:    { email: lead@example.com, slack: U0LEAD }
  mallory: { email: mallory@example.com, slack: U0MALLORY }
tiers:
  leads: { reviewers: [lead], timeout: 10m }
channels:
  bySeverity: { critical: [email, slack, pagerduty], high: [email, slack], medium: [email], low: [email] }
  pageTiers: [leads]
gates:
  release:
    model: sequential
    chain:
      - { reviewers: [alice], timeout: 1s }
    escalateTo: [leads]
  review:
    model: sequential
    chain:
      - { reviewers: [alice, mallory], timeout: 10m }
`;

describe('Slack, PagerDuty and webhooks on a real escalation', () => {
  let env: EscalatorEnv;
  let slack: FakeSlack;
  let pagerDuty: FakePagerDuty;
  let receiver: WebhookReceiver;
  let shim: FastifyInstance;
  let base: string;

  beforeAll(async () => {
    slack = await startFakeSlack({ users: ['U0ALICE', 'U0BOB', 'U0LEAD', 'U0MALLORY'] });
    pagerDuty = await startFakePagerDuty();
    receiver = await startWebhookReceiver({ secret: webhookSecret });
    env = await startEscalator(policy, {
      environment: {
        ESCALATOR_SLACK_BOT_TOKEN: slack.token,
        ESCALATOR_SLACK_API_URL: slack.url,
        ESCALATOR_PAGERDUTY_ROUTING_KEY: 'R0UTINGKEY0000000000000000000000',
        ESCALATOR_PAGERDUTY_EVENTS_URL: pagerDuty.url,
        ESCALATOR_WEBHOOK_URL: receiver.url,
        ESCALATOR_WEBHOOK_SECRET: webhookSecret,
      },
    });
    const people: Record<string, string> = { U0ALICE: 'alice', U0BOB: 'bob', U0LEAD: 'lead', U0MALLORY: 'mallory' };
    shim = buildShim({
      escalator: env.escalator,
      tokens: new TokenRegistry([{ identity: 'ci', scopes: ['raise'], token: 'ci-token-0123456789abcdef' }]),
      checkTemporal: async () => undefined,
      recordRefusal: (refusal) => env.store.recordRefusal(refusal),
      slack: { signingSecret: slackSecret, personFor: (id) => people[id], recordRefusal: (refusal) => env.store.recordRefusal(refusal) },
    });
    await shim.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(shim.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await shim?.close();
    await env?.close();
    await Promise.all([slack?.close(), pagerDuty?.close(), receiver?.close()]);
  });

  function click(user: string, actionId: string, escalationId: string, options: { actionTs?: string; ageSeconds?: number; tamper?: boolean } = {}) {
    const body = `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', user: { id: user }, actions: [{ action_id: actionId, value: JSON.stringify({ escalationId }), action_ts: options.actionTs ?? `${Date.now() / 1000}` }] }))}`;
    const timestamp = String(Math.floor(Date.now() / 1000) - (options.ageSeconds ?? 0));
    const signature = `v0=${createHmac('sha256', slackSecret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
    const sent = options.tamper ? body.replace('block_actions', 'block_actionz') : body;
    return fetch(`${base}/v1/slack/interactions`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': timestamp, 'x-slack-signature': signature }, body: sent });
  }

  it('posts a Slack request with buttons, takes the click once, pages the paging tier and resolves the incident, and signs a webhook per change', async () => {
    const { escalationId } = await env.escalator.raise(gateFailure({ gate: { name: 'release', kind: 'tests' }, severity: 'critical' }));
    // alice is asked on Slack and email; after 1 s her backup bob (email only), then the paging tier.
    await vi.waitFor(() => expect(slack.messages.map((m) => m.channel).length).toBeGreaterThanOrEqual(2), { timeout: 15_000 });
    const request = slack.callsTo('chat.postMessage')[0]!;
    expect(request.headers.authorization).toBe(`Bearer ${slack.token}`);
    expect(JSON.stringify(request.args)).toContain('escalator_approve');
    await vi.waitFor(async () => expect((await env.escalator.status(escalationId)).awaitedReviewers).toEqual(['lead']), { timeout: 15_000 });
    await vi.waitFor(() => expect(pagerDuty.incidentsFor(escalationId)).toEqual([expect.objectContaining({ state: 'triggered', severity: 'critical' })]), { timeout: 10_000 });

    // Signature checks: too old, and one changed byte.
    expect((await click('U0LEAD', 'escalator_approve', escalationId, { ageSeconds: 301 })).status).toBe(401);
    expect((await click('U0LEAD', 'escalator_approve', escalationId, { tamper: true })).status).toBe(401);
    expect((await env.escalator.status(escalationId)).decisions).toEqual([]);

    // The lead approves; Slack retries the same click (same action_ts) and it counts once.
    const actionTs = '1790000001.000200';
    const first = await click('U0LEAD', 'escalator_approve', escalationId, { actionTs });
    expect(first.status).toBe(200);
    expect((await first.json()).text).toContain('Recorded: you approved');
    const retried = await click('U0LEAD', 'escalator_approve', escalationId, { actionTs });
    expect(retried.status).toBe(200);
    const outcome = await env.escalator.outcome(escalationId);
    expect(outcome.outcome).toBe('passed');
    expect(outcome.decisions).toEqual([expect.objectContaining({ reviewer: 'lead', channel: 'slack' })]);

    await vi.waitFor(() => expect(pagerDuty.incidentsFor(escalationId)).toEqual([expect.objectContaining({ state: 'resolved' })]));
    // bob takes email only: his backup turn reached him by email, never on Slack.
    expect(slack.callsTo('conversations.open').map((call) => call.args.users)).not.toContain('U0BOB');
    expect(env.smtp.received.some((m) => m.mail.headers.get('x-escalation-id') === escalationId && m.envelopeTo.includes('bob@example.com'))).toBe(true);
    // Every posted message lost its buttons.
    await vi.waitFor(() => expect(slack.messages.filter((m) => !m.edited)).toEqual([]));
    const events = receiver.events.filter((e) => e.escalationId === escalationId);
    expect(events.at(-1)).toMatchObject({ type: 'escalation.ended' });
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  });

  it('refuses the change author approving through Slack, and says why', async () => {
    const { escalationId } = await env.escalator.raise(gateFailure({ gate: { name: 'review', kind: 'review' }, severity: 'high', change: { ...gateFailure().change, author: 'mallory' } }));
    await vi.waitFor(async () => expect((await env.escalator.status(escalationId)).status).toBe('waiting'));
    const refused = await click('U0MALLORY', 'escalator_approve', escalationId);
    expect(refused.status).toBe(200);
    expect((await refused.json()).text).toContain('AuthorCannotApprove');
    expect(await env.store.refusals(escalationId)).toEqual([expect.objectContaining({ actor: 'mallory', code: 'AuthorCannotApprove', channel: 'slack' })]);
    const stranger = await click('U0NOBODY', 'escalator_approve', escalationId);
    expect((await stranger.json()).text).toContain('not a person');
    expect((await env.escalator.status(escalationId)).decisions).toEqual([]);
    await env.escalator.withdraw(escalationId, { by: 'ci', reason: 'done' });
  });
});
