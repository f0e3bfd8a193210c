import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { workflowMetadataQuery } from '@temporalio/workflow';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { ensureTemporalCli } from '../scripts/temporal-cli.js';
import { AwaitedReviewers, ChangeAuthor, EscalationDepth, EscalationModel, EscalationState, Gate, Service, Severity } from '../workflows/search-attributes.js';
import { startEscalator, type EscalatorEnv } from './helpers/escalator-env.js';
import { gateFailure } from './helpers/gate-failure.js';
import { sequentialPolicy } from './helpers/policies.js';

describe('what an operator sees in the Temporal UI', () => {
  let env: EscalatorEnv;

  beforeAll(async () => {
    env = await startEscalator(sequentialPolicy());
  });
  afterAll(async () => env?.close());

  it('gives every run search attributes, a summary, details, current details and memo links', async () => {
    const failure = gateFailure({ severity: 'critical', change: { ...gateFailure().change, author: 'mallory-gh' } });
    const { escalationId } = await env.escalator.raise(failure);
    await vi.waitFor(async () => expect((await env.escalator.status(escalationId)).status).toBe('waiting'));
    const handle = env.escalator.handle(escalationId);
    const description = await handle.describe();

    expect(await description.staticSummary()).toBe('critical: integration-tests failed on checkout — Speed up basket totals');
    expect(await description.staticDetails()).toContain(`[run-7781](${failure.pipelineRun.url})`);
    expect(await description.memo).toMatchObject({ pipelineRunUrl: failure.pipelineRun.url, changeUrl: failure.change.url, policyVersion: expect.stringMatching(/^sha256:/), selectedBy: "gate integration-tests's own model" });
    const attributes = description.typedSearchAttributes;
    expect(attributes.get(Gate)).toBe('integration-tests');
    expect(attributes.get(Service)).toBe('checkout');
    expect(attributes.get(Severity)).toBe('critical');
    expect(attributes.get(ChangeAuthor)).toBe('mallory-gh');
    expect(attributes.get(EscalationModel)).toBe('sequential');
    expect(attributes.get(EscalationState)).toBe('waiting');
    expect(attributes.get(EscalationDepth)).toBe(0);
    expect(attributes.get(AwaitedReviewers)).toEqual(['alice']);

    const metadata = await handle.query(workflowMetadataQuery);
    expect(metadata.currentDetails).toMatch(/^\*\*Waiting for\*\* alice until \S+ \(step 1 of 3, primary\)\./);
    expect(metadata.currentDetails).toContain("Model **sequential**: gate integration-tests's own model.");

    const history = await handle.fetchHistory();
    const summaries = await Promise.all(
      (history.events ?? []).filter((e) => e.userMetadata?.summary).map(async (e) => env.client.options.loadedDataConverter.payloadConverter.fromPayload(e.userMetadata!.summary!)),
    );
    expect(summaries).toEqual(expect.arrayContaining(['email alice (step 1)', 'decision deadline, step 1 primary']));

    await env.escalator.decide(escalationId, { reviewer: 'alice', decision: 'approve', channel: 'client' });
    await vi.waitFor(async () => expect((await handle.query(workflowMetadataQuery)).currentDetails).toMatch(/^\*\*Waiting for\*\* carol/));
    await env.escalator.withdraw(escalationId, { by: 'ci', reason: 'done' });
    await env.escalator.outcome(escalationId);
    expect((await handle.describe()).typedSearchAttributes.get(EscalationState)).toBe('ended');
  });

  it('finds waiting critical escalations for a reviewer with the real temporal CLI', async () => {
    const { escalationId } = await env.escalator.raise(gateFailure({ severity: 'critical' }));
    const cli = await ensureTemporalCli(() => {});
    const query = `EscalationState = "waiting" AND Severity = "critical" AND AwaitedReviewers = "alice" AND WorkflowId = "${escalationId}"`;
    const list = async () => JSON.parse((await promisify(execFile)(cli, ['workflow', 'list', '--address', inject('temporalAddress'), '--query', query, '--output', 'json'])).stdout || '[]') as Array<{ execution: { workflowId: string } }>;
    await vi.waitFor(async () => expect((await list()).map((w) => w.execution.workflowId)).toEqual([escalationId]), { timeout: 15_000 });
    await env.escalator.withdraw(escalationId, { by: 'ci', reason: 'done' });
  });
});
