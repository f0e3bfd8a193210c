import { readFile } from 'node:fs/promises';
import { workflowMetadataQuery } from '@temporalio/workflow';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { renderEscalation } from '../client/cli/render-escalation.js';
import { DecisionRefusedError } from '../client/errors.js';
import type { EscalationView } from '../domain/escalation.js';
import { startEscalator, type EscalatorEnv } from './helpers/escalator-env.js';
import { gateFailure } from './helpers/gate-failure.js';
import { placeWindows } from './helpers/policy-windows.js';

// The shipped policy with its windows placed around the moment this file starts: once with quiet
// hours under way (carol on call), once outside them. Two extra gates put one person on two steps,
// with separation of duties on (the default) and off.
const extraGates = `gates:
  twice:
    model: sequential
    chain:
      - { reviewers: [alice], timeout: 30m }
      - { reviewers: [alice, bob], timeout: 30m }
  twice-allowed:
    model: sequential
    oneDecisionPerPerson: false
    chain:
      - { reviewers: [alice], timeout: 30m }
      - { reviewers: [alice], timeout: 30m }
`;
const people = ['alice', 'bob', 'carol', 'dave', 'dana', 'erin'];

async function examplePolicy(placement: 'inside' | 'outside'): Promise<string> {
  const placed = placeWindows(await readFile('policies/example.yaml', 'utf8'), new Date(), placement, { onCall: { 'primary-oncall': 'carol' } });
  return placed.replace(/^gates:\n/m, extraGates);
}

/** Everything that says who the escalation waits for, read at one moment. */
async function surfaces(env: EscalatorEnv, escalationId: string) {
  const state = await env.escalator.status(escalationId);
  const { currentDetails } = await env.client.workflow.getHandle(escalationId).query(workflowMetadataQuery);
  const load = await env.store.currentLoad(people);
  return { state, currentDetails: currentDetails ?? '', storeAwaiting: people.filter((id) => load[id]! > 0) };
}

/** The update's answer, the query, the UI's current details and the store agree on who is awaited. */
async function expectSurfacesAgree(env: EscalatorEnv, escalationId: string, answer: Pick<EscalationView, 'awaitedReviewers' | 'heldReviewers'>): Promise<void> {
  await vi.waitFor(async () => {
    const { state, currentDetails, storeAwaiting } = await surfaces(env, escalationId);
    expect(state.awaitedReviewers).toEqual(answer.awaitedReviewers);
    expect(state.heldReviewers).toEqual(answer.heldReviewers);
    expect(currentDetails).toContain(`**Waiting for** ${answer.awaitedReviewers.join(', ')} until`);
    for (const held of answer.heldReviewers) expect(currentDetails).toContain(`${held.reviewer} (asked at ${held.until} if still awaited)`);
    expect(storeAwaiting).toEqual([...answer.awaitedReviewers].sort());
  });
}

function mailsOf(env: EscalatorEnv, escalationId: string) {
  return env.smtp.received.filter((m) => m.mail.headers.get('x-escalation-id') === escalationId);
}

async function refusal(promise: Promise<unknown>): Promise<DecisionRefusedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DecisionRefusedError);
  return error as DecisionRefusedError;
}

describe('during quiet hours, with carol on call', () => {
  let env: EscalatorEnv;

  beforeAll(async () => {
    env = await startEscalator(await examplePolicy('inside'));
  });
  afterAll(async () => env?.close());

  it('lets the on-call stand in for one step only: nobody decides two steps, and every surface says who is awaited and who is held', async () => {
    const { escalationId } = await env.escalator.raise(gateFailure({ severity: 'medium' }));
    await vi.waitFor(async () => expect((await env.escalator.status(escalationId)).status).toBe('waiting'));

    // Step 1 (alice): alice is held, carol is paged and stands in for her.
    const first = await env.escalator.status(escalationId);
    expect(first.awaitedReviewers).toEqual(['alice', 'carol']);
    expect(first.heldReviewers).toEqual([{ reviewer: 'alice', until: expect.any(String) }]);
    const heldUntil = Date.parse(first.heldReviewers[0]!.until);
    expect(heldUntil).toBeGreaterThan(Date.now() + 60 * 60_000);
    expect(first.timeline.find((e) => e.event === 'quiet-hours')).toMatchObject({ notified: ['carol'], held: ['alice'], standIn: 'carol', until: first.heldReviewers[0]!.until });
    await expectSurfacesAgree(env, escalationId, first);
    const [paged] = await env.smtp.waitFor((m) => m.mail.headers.get('x-escalation-id') === escalationId);
    expect(paged!.envelopeTo).toEqual(['carol@example.com']);
    expect(paged!.mail.text).toContain(`Held back by quiet hours (asked when they end, if still awaited): alice at ${first.heldReviewers[0]!.until}.`);
    expect(paged!.mail.text).toContain('Nobody else is asked at this step.');

    // alice decides anyway (held reviewers may); step 2 is carol's own.
    const second = await env.escalator.decide(escalationId, { reviewer: 'alice', decision: 'approve', channel: 'client' });
    expect(second).toMatchObject({ step: 1, awaitedReviewers: ['carol'], heldReviewers: [] });
    await expectSurfacesAgree(env, escalationId, second);

    // carol approves step 2. Step 3 is erin's, held till morning; carol decided already, so she may not stand in.
    const third = await env.escalator.decide(escalationId, { reviewer: 'carol', decision: 'approve', channel: 'client' });
    expect(third).toMatchObject({ step: 2, awaitedReviewers: ['erin'], heldReviewers: [{ reviewer: 'erin', until: first.heldReviewers[0]!.until }] });
    await expectSurfacesAgree(env, escalationId, third);
    const thirdView = await env.escalator.status(escalationId);
    expect(renderEscalation(thirdView, { timelineEntries: 3, now: new Date() })).toMatch(/held back\s+│ erin until \S+ \(quiet hours; asked then if still awaited\)/);
    expect(thirdView.timeline.filter((e) => e.event === 'quiet-hours').at(-1)).toMatchObject({ notified: [], held: ['erin'], standIn: null });
    const again = await refusal(env.escalator.decide(escalationId, { reviewer: 'carol', decision: 'approve', channel: 'client' }));
    expect(again).toMatchObject({ code: 'AlreadyVoted', message: 'carol already decided step 2 of this escalation; one person decides at most one step' });
    const reassigned = await refusal(env.escalator.reassign(escalationId, { by: 'erin', to: 'alice', reason: 'she knows it', channel: 'client' }));
    expect(reassigned.message).toBe('alice already decided step 1 of this escalation; one person decides at most one step');

    // carol was emailed for steps 1 (standing in) and 2, nobody for step 3; erin decides when she
    // comes by, and nobody keeps a load.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(mailsOf(env, escalationId).flatMap((m) => m.envelopeTo)).toEqual(['carol@example.com', 'carol@example.com']);
    const end = await env.escalator.decide(escalationId, { reviewer: 'erin', decision: 'approve', channel: 'client' });
    expect(end.outcome).toMatchObject({ outcome: 'passed' });
    expect((await env.escalator.status(escalationId)).decisions.map((d) => [d.reviewer, d.step])).toEqual([
      ['alice', 0],
      ['carol', 1],
      ['erin', 2],
    ]);
    await vi.waitFor(async () => expect(await env.store.currentLoad(people)).toEqual(Object.fromEntries(people.map((id) => [id, 0]))));
  });

  it('counts one vote per person in a parallel vote of a pool the on-call belongs to', async () => {
    const { escalationId } = await env.escalator.raise(gateFailure({ gate: { name: 'performance', kind: 'performance' }, severity: 'low' }));
    await vi.waitFor(async () => expect((await env.escalator.status(escalationId)).status).toBe('waiting'));
    const state = await env.escalator.status(escalationId);
    // The pool (alice, bob, carol) includes the on-call: she is asked as herself, the others are held.
    expect(state.awaitedReviewers).toEqual(['alice', 'bob', 'carol']);
    expect(state.heldReviewers.map((h) => h.reviewer)).toEqual(['alice', 'bob']);
    await expectSurfacesAgree(env, escalationId, state);
    const voted = await env.escalator.decide(escalationId, { reviewer: 'carol', decision: 'approve', channel: 'client' });
    expect(voted).toMatchObject({ awaitedReviewers: ['alice', 'bob'], votes: { approve: 1 } });
    const twice = await refusal(env.escalator.decide(escalationId, { reviewer: 'carol', decision: 'approve', channel: 'client' }));
    expect(twice.code).toBe('AlreadyVoted');
    const passed = await env.escalator.decide(escalationId, { reviewer: 'bob', decision: 'approve', channel: 'client' });
    expect(passed.outcome?.outcome).toBe('passed');
    await vi.waitFor(async () => expect(await env.store.currentLoad(people)).toEqual(Object.fromEntries(people.map((id) => [id, 0]))));
  });
});

describe('outside quiet hours', () => {
  let env: EscalatorEnv;

  beforeAll(async () => {
    env = await startEscalator(await examplePolicy('outside'));
  });
  afterAll(async () => env?.close());

  it('asks the step’s reviewer at once and holds nobody', async () => {
    const { escalationId } = await env.escalator.raise(gateFailure({ severity: 'medium' }));
    await vi.waitFor(async () => expect((await env.escalator.status(escalationId)).status).toBe('waiting'));
    const state = await env.escalator.status(escalationId);
    expect(state).toMatchObject({ awaitedReviewers: ['alice'], heldReviewers: [] });
    expect(state.timeline.some((e) => e.event === 'quiet-hours')).toBe(false);
    await expectSurfacesAgree(env, escalationId, state);
    const [mail] = await env.smtp.waitFor((m) => m.mail.headers.get('x-escalation-id') === escalationId);
    expect(mail!.envelopeTo).toEqual(['alice@example.com']);
    await env.escalator.withdraw(escalationId, { by: 'ci', reason: 'done' });
  });

  it('does not let the reviewer of one step decide a later one, and skips them when it asks', async () => {
    const { escalationId } = await env.escalator.raise(gateFailure({ gate: { name: 'twice', kind: 'tests' }, severity: 'low' }));
    await vi.waitFor(async () => expect((await env.escalator.status(escalationId)).status).toBe('waiting'));
    const next = await env.escalator.decide(escalationId, { reviewer: 'alice', decision: 'approve', channel: 'client' });
    expect(next).toMatchObject({ step: 1, awaitedReviewers: ['bob'] });
    await expectSurfacesAgree(env, escalationId, next);
    const refused = await refusal(env.escalator.decide(escalationId, { reviewer: 'alice', decision: 'approve', channel: 'client' }));
    expect(refused.message).toBe('alice already decided step 1 of this escalation; one person decides at most one step');
    const mails = await env.smtp.waitFor((m) => m.mail.headers.get('x-escalation-id') === escalationId, 2);
    expect(mails.flatMap((m) => m.envelopeTo)).toEqual(['alice@example.com', 'bob@example.com']);
    const end = await env.escalator.decide(escalationId, { reviewer: 'bob', decision: 'approve', channel: 'client' });
    expect(end.outcome?.outcome).toBe('passed');
  });

  it('lets the same person decide several steps where the gate allows it', async () => {
    const { escalationId } = await env.escalator.raise(gateFailure({ gate: { name: 'twice-allowed', kind: 'tests' }, severity: 'low' }));
    await vi.waitFor(async () => expect((await env.escalator.status(escalationId)).status).toBe('waiting'));
    const next = await env.escalator.decide(escalationId, { reviewer: 'alice', decision: 'approve', channel: 'client' });
    expect(next).toMatchObject({ step: 1, awaitedReviewers: ['alice'] });
    const end = await env.escalator.decide(escalationId, { reviewer: 'alice', decision: 'approve', channel: 'client' });
    expect(end.outcome?.outcome).toBe('passed');
  });
});
