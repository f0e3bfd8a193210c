import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { EscalationView } from '../domain/escalation.js';
import { escalationIdFor, type GateFailureInput } from '../domain/gate-failure.js';
import type { PlanExplanation } from '../client/cli/plan-explanation.js';
import { openOutcomeStore } from '../adapters/outcome-store/store.js';
import { handWeightedModel } from '../domain/routing-model/model.js';
import { startEscalator, type EscalatorEnv } from './helpers/escalator-env.js';
import { gateFailure } from './helpers/gate-failure.js';
import { sequentialPolicy } from './helpers/policies.js';
import { type CliRun, cleanEnvironment, escalator, json } from './helpers/cli-run.js';

function errorJson(run: CliRun): { error: { code: string; message: string; details: Array<{ path: string; message: string }> | null } } {
  return JSON.parse(run.stderr) as never;
}

// erin holds the break-glass role, so an override can succeed; nothing else differs from the shared test policy.
const policy = `${sequentialPolicy().replace('erin@example.com }', 'erin@example.com, roles: [incident-commander] }')}breakGlass: { roles: [incident-commander] }\n`;

describe('the escalator CLI against a running Escalator', () => {
  let env: EscalatorEnv;
  let dir: string;
  let connection: string[];

  beforeAll(async () => {
    env = await startEscalator(policy);
    dir = await mkdtemp(join(tmpdir(), 'escalator-cli-'));
    connection = ['--address', inject('temporalAddress'), '--task-queue', env.taskQueue];
  });
  afterAll(async () => {
    await env?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function failureFile(failure: GateFailureInput | Record<string, unknown>): Promise<string> {
    const file = join(dir, `${randomUUID()}.json`);
    await writeFile(file, JSON.stringify(failure));
    return file;
  }

  async function raised(overrides: Partial<GateFailureInput> = {}): Promise<string> {
    const run = await escalator(['raise', '--file', await failureFile(gateFailure(overrides)), '--json', ...connection]);
    expect(run.code, run.stderr).toBe(0);
    const { escalationId } = json<{ escalationId: string }>(run);
    await vi.waitFor(async () => expect((await env.escalator.status(escalationId)).status).toBe('waiting'));
    return escalationId;
  }

  it('raises from a JSON file, and a re-raise with the same key attaches to the same escalation', async () => {
    const failure = gateFailure();
    const file = await failureFile(failure);
    const escalationId = escalationIdFor(failure.idempotencyKey);

    const first = await escalator(['raise', '--file', file, ...connection]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout.trim()).toBe(`${escalationId} started`);

    const again = await escalator(['raise', '--file', file, '--json', ...connection]);
    expect(again.code, again.stderr).toBe(0);
    expect(json(again)).toEqual({ escalationId, started: false });
    await vi.waitFor(async () => expect((await env.escalator.status(escalationId)).awaitedReviewers).toEqual(['alice']));
    await env.escalator.withdraw(escalationId, { by: 'ci', reason: 'test done' });
  });

  it('raises from flags, with the idempotency key derived from service, run and gate', async () => {
    const runId = `run-${randomUUID()}`;
    const run = await escalator([
      'raise', '--gate', 'integration-tests', '--kind', 'tests', '--service', 'checkout', '--repository', 'acme/checkout', '--severity', 'critical',
      '--sha', 'a1b2c3d4e5f6', '--author', 'mallory', '--title', 'Speed up basket totals', '--change-url', 'https://git.example.com/acme/checkout/pull/42',
      '--run-id', runId, '--run-url', `https://ci.example.com/acme/checkout/runs/${runId}`, '--file-changed', 'src/basket/totals.ts', '--file-changed', 'src/basket/tax.ts',
      '--hotfix', '--json', ...connection,
    ]);
    expect(run.code, run.stderr).toBe(0);
    const escalationId = escalationIdFor(`checkout-${runId}-integration-tests`);
    expect(json(run)).toEqual({ escalationId, started: true });
    const view = await vi.waitFor(async () => {
      const current = await env.escalator.status(escalationId);
      expect(current.status).toBe('waiting');
      return current;
    });
    expect(view.failure).toMatchObject({ severity: 'critical', hotfix: true, rollback: false, change: { author: 'mallory', changedFiles: ['src/basket/totals.ts', 'src/basket/tax.ts'] } });
    await env.escalator.withdraw(escalationId, { by: 'ci', reason: 'test done' });
  });

  it('shows the status: model, rule, awaited reviewer, deadline, depth, decisions and the latest timeline, with connection settings from the environment', async () => {
    const escalationId = await raised();
    await env.escalator.decide(escalationId, { reviewer: 'alice', decision: 'approve', comment: 'flaky', channel: 'client' });

    const run = await escalator(['status', escalationId], { TEMPORAL_ADDRESS: inject('temporalAddress'), ESCALATOR_TASK_QUEUE: env.taskQueue });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/│ status\s+│ waiting\s+│/);
    expect(run.stdout).toMatch(/│ model\s+│ sequential\s+│/);
    expect(run.stdout).toMatch(/│ rule\s+│ gate integration-tests's own model\s+│/);
    expect(run.stdout).toMatch(/│ step\s+│ 2 of 3 \(primary\)\s+│/);
    expect(run.stdout).toMatch(/│ awaited\s+│ carol\s+│/);
    expect(run.stdout).toMatch(/│ deadline\s+│ \d{4}-\d\d-\d\dT[\d:.]+Z \(in \d+m/);
    expect(run.stdout).toMatch(/│ depth\s+│ 0 of 3\s+│/);
    expect(run.stdout).toContain('Decisions');
    expect(run.stdout).toMatch(/│ alice\s+│ approve\s+│ 1\s+│ primary\s+│ client\s+│ flaky\s+│/);
    expect(run.stdout).toMatch(/│ decided\s+│ alice approve \(step 1, client\)/);

    const short = await escalator(['status', escalationId, '--timeline', '2', ...connection]);
    expect(short.stdout).toMatch(/Timeline \(last 2 of \d+\)/);

    const asJson = await escalator(['status', escalationId, '--json', ...connection]);
    expect(json<EscalationView>(asJson)).toMatchObject({ escalationId, model: 'sequential', status: 'waiting', awaitedReviewers: ['carol'], step: 1, depth: 0, maxDepth: 3 });
    await env.escalator.withdraw(escalationId, { by: 'ci', reason: 'test done' });
  });

  it('lists escalations by awaited reviewer, state and severity once visibility has caught up', async () => {
    const escalationId = await raised({ severity: 'high' });
    const filtered = ['list', '--reviewer', 'alice', '--state', 'waiting', '--severity', 'high', ...connection];
    const found = await vi.waitFor(
      async () => {
        const run = await escalator([...filtered, '--json']);
        expect(run.code, run.stderr).toBe(0);
        const rows = json<Array<{ escalationId: string }>>(run);
        expect(rows.map((row) => row.escalationId)).toContain(escalationId);
        return rows.find((row) => row.escalationId === escalationId);
      },
      { timeout: 30_000, interval: 500 },
    );
    expect(found).toMatchObject({ gate: 'integration-tests', service: 'checkout', severity: 'high', state: 'waiting', model: 'sequential', awaitedReviewers: ['alice'], depth: 0, outcome: null });

    const table = await escalator(filtered);
    expect(table.stdout).toMatch(new RegExp(`│ ${escalationId}\\s+│ integration-tests\\s+│ high\\s+│ waiting\\s+│ sequential\\s+│ alice\\s+│ 0\\s+│ \\d{4}-`));
    for (const other of [['--severity', 'low'], ['--reviewer', 'carol'], ['--state', 'ended'], ['--service', 'billing'], ['--gate', 'flaky-tests']]) {
      const run = await escalator(['list', '--reviewer', 'alice', ...other, '--json', ...connection]);
      expect(json<Array<{ escalationId: string }>>(run).map((row) => row.escalationId)).not.toContain(escalationId);
    }
    const limited = await escalator(['list', '--limit', '1', '--json', ...connection]);
    expect(json<unknown[]>(limited)).toHaveLength(1);
    await env.escalator.withdraw(escalationId, { by: 'ci', reason: 'test done' });
  });

  it('says when more escalations match than --limit shows, on stderr with --json', async () => {
    const service = `limited-${randomUUID().slice(0, 8)}`;
    const ids = [await raised({ service }), await raised({ service })];
    const byService = ['list', '--service', service, ...connection];
    await vi.waitFor(
      async () => expect(json<Array<{ escalationId: string }>>(await escalator([...byService, '--json'])).map((row) => row.escalationId).sort()).toEqual([...ids].sort()),
      { timeout: 30_000, interval: 500 },
    );

    const cut = await escalator([...byService, '--limit', '1']);
    expect(cut.code, cut.stderr).toBe(0);
    expect(cut.stdout.trimEnd().split('\n').at(-1)).toBe('showing the first 1; more match: --limit N for more');
    const cutJson = await escalator([...byService, '--limit', '1', '--json']);
    expect(json<unknown[]>(cutJson)).toHaveLength(1);
    expect(cutJson.stderr).toBe('note: showing the first 1; more match: --limit N for more\n');

    const all = await escalator([...byService, '--limit', '2']);
    expect(all.stdout).not.toContain('more match');
    const allJson = await escalator([...byService, '--limit', '2', '--json']);
    expect(json<unknown[]>(allJson)).toHaveLength(2);
    expect(allJson.stderr).toBe('');
    for (const id of ids) await env.escalator.withdraw(id, { by: 'ci', reason: 'test done' });
  });

  it('quotes filter values, so a filter cannot change the query', async () => {
    const run = await escalator(['list', '--gate', 'x" OR Gate != "', '--reviewer', 'a\\"b', '--json', ...connection]);
    expect(run.code, run.stderr).toBe(0);
    expect(json(run)).toEqual([]);
  });

  it('records approvals and rejections, and refuses with exit 4 and the refusal code without changing anything', async () => {
    const escalationId = await raised();

    const notAwaited = await escalator(['decide', escalationId, '--as', 'bob', '--approve', ...connection]);
    expect(notAwaited.code).toBe(4);
    expect(notAwaited.stderr.trim()).toBe('refused (NotAwaitedReviewer): bob is not a reviewer this escalation is waiting on (waiting on: alice)');
    const notAwaitedJson = await escalator(['decide', escalationId, '--as', 'bob', '--approve', '--json', ...connection]);
    expect(notAwaitedJson.code).toBe(4);
    expect(errorJson(notAwaitedJson).error.code).toBe('NotAwaitedReviewer');

    const approved = await escalator(['decide', escalationId, '--as', 'alice', '--approve', ...connection]);
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toContain(`recorded: alice approves ${escalationId}`);
    expect(approved.stdout).toMatch(/│ awaited\s+│ carol\s+│/);

    const noComment = await escalator(['decide', escalationId, '--as', 'carol', '--reject', ...connection]);
    expect(noComment.code).toBe(4);
    expect(noComment.stderr).toContain('refused (CommentRequired)');

    const rejected = await escalator(['decide', escalationId, '--as', 'carol', '--reject', '--comment', 'breaks checkout', '--json', ...connection]);
    expect(rejected.code, rejected.stderr).toBe(0);
    expect(json<EscalationView>(rejected)).toMatchObject({ status: 'ended', outcome: { outcome: 'blocked', reason: 'rejected by carol at step 2' } });

    const late = await escalator(['decide', escalationId, '--as', 'erin', '--approve', ...connection]);
    expect(late.code).toBe(4);
    expect(late.stderr).toContain('refused (EscalationEnded)');

    const view = await env.escalator.status(escalationId);
    expect(view.decisions.map((d) => [d.reviewer, d.decision, d.channel])).toEqual([
      ['alice', 'approve', 'cli'],
      ['carol', 'reject', 'cli'],
    ]);
  });

  it('withdraws a running escalation, and refuses to withdraw it twice', async () => {
    const escalationId = await raised();
    const run = await escalator(['withdraw', escalationId, '--as', 'ci', '--reason', 'superseded by run 7790', ...connection]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`withdrawn by ci: ${escalationId}`);
    expect(run.stdout).toMatch(/ended: withdrawn, withdrawn by ci: superseded by run 7790/);
    const again = await escalator(['withdraw', escalationId, '--as', 'ci', '--reason', 'again', ...connection]);
    expect(again.code).toBe(4);
    expect(again.stderr).toContain('refused (EscalationEnded)');
  });

  it('breaks the glass for a holder of the role, and refuses anyone else', async () => {
    const escalationId = await raised();
    const refused = await escalator(['break-glass', escalationId, '--as', 'alice', '--justification', 'outage', ...connection]);
    expect(refused.code).toBe(4);
    expect(refused.stderr.trim()).toBe('refused (NotBreakGlassHolder): alice does not hold the break-glass role');
    const run = await escalator(['break-glass', escalationId, '--as', 'erin', '--justification', 'checkout is down', '--json', ...connection]);
    expect(run.code, run.stderr).toBe(0);
    expect(json<EscalationView>(run)).toMatchObject({ status: 'ended', outcome: { outcome: 'overridden', postmortem: true } });
  });

  it('exits 3 for an escalation that does not exist', async () => {
    const missing = `escalation-missing-${randomUUID()}`;
    for (const args of [['status', missing], ['decide', missing, '--as', 'alice', '--approve'], ['withdraw', missing, '--as', 'ci', '--reason', 'x']]) {
      const run = await escalator([...args, ...connection]);
      expect(run.code, `${args[0]}: ${run.stderr}`).toBe(3);
      expect(run.stderr.trim()).toBe(`error: no escalation ${missing}`);
    }
    const asJson = await escalator(['status', missing, '--json', ...connection]);
    expect(errorJson(asJson)).toEqual({ error: { code: 'EscalationNotFound', message: `no escalation ${missing}`, details: null } });
  });

  it('shows the escalation for an id given without its escalation- prefix, and says so', async () => {
    const key = `gate-${randomUUID()}`;
    const escalationId = await raised({ idempotencyKey: key });
    expect(escalationId).toBe(`escalation-${key}`);

    const run = await escalator(['status', key, ...connection]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe(`note: no escalation ${key}; showing ${escalationId}\n`);
    expect(run.stdout).toMatch(/│ awaited\s+│ alice\s+│/);
    const asJson = await escalator(['status', key, '--json', ...connection]);
    expect(json<EscalationView>(asJson)).toMatchObject({ escalationId, status: 'waiting' });
    await env.escalator.withdraw(escalationId, { by: 'ci', reason: 'test done' });
  });

  it('names the prefixed id when an action is given the id without it, and acts on nothing', async () => {
    const key = `gate-${randomUUID()}`;
    const escalationId = await raised({ idempotencyKey: key });
    for (const args of [['decide', key, '--as', 'alice', '--approve'], ['withdraw', key, '--as', 'ci', '--reason', 'x'], ['break-glass', key, '--as', 'erin', '--justification', 'x']]) {
      const run = await escalator([...args, ...connection]);
      expect(run.code, `${args[0]}: ${run.stderr}`).toBe(3);
      expect(run.stderr.trim()).toBe(`error: no escalation ${key}; did you mean ${escalationId}?`);
    }
    expect(await env.escalator.status(escalationId)).toMatchObject({ status: 'waiting', decisions: [] });

    const missing = `missing-${randomUUID()}`;
    const status = await escalator(['status', missing, ...connection]);
    expect(status.code).toBe(3);
    expect(status.stderr.trim()).toBe(`error: no escalation ${missing}; nor escalation-${missing}`);
    const decide = await escalator(['decide', missing, '--as', 'alice', '--approve', '--json', ...connection]);
    expect(decide.code).toBe(3);
    expect(errorJson(decide).error).toEqual({ code: 'EscalationNotFound', message: `no escalation ${missing}`, details: null });
    await env.escalator.withdraw(escalationId, { by: 'ci', reason: 'test done' });
  });

  it('exits 2 on invalid input, naming the field, and starts nothing', async () => {
    const bad = gateFailure({ change: { ...gateFailure().change, sha: 'not-a-sha' } });
    const file = await failureFile(bad);
    const run = await escalator(['raise', '--file', file, ...connection]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`error: invalid gate failure\n  change.sha (in ${file}, or --sha): a hex commit sha of 7 to 64 characters\n`);
    const asJson = await escalator(['raise', '--file', file, '--json', ...connection]);
    expect(errorJson(asJson).error).toMatchObject({ code: 'InvalidInput', details: [{ path: `change.sha (in ${file}, or --sha)` }] });
    const status = await escalator(['status', escalationIdFor(bad.idempotencyKey), ...connection]);
    expect(status.code).toBe(3);

    const flags = await escalator(['raise', '--gate', 'build', '--kind', 'tests', '--service', 'checkout', '--severity', 'high', '--run-id', '1', ...connection]);
    expect(flags.code).toBe(2);
    expect(flags.stderr).toContain('change.url (--change-url): Invalid input: expected string, received undefined');
    const severity = await escalator(['raise', '--severity', 'urgent', ...connection]);
    expect(severity.code).toBe(2);
    expect(severity.stderr).toContain("option '--severity <level>' argument 'urgent' is invalid");
    const broken = join(dir, 'broken.json');
    await writeFile(broken, '{ nope');
    const notJson = await escalator(['raise', '--file', broken, ...connection]);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toContain('the gate failure file is not JSON');

    const noDecision = await escalator(['decide', 'escalation-x', '--as', 'alice', ...connection]);
    expect(noDecision.code).toBe(2);
    expect(noDecision.stderr).toContain('--approve | --reject | --override: give exactly one');
    const twoDecisions = await escalator(['decide', 'escalation-x', '--as', 'alice', '--approve', '--reject', ...connection]);
    expect(twoDecisions.code).toBe(2);
    const blankIdentity = await escalator(['decide', 'escalation-x', '--as', ' ', '--approve', ...connection]);
    expect(blankIdentity.code).toBe(2);
    expect(blankIdentity.stderr).toContain('--as: name the person acting');
    const blankReason = await escalator(['withdraw', 'escalation-x', '--as', 'ci', '--reason', '', ...connection]);
    expect(blankReason.code).toBe(2);
    expect(blankReason.stderr).toContain('--reason:');
    const badAddress = await escalator(['status', 'escalation-x', '--address', 'no-port']);
    expect(badAddress.code).toBe(2);
    expect(badAddress.stderr).toContain('--address (TEMPORAL_ADDRESS): host:port such as 127.0.0.1:7233');
    const unknownCommand = await escalator(['approve-everything']);
    expect(unknownCommand.code).toBe(2);
    const usageAsJson = await escalator(['list', '--severity', 'urgent', '--json', ...connection]);
    expect(usageAsJson.code).toBe(2);
    expect(errorJson(usageAsJson).error).toMatchObject({ code: 'Usage', message: expect.stringContaining("'urgent' is invalid") });
    const unknownNamespace = await escalator(['status', 'escalation-x', '--namespace', `missing-${randomUUID()}`, ...connection]);
    expect(unknownNamespace.code, unknownNamespace.stderr).toBe(2);
    expect(unknownNamespace.stderr).toContain('(--namespace)');
  });

  it('exits 5 within seconds when Temporal cannot be reached', async () => {
    const run = await escalator(['status', 'escalation-x', '--address', '127.0.0.1:1', '--json']);
    expect(run.code).toBe(5);
    expect(run.elapsedMs).toBeLessThan(15_000);
    expect(errorJson(run).error).toMatchObject({ code: 'TemporalUnreachable', message: expect.stringContaining('cannot reach Temporal at 127.0.0.1:1') });
  });
});

describe('escalator policy validate', () => {
  const fixtures = 'test/fixtures/broken-policies';
  const cases: Array<[string, number, string[]]> = [
    ['yaml-syntax.yaml', 1, [
      `${fixtures}/yaml-syntax.yaml:9:42: error: Flow sequence in block collection must be sufficiently indented and end with a ] at line 9, column 42:`,
      `${fixtures}/yaml-syntax.yaml:9:43: error: Flow map in block collection must be sufficiently indented and end with a } at line 9, column 43:`,
      `${fixtures}/yaml-syntax.yaml: 2 errors, 0 warnings`,
    ]],
    ['unknown-person.yaml', 1, [
      `${fixtures}/unknown-person.yaml:9:30: error at gates.build.chain[0].reviewers[1]: refers to "zed", who is not under people`,
      `${fixtures}/unknown-person.yaml: 1 error, 0 warnings`,
    ]],
    ['quorum-too-large.yaml', 1, [
      `${fixtures}/quorum-too-large.yaml:10:24: error at gates.performance.quorum.approve: a quorum of 3 cannot be reached by a group of 2`,
      `${fixtures}/quorum-too-large.yaml: 1 error, 0 warnings`,
    ]],
    ['tier-cycle.yaml', 1, [
      `${fixtures}/tier-cycle.yaml:7:58: error at tiers.leads.escalateTo: tiers escalate in a cycle (leads → managers → leads): an escalation could bounce forever`,
      `${fixtures}/tier-cycle.yaml:8:58: error at tiers.managers.escalateTo: tiers escalate in a cycle (managers → leads → managers): an escalation could bounce forever`,
      `${fixtures}/tier-cycle.yaml:14:17: error at gates.build.escalateTo: this escalation path cycles (leads → managers → leads): an escalation could bounce forever`,
      `${fixtures}/tier-cycle.yaml: 3 errors, 0 warnings`,
    ]],
    ['unreachable-tier.yaml', 1, [
      `${fixtures}/unreachable-tier.yaml:9:3: error at tiers.security: tier "security" is unreachable: no gate or rule escalates to it, breakGlass does not notify it, and no reachable tier hands to it`,
      `${fixtures}/unreachable-tier.yaml: 1 error, 0 warnings`,
    ]],
    ['bad-duration.yaml', 1, [
      `${fixtures}/bad-duration.yaml:9:40: error at gates.build.chain[0].timeout: "soon" is not a positive duration such as 30s, 15m, 2h or 1d`,
      `${fixtures}/bad-duration.yaml: 1 error, 0 warnings`,
    ]],
    ['unknown-key.yaml', 1, [
      `${fixtures}/unknown-key.yaml:7:5: error at gates.build: Unrecognized key: "maxDepht"`,
      `${fixtures}/unknown-key.yaml: 1 error, 0 warnings`,
    ]],
    ['rule-never-matches.yaml', 1, [
      `${fixtures}/rule-never-matches.yaml:13:13: error at rules[0].when.gate: rule "deploys-in-parallel" can never match: "deploy" is not under gates and there is no "*" gate`,
      `${fixtures}/rule-never-matches.yaml: 1 error, 0 warnings`,
    ]],
    ['unused-person.yaml', 0, [
      `${fixtures}/unused-person.yaml:5:3: warning at people.carol: carol is never referenced: no gate, rule, tier, pool, rotation, backup or break-glass role names them`,
      `${fixtures}/unused-person.yaml is valid, with 1 warning`,
    ]],
  ];

  it.concurrent.each(cases)('reports %s with its file:line:column, path and problem, exit %i', async (file, exitCode, lines) => {
    const run = await escalator(['policy', 'validate', `${fixtures}/${file}`]);
    expect(run.stdout.trimEnd().split('\n')).toEqual(lines);
    expect(run.code).toBe(exitCode);
  });

  it.concurrent('accepts the example policy with no findings, and reports findings as JSON', async () => {
    const example = await escalator(['policy', 'validate', 'policies/example.yaml']);
    expect(example.code, example.stdout).toBe(0);
    expect(example.stdout).toBe('policies/example.yaml is valid\n');
    const asJson = await escalator(['policy', 'validate', `${fixtures}/unreachable-tier.yaml`, '--json']);
    expect(asJson.code).toBe(1);
    expect(json(asJson)).toEqual({
      file: `${fixtures}/unreachable-tier.yaml`,
      valid: false,
      errors: 1,
      warnings: 0,
      problems: [{ severity: 'error', path: 'tiers.security', message: expect.stringContaining('is unreachable'), line: 9, column: 3 }],
    });
    const missing = await escalator(['policy', 'validate', `${fixtures}/no-such-policy.yaml`]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no such file');
  });

  it.concurrent('runs as the installed bin from any working directory', async () => {
    const bin = join(process.cwd(), 'client/cli/escalator.mjs');
    const child = spawn(bin, ['policy', 'validate', join(process.cwd(), 'policies/example.yaml')], { cwd: tmpdir(), env: cleanEnvironment, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(code).toBe(0);
    expect(stdout).toContain('policies/example.yaml is valid');
  });
});

describe('escalator policy explain', () => {
  const example = 'policies/example.yaml';
  // Friday 27 November 2026: 10:00 in Berlin (business hours), and 23:30 (quiet hours).
  const fridayMorning = '2026-11-27T09:00:00Z';
  const explain = (args: string[]) => escalator(['policy', 'explain', example, '--service', 'checkout', ...args]);

  it.concurrent('explains a sequential gate: its own entry, no rule, who first, and every timeout to the rollback', async () => {
    const run = await explain(['--gate', 'integration-tests', '--kind', 'tests', '--severity', 'medium', '--at', fridayMorning]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('Nothing was started or recorded.');
    expect(run.stdout).toMatch(/│ gate entry\s+│ integration-tests \(its own entry\)/);
    expect(run.stdout).toMatch(/│ 3 │ severe-tests-in-parallel │ no\s+│ severity medium is not one of critical, high/);
    expect(run.stdout).toMatch(/│ model\s+│ sequential, chosen by gate integration-tests's own model/);
    expect(run.stdout).toMatch(/│ first asked │ alice at 2026-11-27T09:00:00.000Z, emailed alice; deadline 2026-11-27T09:15:00.000Z/);
    expect(run.stdout).toMatch(/\+15m\s+│ handed-off │ 1\s+│ step 1 primary → backup \(depth 1 of 2\)/);
    expect(run.stdout).toMatch(/\+30m\s+│ assigned\s+│ 2\s+│ step 1 tier release-managers: awaits erin until 2026-11-27T10:30:00.000Z; emails erin/);
    expect(run.stdout).toMatch(/\+1h30m\s+│ exhausted\s+│ 2\s+│ no backup or tier is left to hand the step to: rollback: POST http:\/\/127.0.0.1:9099\/rollback, flagged for postmortem/);

    const asJson = json<PlanExplanation>(await explain(['--gate', 'integration-tests', '--kind', 'tests', '--severity', 'medium', '--at', fridayMorning, '--json']));
    expect(asJson).toMatchObject({ gateEntry: { key: 'integration-tests', matchedBy: 'own entry' }, rule: null, model: 'sequential', maxDepth: 2, onExhausted: { action: 'rollback' } });
    expect(asJson.sequential!.steps.map((s) => [s.reviewers, s.backup, s.timeoutMs])).toEqual([[['alice'], ['bob'], 900_000], [['carol'], ['dave'], 1_800_000], [['erin'], [], 1_800_000]]);
    expect(asJson.timeline.map((e) => [e.event, e.reviewers, e.depth])).toEqual([
      ['assigned', ['alice'], 0],
      ['timed-out', ['alice'], 0],
      ['handed-off', [], 1],
      ['assigned', ['bob'], 1],
      ['timed-out', ['bob'], 1],
      ['handed-off', [], 2],
      ['assigned', ['erin'], 2],
      ['timed-out', ['erin'], 2],
      ['exhausted', [], 2],
    ]);
  });

  it.concurrent('explains a parallel gate: the group without the author, the quorum and the re-notify schedule', async () => {
    const run = await explain(['--gate', 'performance', '--kind', 'performance', '--severity', 'medium', '--author', 'bob', '--at', fridayMorning]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/│ group\s+│ carol, alice \(left out as the author: bob\)/);
    expect(run.stdout).toMatch(/│ quorum\s+│ 2 of 2 approve to pass, 1 rejection\(s\) block, 3 override vote\(s\) override/);
    expect(run.stdout).toMatch(/│ re-notify\s+│ acknowledge within 15m, else reminded \(up to 2 round\(s\): 2026-11-27T09:15:00.000Z, 2026-11-27T09:30:00.000Z\)/);
    expect(run.stdout).toMatch(/\+1h\s+│ handed-off │ 3\s+│ group → tier team-leads \(depth 3 of 3\)/);

    const asJson = json<PlanExplanation>(await explain(['--gate', 'performance', '--kind', 'performance', '--severity', 'medium', '--author', 'bob', '--at', fridayMorning, '--json']));
    expect(asJson.model).toBe('parallel');
    expect(asJson.parallel).toMatchObject({ group: ['carol', 'alice'], leftOut: ['bob'], quorum: { approve: 2, override: 3, reject: 1 }, acknowledgeWithinMs: 900_000, renotify: 2, decideWithinMs: 3_600_000 });
    expect(asJson.parallel!.renotifyAt).toEqual(['2026-11-27T09:15:00.000Z', '2026-11-27T09:30:00.000Z']);
    expect(asJson.timeline.at(-1)).toMatchObject({ event: 'exhausted', depth: 3, description: expect.stringContaining('maximum escalation depth 3 reached: block') });
  });

  it.concurrent('explains a dynamic gate: candidates, factors, the pick, cold start and fallback', async () => {
    const failure = join(await mkdtemp(join(tmpdir(), 'escalator-explain-')), 'failure.json');
    await writeFile(failure, JSON.stringify(gateFailure({ gate: { name: 'unit-tests', kind: 'tests' }, severity: 'low', occurredAt: fridayMorning, change: { ...gateFailure().change, changedFiles: ['src/basket/totals.ts', 'docs/readme.md'] } })));
    const run = await escalator(['policy', 'explain', example, '--failure', failure, '--at', fridayMorning]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/│ model\s+│ dynamic, chosen by gate unit-tests's own model/);
    expect(run.stdout).toMatch(/│ 1\s+│ carol\s+│ 5.5\s+│ yes\s+│ codeowners 0: owns none of the changed files/);
    expect(run.stdout).toMatch(/│ fallback\s+│ the best-ranked candidate not yet asked, the next one as backup: alice for 30m, backup bob/);
    expect(run.stdout).toMatch(/│ cold start\s+│ when gate unit-tests or service checkout has fewer than 5 ended escalation\(s\) in the outcome store: runs parallel/);
    expect(run.stdout).toMatch(/\+30m\s+│ fallback\s+│ 1\s+│ no decision from carol within the routing threshold: falls back to the sequential chain \(depth 1\)/);

    const asJson = json<PlanExplanation>(await escalator(['policy', 'explain', example, '--failure', failure, '--at', fridayMorning, '--json']));
    expect(asJson.at).toBe('2026-11-27T09:00:00.000Z');
    expect(asJson.dynamic).toMatchObject({
      candidates: ['alice', 'bob', 'carol', 'dave'],
      routeBy: ['codeowners', 'oncall', 'workingHours', 'responseHistory', 'load'],
      ownership: { alice: 0.5, bob: 0.5 },
      ranked: ['carol', 'alice', 'bob', 'dave'],
      chosen: ['carol'],
      coldStart: { model: 'parallel', minHistory: 5 },
      fallback: { steps: [{ reviewers: ['alice'], backup: ['bob'], timeoutMs: 1_800_000 }] },
    });
    expect(asJson.dynamic!.scores[0]!.factors.oncall).toEqual({ value: 1, weight: 2, why: 'on call now' });
    expect(asJson.dynamic!.coldStart.timeline[0]).toMatchObject({ event: 'assigned', reviewers: ['alice', 'bob', 'carol', 'dave'] });
  });

  it.concurrent("scores a dynamic gate with an outcome store's current routing model, and refuses a store that is not there", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'escalator-explain-model-'));
    const outcomes = join(dir, 'outcomes.sqlite');
    const store = await openOutcomeStore({ sqliteFile: outcomes });
    await store.migrate();
    const weights = { ...handWeightedModel.weights, oncall: 0, codeowners: 10 };
    const accuracy = { escalations: 30, top1: 0.5, top3: 0.9, mrr: 0.7 };
    await store.saveRetraining({
      at: '2026-11-20T00:00:00.000Z',
      current: handWeightedModel,
      candidate: { version: 'fit-new', weights, fittedAt: '2026-11-20T00:00:00.000Z', trainedOn: 120 },
      trainedOn: 120,
      period: { from: '2026-11-13T00:00:00.000Z', to: '2026-11-20T00:00:00.000Z' },
      accuracy: { current: accuracy, candidate: accuracy },
      reassignRate: 0,
      kept: 'candidate',
      reason: 'scripted',
    });
    await store.close();
    const failure = join(dir, 'failure.json');
    await writeFile(failure, JSON.stringify(gateFailure({ gate: { name: 'unit-tests', kind: 'tests' }, severity: 'low', occurredAt: fridayMorning, change: { ...gateFailure().change, changedFiles: ['src/basket/totals.ts', 'docs/readme.md'] } })));

    const run = await escalator(['policy', 'explain', example, '--failure', failure, '--at', fridayMorning, '--outcomes', outcomes]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('Routing model fit-1 (fitted 2026-11-20T00:00:00.000Z on 120 routed escalation(s)): codeowners 10, oncall 0, workingHours 2, responseHistory 1, load 1');
    const asJson = json<PlanExplanation>(await escalator(['policy', 'explain', example, '--failure', failure, '--at', fridayMorning, '--outcomes', outcomes, '--json']));
    expect(asJson.dynamic!.model.version).toBe('fit-1');
    // Owning half the files now outweighs being on call: an owner is asked, not carol.
    expect(asJson.dynamic!.chosen).toEqual(['alice']);
    expect(asJson.dynamic!.scores[0]!.factors.codeowners).toEqual({ value: 0.5, weight: 10, why: 'owns 50% of the changed files' });

    const missing = await escalator(['policy', 'explain', example, '--failure', failure, '--outcomes', join(dir, 'nope.sqlite')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no such file');
    await rm(dir, { recursive: true, force: true });
  });

  it.concurrent('says which rule chose the model and why the earlier ones did not, and who is paged in quiet hours', async () => {
    const severe = json<PlanExplanation>(await explain(['--gate', 'unit-tests', '--kind', 'tests', '--severity', 'high', '--at', fridayMorning, '--json']));
    expect(severe).toMatchObject({ rule: 'severe-tests-in-parallel', model: 'parallel', rulesNotEvaluated: 0 });
    expect(severe.rules.map((r) => [r.name, r.matched, r.why])).toEqual([
      ['rollbacks-fast', false, 'rollback is false, the rule wants true'],
      ['night-hotfix', false, 'hotfix is false, the rule wants true; within business hours (Mon-Fri 09:00-18:00 Europe/Berlin), the rule wants outside'],
      ['severe-tests-in-parallel', true, 'kind tests is one of tests; severity high is one of critical, high'],
    ]);

    const night = await explain(['--gate', 'lint', '--kind', 'custom', '--severity', 'low', '--hotfix', '--at', '2026-11-27T22:30:00Z']);
    expect(night.code, night.stderr).toBe(0);
    expect(night.stdout).toMatch(/│ gate entry\s+│ "\*" \(no entry for lint\)/);
    expect(night.stdout).toMatch(/│ 2 │ night-hotfix\s+│ MATCHES │ hotfix is true; outside business hours \(Mon-Fri 09:00-18:00 Europe\/Berlin\)/);
    expect(night.stdout).toMatch(/│ quiet hours │ 22:00-07:00 Europe\/Berlin: only the on-call carol is emailed then; ACTIVE at the start/);
    expect(night.stdout).toMatch(/\+40m\s+│ assigned\s+│ 2\s+│ tier release-managers: awaits carol, erin until 2026-11-28T00:10:00.000Z; quiet hours: only the on-call carol is emailed, erin at 2026-11-28T06:00:00.000Z if still awaited/);

    // Saturday 05:30 in Berlin: the backup is held back until 07:00 and emailed then, still awaited.
    const early = json<PlanExplanation>(await explain(['--gate', 'lint', '--kind', 'custom', '--severity', 'low', '--at', '2026-11-28T04:30:00Z', '--json']));
    expect(early.first).toMatchObject({ reviewers: ['carol'], emailed: ['carol'], held: [] });
    expect(early.timeline.find((e) => e.held?.length)).toMatchObject({ at: '2026-11-28T05:30:00.000Z', reviewers: ['dave'], emailed: ['carol'], held: ['dave'] });
    expect(early.timeline.find((e) => e.event === 'quiet-hours-ended')).toMatchObject({ at: '2026-11-28T06:00:00.000Z', reviewers: ['dave'], emailed: ['dave'] });
  });

  it.concurrent("explains now, not the failure's occurredAt, and says which moment it explains and why", async () => {
    const failure = join(await mkdtemp(join(tmpdir(), 'escalator-explain-')), 'failure.json');
    await writeFile(failure, JSON.stringify(gateFailure({ gate: { name: 'lint', kind: 'custom' }, severity: 'low', occurredAt: fridayMorning })));
    const before = Date.now();
    const fromFile = await escalator(['policy', 'explain', example, '--failure', failure]);
    const asJson = json<PlanExplanation>(await escalator(['policy', 'explain', example, '--failure', failure, '--json']));
    const after = Date.now();
    expect(fromFile.code, fromFile.stderr).toBe(0);
    const explainedAt = /explained at (\S+) \(now, not the failure's occurredAt 2026-11-27T09:00:00\.000Z; pass --at to choose\)\. Nothing was started or recorded\./.exec(fromFile.stdout)?.[1];
    expect(explainedAt, fromFile.stdout).toBeDefined();
    for (const at of [explainedAt!, asJson.at]) {
      expect(Date.parse(at)).toBeGreaterThanOrEqual(before);
      expect(Date.parse(at)).toBeLessThanOrEqual(after);
    }

    const fromFlags = await explain(['--gate', 'lint', '--kind', 'custom', '--severity', 'low']);
    expect(fromFlags.stdout).toMatch(/explained at \d{4}-\d\d-\d\dT[\d:.]+Z \(now; pass --at to choose\)\./);
    const chosen = await escalator(['policy', 'explain', example, '--failure', failure, '--at', '2026-11-28T04:30:00Z']);
    expect(chosen.stdout).toContain('explained at 2026-11-28T04:30:00.000Z (--at).');
  });

  it.concurrent('touches nothing: needs no Temporal, and no escalation exists afterwards', async () => {
    const gate = `dry-run-${randomUUID()}`;
    const key = `explain-${randomUUID()}`;
    const run = await escalator(['policy', 'explain', example, '--gate', gate, '--kind', 'custom', '--service', 'checkout', '--severity', 'low', '--key', key], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`"*" (no entry for ${gate})`);
    const address = inject('temporalAddress');
    const status = await escalator(['status', escalationIdFor(key), '--address', address]);
    expect(status.code).toBe(3);
    const list = await escalator(['list', '--gate', gate, '--json', '--address', address]);
    expect(json(list)).toEqual([]);
  });

  it.concurrent('refuses a bad --at or an invalid policy', async () => {
    const badAt = await explain(['--gate', 'lint', '--kind', 'custom', '--severity', 'low', '--at', 'tomorrow']);
    expect(badAt.code).toBe(2);
    expect(badAt.stderr).toContain('--at: an ISO 8601 instant');
    const invalid = await escalator(['policy', 'explain', 'test/fixtures/broken-policies/bad-duration.yaml', '--gate', 'build', '--kind', 'tests', '--service', 'checkout', '--severity', 'low']);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('bad-duration.yaml:9:40: error at gates.build.chain[0].timeout');
  });
});
