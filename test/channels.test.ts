import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPagerDuty } from '../activities/channels/pagerduty.js';
import { createSlackNotifier } from '../activities/channels/slack.js';
import { decisionActionIds, parseDecisionButtonValue, verifySlackRequest } from '../adapters/slack-interaction.js';
import type { PagerDutyTrigger, SlackDecisionRequest, WebhookEvent } from '../activities/channels/types.js';
import { createWebhookSender, signWebhookPayload, verifyWebhookSignature } from '../activities/channels/webhook.js';
import { gateFailureSchema } from '../domain/gate-failure.js';
import { startFakePagerDuty, type FakePagerDuty } from './helpers/fake-pagerduty.js';
import { startFakeSlack, type FakeSlack } from './helpers/fake-slack.js';
import { gateFailure } from './helpers/gate-failure.js';
import { startWebhookReceiver, type WebhookReceiver } from './helpers/webhook-receiver.js';
import { failureOf } from './helpers/activity-failure.js';

const failure = gateFailureSchema.parse(gateFailure({ idempotencyKey: 'gate-4711' }));
const escalationId = 'escalation-gate-4711';


describe('Slack decision requests', () => {
  let fake: FakeSlack;
  let slack: ReturnType<typeof createSlackNotifier>;

  beforeEach(async () => {
    fake = await startFakeSlack({ channels: ['C0ESCALATE'], notMemberOf: ['C0PRIVATE'], users: ['U0ALICE'] });
    slack = createSlackNotifier({ baseUrl: fake.url, botToken: fake.token });
  });
  afterEach(() => fake.close());

  function request(overrides: Partial<SlackDecisionRequest> = {}): SlackDecisionRequest {
    return {
      dedupeKey: `${escalationId}:decide:0:alice`,
      channel: 'C0ESCALATE',
      escalationId,
      purpose: 'decide',
      model: 'sequential',
      reviewer: { id: 'alice', name: 'Alice Liddell', email: 'alice@example.com' },
      failure,
      deadline: '2026-11-27T09:15:00Z',
      alsoAsked: ['bob'],
      primary: null,
      stepLabel: 'step 1 of 2, as reviewer',
      decisionUrl: `https://escalator.example.com/v1/escalations/${escalationId}`,
      ...overrides,
    };
  }

  it('posts chat.postMessage with the bearer token, fallback text, three decision buttons and the dedupe metadata', async () => {
    const posted = await slack.postSlackDecisionRequest(request());

    expect(posted).toEqual({ channel: 'C0ESCALATE', ts: fake.messages[0]?.ts, alreadyPosted: false });
    const [call] = fake.callsTo('chat.postMessage');
    expect(call?.headers.authorization).toBe(`Bearer ${fake.token}`);
    expect(call?.headers['content-type']).toBe('application/json; charset=utf-8');
    const body = JSON.parse(call?.rawBody ?? '');
    expect(Object.keys(body).sort()).toEqual(['blocks', 'channel', 'metadata', 'text', 'unfurl_links', 'unfurl_media']);
    expect(body.channel).toBe('C0ESCALATE');
    expect(body.unfurl_links).toBe(false);
    expect(body.text).toBe(
      `[Escalator] high: integration-tests failed on checkout — your decision (step 1 of 2, as reviewer), before 2026-11-27T09:15:00Z. https://escalator.example.com/v1/escalations/${escalationId}`,
    );
    expect(body.metadata).toEqual({ event_type: 'escalator_decision_request', event_payload: { dedupe_key: `${escalationId}:decide:0:alice`, escalation_id: escalationId } });
    expect(body.blocks.map((block: { type: string }) => block.type)).toEqual(['header', 'section', 'actions', 'context']);
    expect(body.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'integration-tests failed on checkout' } });
    expect(body.blocks[1].text).toEqual({ type: 'mrkdwn', text: '*Alice Liddell*, your decision is needed (step 1 of 2, as reviewer).' });
    expect(body.blocks[1].fields.map((field: { text: string }) => field.text)).toEqual([
      '*Gate*\nintegration-tests (tests)',
      '*Service*\ncheckout',
      '*Severity*\nhigh',
      '*Repository*\nacme/checkout',
      '*Change*\n<https://git.example.com/acme/checkout/pull/42|Speed up basket totals> (`a1b2c3d4e5f6`) by mallory',
      '*Pipeline*\n<https://ci.example.com/acme/checkout/runs/7781|run-7781>',
      `*Deadline*\n<!date^${Date.parse('2026-11-27T09:15:00Z') / 1000}^{date_short_pretty} {time}|2026-11-27T09:15:00Z>`,
      '*Also asked*\nbob',
    ]);
    const value = JSON.stringify({ escalationId });
    expect(body.blocks[2]).toEqual({
      type: 'actions',
      block_id: 'escalator_decision',
      elements: [
        { type: 'button', text: { type: 'plain_text', text: 'Approve' }, style: 'primary', action_id: 'escalator_approve', value },
        { type: 'button', text: { type: 'plain_text', text: 'Reject' }, style: 'danger', action_id: 'escalator_reject', value },
        { type: 'button', text: { type: 'plain_text', text: 'Acknowledge' }, action_id: 'escalator_acknowledge', value },
      ],
    });
    expect(body.blocks[3]).toEqual({ type: 'context', elements: [{ type: 'mrkdwn', text: `Escalation <https://escalator.example.com/v1/escalations/${escalationId}|${escalationId}>` }] });
    expect(parseDecisionButtonValue(value)).toEqual({ escalationId });
    expect(decisionActionIds).toEqual({ approve: 'escalator_approve', reject: 'escalator_reject', acknowledge: 'escalator_acknowledge' });
  });

  it('names the primary reviewer of a parallel vote, and offers only Acknowledge for a break-glass review', async () => {
    await slack.postSlackDecisionRequest(request({ model: 'parallel', primary: 'alice', stepLabel: 'vote 1 of 3', dedupeKey: 'vote' }));
    await slack.postSlackDecisionRequest(request({ purpose: 'review-override', dedupeKey: 'review' }));

    const [vote, review] = fake.messages.map((message) => message.blocks as any[]);
    expect(vote?.[1].text.text).toBe('*Alice Liddell*, your vote is needed (vote 1 of 3).');
    expect(vote?.[1].fields.at(-1).text).toBe('*Primary*\nyou');
    expect(review?.[0].text.text).toBe('Override to review: integration-tests failed on checkout');
    expect(review?.[2].elements.map((button: { action_id: string }) => button.action_id)).toEqual(['escalator_acknowledge']);
  });

  it('escapes &, < and > in text that came from the change', async () => {
    const tricky = gateFailureSchema.parse(gateFailure({ change: { ...failure.change, title: 'Fix <b> & <!channel>', author: 'eve>' } }));
    await slack.postSlackDecisionRequest(request({ failure: tricky }));

    const fields = (fake.messages[0]?.blocks as any[])[1].fields.map((field: { text: string }) => field.text);
    expect(fields[4]).toBe('*Change*\n<https://git.example.com/acme/checkout/pull/42|Fix &lt;b&gt; &amp; &lt;!channel&gt;> (`a1b2c3d4e5f6`) by eve&gt;');
  });

  it('reaches a user id through its DM conversation, whose D… id it returns for later updates', async () => {
    const posted = await slack.postSlackDecisionRequest(request({ channel: 'U0ALICE' }));

    expect(posted.channel).toBe(fake.dmOf('U0ALICE'));
    expect(fake.callsTo('conversations.open')[0]?.args).toEqual({ users: 'U0ALICE' });
    expect(fake.messagesIn(fake.dmOf('U0ALICE'))).toHaveLength(1);
    await slack.updateSlackMessage({ ...posted, escalationId, status: 'Approved by alice', failure });
    expect(fake.messagesIn(fake.dmOf('U0ALICE'))[0]?.edited).toBe(true);
  });

  it('shows one message when a post is retried after Slack answered 500', async () => {
    fake.failNext('chat.postMessage', { status: 500 });

    const failed = await failureOf(slack.postSlackDecisionRequest(request()));
    expect(failed).toMatchObject({ type: 'SlackUnavailable', nonRetryable: false });
    const posted = await slack.postSlackDecisionRequest(request());

    expect(posted.alreadyPosted).toBe(false);
    expect(fake.messages).toHaveLength(1);
  });

  it('returns the first message when a post is repeated after its response was lost', async () => {
    fake.failNext('chat.postMessage', { dropResponse: true });

    const failed = await failureOf(slack.postSlackDecisionRequest(request()));
    expect(failed).toMatchObject({ type: 'SlackUnavailable', nonRetryable: false });
    expect(fake.messages).toHaveLength(1);
    const retried = await slack.postSlackDecisionRequest(request());

    expect(retried).toEqual({ channel: 'C0ESCALATE', ts: fake.messages[0]?.ts, alreadyPosted: true });
    expect(fake.messages).toHaveLength(1);
    expect(fake.callsTo('chat.postMessage')).toHaveLength(1);
    expect(fake.callsTo('conversations.history').map((call) => call.args)).toEqual([
      { channel: 'C0ESCALATE', limit: '20', include_all_metadata: 'true' },
      { channel: 'C0ESCALATE', limit: '20', include_all_metadata: 'true' },
    ]);
  });

  it('posts again for a different dedupe key, such as a reminder', async () => {
    await slack.postSlackDecisionRequest(request());
    await slack.postSlackDecisionRequest(request({ purpose: 'reminder', dedupeKey: `${escalationId}:reminder:1:alice` }));

    expect(fake.messages).toHaveLength(2);
    expect(fake.messages[1]?.text).toMatch(/^\[Escalator\] Reminder: high: integration-tests failed on checkout/);
  });

  it('turns a 429 into a retryable failure that waits as long as Retry-After says', async () => {
    fake.failNext('chat.postMessage', { status: 429, retryAfter: 7 });

    const failed = await failureOf(slack.postSlackDecisionRequest(request()));

    expect(failed).toMatchObject({ type: 'SlackRateLimited', nonRetryable: false, nextRetryDelay: 7000 });
    expect(fake.messages).toHaveLength(0);
  });

  it.each([
    ['a revoked token', { botToken: 'xoxb-revoked' }, {}, 'invalid_auth'],
    ['an unknown channel', {}, { channel: 'C0NOWHERE' }, 'channel_not_found'],
    ['a channel the bot is not in', {}, { channel: 'C0PRIVATE' }, 'not_in_channel'],
  ])('refuses %s without retrying', async (_case, settings, overrides, error) => {
    const notifier = createSlackNotifier({ baseUrl: fake.url, botToken: fake.token, ...settings });

    const failed = await failureOf(notifier.postSlackDecisionRequest(request(overrides)));

    expect(failed).toMatchObject({ type: 'SlackRefused', nonRetryable: true });
    expect(failed.message).toContain(error);
    expect(fake.messages).toHaveLength(0);
  });

  it.each([
    ['account_inactive', 'SlackRefused', true],
    ['missing_scope', 'SlackRefused', true],
    ['internal_error', 'SlackUnavailable', false],
    ['ratelimited', 'SlackRateLimited', false],
  ])('maps Slack error %s to %s (non-retryable: %s)', async (error, type, nonRetryable) => {
    fake.failNext('conversations.history', { error });

    const failed = await failureOf(slack.postSlackDecisionRequest(request()));

    expect(failed).toMatchObject({ type, nonRetryable });
  });

  it('replaces the buttons with the state through chat.update, keeping the metadata a retried post looks for', async () => {
    const posted = await slack.postSlackDecisionRequest(request());

    await slack.updateSlackMessage({ channel: posted.channel, ts: posted.ts, escalationId, status: 'Approved by alice', outcome: 'passed', failure });

    const [call] = fake.callsTo('chat.update');
    expect(call?.headers.authorization).toBe(`Bearer ${fake.token}`);
    expect(Object.keys(call?.args ?? {}).sort()).toEqual(['blocks', 'channel', 'text', 'ts']);
    const [message] = fake.messages;
    expect(message?.edited).toBe(true);
    expect(message?.text).toBe('[Escalator] integration-tests on checkout: Approved by alice');
    const blocks = message?.blocks as any[];
    expect(blocks.map((block) => block.type)).toEqual(['header', 'section', 'section', 'context']);
    expect(blocks[2].text.text).toBe(':white_check_mark: *Approved by alice*');
    expect(blocks[3].elements[0].text).toBe(`Escalation ${escalationId} · ended: passed`);
    expect(message?.metadata?.event_payload).toEqual({ dedupe_key: `${escalationId}:decide:0:alice`, escalation_id: escalationId });
    expect(await slack.postSlackDecisionRequest(request())).toEqual({ ...posted, alreadyPosted: true });
  });

  it('shows an open escalation as still open, and refuses to update a message that does not exist', async () => {
    const posted = await slack.postSlackDecisionRequest(request());
    await slack.updateSlackMessage({ ...posted, escalationId, status: 'Escalated to tier sre', failure });
    expect((fake.messages[0]?.blocks as any[])[3].elements[0].text).toBe(`Escalation ${escalationId} · still open`);

    const failed = await failureOf(slack.updateSlackMessage({ channel: 'C0ESCALATE', ts: '1.000001', escalationId, status: 'Ended: passed', outcome: 'passed', failure }));
    expect(failed).toMatchObject({ type: 'SlackRefused', nonRetryable: true });
    expect(failed.message).toContain('message_not_found');
  });
});

describe('Slack request signatures', () => {
  // The worked example of docs.slack.dev "Verifying requests from Slack".
  const secret = '8f742231b10e8888abcd99yyyzzz85a5';
  const timestamp = '1531420618';
  const body =
    'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
  const headers = { 'x-slack-request-timestamp': timestamp, 'x-slack-signature': 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503' };
  const at = (seconds: number) => ({ now: (Number(timestamp) + seconds) * 1000 });

  it("accepts Slack's documented example and refuses it changed or replayed late", () => {
    expect(verifySlackRequest(secret, headers, body, at(60))).toEqual({ valid: true });
    expect(verifySlackRequest(secret, headers, body.replace('roadrunner', 'roadrunnex'), at(60))).toEqual({ valid: false, reason: 'bad-signature' });
    expect(verifySlackRequest(secret, headers, body, at(301))).toEqual({ valid: false, reason: 'stale-timestamp' });
    expect(verifySlackRequest(secret, {}, body, at(0))).toEqual({ valid: false, reason: 'missing-headers' });
  });
});

describe('PagerDuty Events API v2', () => {
  const routingKey = '0123456789abcdef0123456789abcdef';
  let fake: FakePagerDuty;
  let pagerDuty: ReturnType<typeof createPagerDuty>;

  beforeEach(async () => {
    fake = await startFakePagerDuty();
    pagerDuty = createPagerDuty({ eventsUrl: fake.url, routingKey });
  });
  afterEach(() => fake.close());

  function trigger(overrides: Partial<PagerDutyTrigger> = {}): PagerDutyTrigger {
    return {
      escalationId,
      summary: 'high: integration-tests failed on checkout, nobody decided in time',
      severity: 'high',
      source: 'checkout',
      component: 'integration-tests',
      group: 'acme/checkout',
      class: 'tests',
      links: [
        { href: failure.change.url, text: 'Change' },
        { href: failure.pipelineRun.url, text: 'Pipeline run' },
      ],
      customDetails: { escalationId, sha: failure.change.sha, depth: 2 },
      timestamp: failure.occurredAt,
      ...overrides,
    };
  }

  it('triggers with the documented fields and the escalation id as dedup_key', async () => {
    const result = await pagerDuty.triggerIncident(trigger());

    expect(result).toEqual({ dedupKey: escalationId });
    const [request] = fake.requests;
    expect(request?.status).toBe(202);
    expect(request?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(request?.rawBody ?? '')).toEqual({
      routing_key: routingKey,
      event_action: 'trigger',
      dedup_key: escalationId,
      payload: {
        summary: 'high: integration-tests failed on checkout, nobody decided in time',
        source: 'checkout',
        severity: 'error',
        timestamp: '2026-11-27T09:00:00Z',
        component: 'integration-tests',
        group: 'acme/checkout',
        class: 'tests',
        custom_details: { escalationId, sha: failure.change.sha, depth: 2 },
      },
      links: [
        { href: 'https://git.example.com/acme/checkout/pull/42', text: 'Change' },
        { href: 'https://ci.example.com/acme/checkout/runs/7781', text: 'Pipeline run' },
      ],
    });
  });

  it.each([
    ['critical', 'critical'],
    ['high', 'error'],
    ['medium', 'warning'],
    ['low', 'info'],
  ] as const)('maps severity %s to %s', async (severity, expected) => {
    await pagerDuty.triggerIncident(trigger({ escalationId: `escalation-${severity}`, severity }));

    expect(fake.incidentsFor(`escalation-${severity}`)[0]?.severity).toBe(expected);
  });

  it('keeps one incident through a repeated trigger, an acknowledge and a resolve', async () => {
    await pagerDuty.triggerIncident(trigger());
    await pagerDuty.triggerIncident(trigger());
    await pagerDuty.acknowledgeIncident(escalationId);
    await pagerDuty.resolveIncident(escalationId);

    expect(fake.incidents).toHaveLength(1);
    expect(fake.incidentsFor(escalationId)).toEqual([expect.objectContaining({ state: 'resolved', log: ['trigger', 'trigger', 'acknowledge', 'resolve'] })]);
    expect(fake.requests.slice(2).map((request) => JSON.parse(request.rawBody))).toEqual([
      { routing_key: routingKey, event_action: 'acknowledge', dedup_key: escalationId },
      { routing_key: routingKey, event_action: 'resolve', dedup_key: escalationId },
    ]);
  });

  it('retries a trigger after 500 and 429 without opening a second incident', async () => {
    fake.failNext(500);
    expect(await failureOf(pagerDuty.triggerIncident(trigger()))).toMatchObject({ type: 'PagerDutyUnavailable', nonRetryable: false });
    fake.failNext(429);
    expect(await failureOf(pagerDuty.triggerIncident(trigger()))).toMatchObject({ type: 'PagerDutyThrottled', nonRetryable: false, nextRetryDelay: '30s' });
    await pagerDuty.triggerIncident(trigger());
    await pagerDuty.triggerIncident(trigger());

    expect(fake.incidentsFor(escalationId)).toHaveLength(1);
  });

  it('cuts a summary to the 1024 characters PagerDuty accepts', async () => {
    await pagerDuty.triggerIncident(trigger({ summary: 'x'.repeat(2000) }));

    expect(fake.incidents[0]?.summary).toHaveLength(1024);
  });

  it('refuses an invalid event (400) without retrying', async () => {
    const misconfigured = createPagerDuty({ eventsUrl: fake.url, routingKey: 'too-short' });

    const failed = await failureOf(misconfigured.triggerIncident(trigger()));

    expect(failed).toMatchObject({ type: 'PagerDutyRefused', nonRetryable: true });
    expect(failed.message).toContain("Length of 'routing_key' is incorrect");
    expect(fake.requests[0]?.status).toBe(400);
    expect(fake.incidents).toHaveLength(0);
  });

  it('lets PagerDuty drop a resolve for an escalation that never paged', async () => {
    await pagerDuty.resolveIncident('escalation-quiet');

    expect(fake.incidents).toHaveLength(0);
    expect(fake.dropped).toEqual([{ action: 'resolve', dedupKey: 'escalation-quiet' }]);
  });
});

describe('outbound webhooks', () => {
  const secret = 'whsec-0123456789abcdef';
  const event: WebhookEvent = { id: `${escalationId}:7`, type: 'escalation.decided', escalationId, occurredAt: '2026-11-27T09:05:00Z', data: { reviewer: 'alice', decision: 'approve' } };
  let receiver: WebhookReceiver | undefined;

  afterEach(async () => {
    await receiver?.close();
    receiver = undefined;
  });

  it('posts the event as signed JSON that the receiver verifies', async () => {
    receiver = await startWebhookReceiver({ secret });
    const before = Math.floor(Date.now() / 1000);

    expect(await createWebhookSender({ url: receiver.url, secret }).sendWebhookEvent(event)).toEqual({ status: 200 });

    const [delivery] = receiver.deliveries;
    const timestamp = Number(delivery?.headers['x-escalator-timestamp']);
    expect(timestamp).toBeGreaterThanOrEqual(before);
    expect(delivery?.headers['content-type']).toBe('application/json');
    expect(delivery?.headers['x-escalator-event-id']).toBe(event.id);
    // Computed here, independently of the sender's signer.
    expect(delivery?.headers['x-escalator-signature']).toBe(`v1=${createHmac('sha256', secret).update(`${timestamp}.${delivery?.rawBody}`).digest('hex')}`);
    expect(JSON.parse(delivery?.rawBody ?? '')).toEqual(event);
    expect(delivery?.check).toEqual({ valid: true });
    expect(receiver.events).toEqual([event]);
  });

  it('fails verification when a single byte of the body changed, or the secret differs', () => {
    const now = Date.parse('2026-11-27T09:05:00Z');
    const timestamp = now / 1000;
    const rawBody = Buffer.from(JSON.stringify(event));
    const headers = new Headers({ 'X-Escalator-Timestamp': String(timestamp), 'X-Escalator-Signature': signWebhookPayload(secret, timestamp, rawBody) });
    expect(verifyWebhookSignature(secret, headers, rawBody, { now })).toEqual({ valid: true });

    const tampered = Buffer.from(rawBody);
    tampered[tampered.indexOf('alice')] = 'm'.charCodeAt(0);
    expect(verifyWebhookSignature(secret, headers, tampered, { now })).toEqual({ valid: false, reason: 'bad-signature' });
    expect(verifyWebhookSignature('whsec-other', headers, rawBody, { now })).toEqual({ valid: false, reason: 'bad-signature' });
  });

  it('refuses a timestamp 301 s old and accepts one 300 s old', () => {
    const now = Date.parse('2026-11-27T09:05:00Z');
    const rawBody = JSON.stringify(event);
    const signedAt = (timestamp: number) => ({ 'x-escalator-timestamp': String(timestamp), 'x-escalator-signature': signWebhookPayload(secret, timestamp, rawBody) });

    expect(verifyWebhookSignature(secret, signedAt(now / 1000 - 301), rawBody, { now })).toEqual({ valid: false, reason: 'stale-timestamp' });
    expect(verifyWebhookSignature(secret, signedAt(now / 1000 - 300), rawBody, { now })).toEqual({ valid: true });
    expect(verifyWebhookSignature(secret, signedAt(now / 1000 + 301), rawBody, { now })).toEqual({ valid: false, reason: 'stale-timestamp' });
  });

  it('accepts any listed signature while a secret is rotated', () => {
    const now = Date.parse('2026-11-27T09:05:00Z');
    const rawBody = JSON.stringify(event);
    const headers = { 'x-escalator-timestamp': String(now / 1000), 'x-escalator-signature': `${signWebhookPayload('whsec-old', now / 1000, rawBody)}, ${signWebhookPayload(secret, now / 1000, rawBody)}` };

    expect(verifyWebhookSignature(secret, headers, rawBody, { now })).toEqual({ valid: true });
  });

  it('counts an event redelivered after a failed and a lost answer once', async () => {
    receiver = await startWebhookReceiver({ secret, statuses: [503, 200] });
    const sender = createWebhookSender({ url: receiver.url, secret });

    expect(await failureOf(sender.sendWebhookEvent(event))).toMatchObject({ type: 'WebhookUnavailable', nonRetryable: false });
    await sender.sendWebhookEvent(event);
    // The receiver stored it but the sender never heard: the activity delivers it again.
    await sender.sendWebhookEvent(event);

    expect(receiver.deliveries.map((delivery) => [delivery.status, delivery.duplicate])).toEqual([
      [503, false],
      [200, false],
      [200, true],
    ]);
    expect(receiver.events).toEqual([event]);
  });

  it.each([
    [410, 'WebhookGone', true],
    [400, 'WebhookRefused', true],
    [404, 'WebhookRefused', true],
    [408, 'WebhookUnavailable', false],
    [429, 'WebhookUnavailable', false],
    [500, 'WebhookUnavailable', false],
  ])('turns an answer %i into %s (non-retryable: %s)', async (status, type, nonRetryable) => {
    receiver = await startWebhookReceiver({ secret, statuses: [status] });

    const failed = await failureOf(createWebhookSender({ url: receiver.url, secret }).sendWebhookEvent(event));

    expect(failed).toMatchObject({ type, nonRetryable });
  });

  it('is refused by a receiver holding another secret, and retried when nothing listens', async () => {
    receiver = await startWebhookReceiver({ secret: 'whsec-other' });
    const refused = await failureOf(createWebhookSender({ url: receiver.url, secret }).sendWebhookEvent(event));
    expect(refused).toMatchObject({ type: 'WebhookRefused', nonRetryable: true });
    expect(receiver.deliveries[0]?.check).toEqual({ valid: false, reason: 'bad-signature' });
    expect(receiver.events).toEqual([]);

    const { url } = receiver;
    await receiver.close();
    receiver = undefined;
    const unreachable = await failureOf(createWebhookSender({ url, secret, timeoutMs: 2000 }).sendWebhookEvent(event));
    expect(unreachable).toMatchObject({ type: 'WebhookUnavailable', nonRetryable: false });
  });
});
