import { randomBytes, randomUUID } from 'node:crypto';
import { readFile, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildShim } from '../client/shim/app.js';
import { TokenRegistry } from '../client/shim/tokens.js';
import { parsePolicy } from '../domain/policy-parser.js';
import { startEscalator, type EscalatorEnv } from './helpers/escalator-env.js';
import { type FakeGitHub, generateAppKeyPair, signedDelivery, startFakeGitHub } from './helpers/fake-github.js';
import { type FakeGitLab, gitlabDelivery, startFakeGitLab } from './helpers/fake-gitlab.js';

const gitHubSecret = 'github-webhook-secret-for-tests-0123';
const gitLabSecret = 'gitlab-webhook-token-for-tests-0123';
const gitLabApprover = 'glpat-escalator-approver-token';
// A commit and deploy job of this run's own: escalations are keyed by them, and the dev server outlives one test file.
const gitLabSha = randomBytes(20).toString('hex');
const gitLabJob = 50_000 + Math.floor(Math.random() * 1e6);

// Sequential single-step gates keep the round trips short; the author (the deployer) is not a reviewer.
const policy = `
version: 1
people:
  alice: { email: alice@example.com }
  bob:   { email: bob@example.com }
gates:
  production-deploy:
    model: sequential
    chain: [{ reviewers: [alice], timeout: 10m }]
  unit-tests:
    model: sequential
    chain: [{ reviewers: [bob], timeout: 10m }]
integrations:
  github:
    deployments: [{ repository: acme/checkout, environment: production, gate: production-deploy, kind: review, severity: critical }]
    checks: [{ repository: acme/checkout, check: unit-tests, gate: unit-tests, kind: tests }]
  gitlab:
    deployments: [{ project: acme/checkout, environment: production, gate: production-deploy, kind: review }]
    jobs: [{ project: acme/checkout, job: security-scan, gate: unit-tests, kind: security }]
`;

async function fixture(path: string): Promise<Record<string, any>> {
  return JSON.parse(await readFile(join('test/fixtures', path), 'utf8')) as Record<string, any>;
}

/**
 * GitHub and GitLab speak to Escalator natively: signed deliveries built from the documented payloads
 * go into the real shim, escalations run on a real worker, and what Escalator sends back (check runs,
 * commit statuses, the deployment verdict) is asserted on local servers that speak the documented
 * endpoints.
 */
describe('GitHub and GitLab deliveries in, escalations, verdicts out', () => {
  let dir: string;
  let github: FakeGitHub;
  let gitlab: FakeGitLab;
  let env: EscalatorEnv;
  let shim: FastifyInstance;
  let shimUrl: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'escalator-ci-'));
    const keys = generateAppKeyPair();
    await writeFile(join(dir, 'app.pem'), keys.privateKeyPem);
    github = await startFakeGitHub({ appId: 31337, publicKeyPem: keys.publicKeyPem });
    gitlab = await startFakeGitLab({
      tokens: { [gitLabApprover]: 'escalator-bot' },
      projects: [{ id: 77, path: 'acme/checkout', commits: { [gitLabSha]: 'main' } }],
      deployments: [{ id: 318, projectId: 77, environment: 'production', jobId: gitLabJob, sha: gitLabSha, ref: 'main', requiredApprovals: 1, triggeredBy: 'dana' }],
    });
    env = await startEscalator(policy, {
      environment: {
        ESCALATOR_GITHUB_APP_ID: '31337',
        ESCALATOR_GITHUB_PRIVATE_KEY_FILE: join(dir, 'app.pem'),
        ESCALATOR_GITHUB_API_URL: github.url,
        ESCALATOR_GITLAB_API_URL: gitlab.apiUrl,
        ESCALATOR_GITLAB_TOKEN: gitLabApprover,
      },
    });
    const { integrations } = parsePolicy(policy, 'policy.yaml').policy;
    shim = buildShim({
      escalator: env.escalator,
      tokens: new TokenRegistry([]),
      checkTemporal: async () => undefined,
      ciWebhooks: {
        github: { webhookSecret: gitHubSecret, apiUrl: github.url },
        gitlab: { webhookToken: gitLabSecret },
        integrations: () => integrations,
        deliveries: { taken: (source, id) => env.store.deliveryTaken(source, id), take: (source, id) => env.store.takeDelivery(source, id) },
        recordRefusal: (refusal) => env.store.recordRefusal(refusal),
      },
    });
    await shim.listen({ host: '127.0.0.1', port: 0 });
    shimUrl = `http://127.0.0.1:${(shim.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await shim?.close();
    await env?.close();
    await github?.close();
    await gitlab?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function deliver(path: string, delivery: { headers: Record<string, string>; body: string }) {
    const response = await fetch(`${shimUrl}${path}`, { method: 'POST', headers: delivery.headers, body: delivery.body });
    const text = await response.text();
    return { status: response.status, json: text ? (JSON.parse(text) as any) : undefined };
  }

  async function deploymentRequest(runId: number): Promise<Record<string, any>> {
    const event = await fixture('github/deployment_protection_rule.requested.json');
    return { ...event, deployment_callback_url: github.callbackUrl('acme/checkout', runId) };
  }

  function checkRunNamed(name: string, sha: string) {
    return [...github.checkRuns.values()].find((run) => run.name === name && run.head_sha === sha);
  }

  it('GitHub deployment protection rule round trip: delivery in, escalation, check run while it waits, approval out to the callback', async () => {
    const runId = 8_100_000_000 + Math.floor(Math.random() * 1e6);
    const delivery = signedDelivery(gitHubSecret, 'deployment_protection_rule', await deploymentRequest(runId));
    const taken = await deliver('/v1/github/webhooks', delivery);
    expect(taken.status).toBe(200);
    const [result] = taken.json.results;
    expect(result).toEqual({ kind: 'started', escalationId: `escalation-github-acme/checkout-run-${runId}-production`, reason: null });

    const view = await vi.waitFor(async () => {
      const current = await env.escalator.status(result.escalationId);
      expect(current.awaitedReviewers).toEqual(['alice']);
      return current;
    });
    // The person who started the deployment, not the Actions bot that created it, is the author.
    expect(view.failure).toMatchObject({ gate: { name: 'production-deploy', kind: 'review' }, severity: 'critical', change: { author: 'dana-deployer', sha: '5f2c8d1e9a7b3c4d6e8f0a1b2c3d4e5f6a7b8c9d' } });
    const waiting = await vi.waitFor(() => {
      const run = checkRunNamed('Escalator: production-deploy', '5f2c8d1e9a7b3c4d6e8f0a1b2c3d4e5f6a7b8c9d');
      expect(run?.output.title).toMatch(/^Waiting for alice/);
      return run!;
    });
    expect(waiting).toMatchObject({ status: 'in_progress', external_id: result.escalationId, details_url: `${env.publicUrl}/v1/escalations/${encodeURIComponent(result.escalationId)}` });

    // GitHub redelivering the same delivery changes nothing.
    expect(await deliver('/v1/github/webhooks', delivery)).toMatchObject({ status: 409, json: { error: { code: 'DeliveryReplayed' } } });

    await env.escalator.decide(result.escalationId, { reviewer: 'alice', decision: 'approve', comment: 'canary is clean', channel: 'client' });
    await env.escalator.outcome(result.escalationId);
    await vi.waitFor(() => expect(github.deploymentReviews).toContainEqual(expect.objectContaining({ runId, environment_name: 'production', state: 'approved' })));
    const review = github.deploymentReviews.find((r) => r.runId === runId)!;
    expect(review.comment).toContain('passed by alice');
    expect(review.comment).toContain('canary is clean');
    // Only the app's installation token reached the callback, with GitHub's documented headers.
    const [callback] = github.requestsTo('POST', new RegExp(`/actions/runs/${runId}/deployment_protection_rule$`));
    expect(callback!.headers.authorization).toMatch(/^Bearer ghs_/);
    expect(callback!.headers['x-github-api-version']).toBe('2022-11-28');
    await vi.waitFor(() => expect(checkRunNamed('Escalator: production-deploy', '5f2c8d1e9a7b3c4d6e8f0a1b2c3d4e5f6a7b8c9d')).toMatchObject({ status: 'completed', conclusion: 'success' }));
  });

  it('rejects the deployment with the reviewer and reason in the comment', async () => {
    const runId = 8_200_000_000 + Math.floor(Math.random() * 1e6);
    const taken = await deliver('/v1/github/webhooks', signedDelivery(gitHubSecret, 'deployment_protection_rule', await deploymentRequest(runId)));
    const { escalationId } = taken.json.results[0];
    await vi.waitFor(async () => expect((await env.escalator.status(escalationId)).awaitedReviewers).toEqual(['alice']));
    await env.escalator.decide(escalationId, { reviewer: 'alice', decision: 'reject', comment: 'error budget spent', channel: 'client' });
    await vi.waitFor(() => expect(github.deploymentReviews.find((r) => r.runId === runId)).toMatchObject({ state: 'rejected', comment: expect.stringContaining('blocked by alice') }));
    expect(github.deploymentReviews.find((r) => r.runId === runId)!.comment).toContain('error budget spent');
  });

  it('a failed check run raises its gate failure; the same check green on the same commit recovers it', async () => {
    const sha = randomUUID().replace(/-/g, '').padEnd(40, 'a').slice(0, 40);
    const failed = await fixture('github/check_run.completed.failure.json');
    failed.check_run.head_sha = sha;
    const taken = await deliver('/v1/github/webhooks', signedDelivery(gitHubSecret, 'check_run', failed));
    const { escalationId, kind } = taken.json.results[0];
    expect(kind).toBe('started');
    await vi.waitFor(() => expect(checkRunNamed('Escalator: unit-tests', sha)?.output.title).toMatch(/^Waiting for bob/));

    // A failing re-run of the same check attaches; Escalator's own check run coming back is not a gate failure.
    const again = { ...failed, check_run: { ...failed.check_run, id: failed.check_run.id + 1 } };
    expect((await deliver('/v1/github/webhooks', signedDelivery(gitHubSecret, 'check_run', again))).json.results).toEqual([{ kind: 'attached', escalationId, reason: null }]);
    const own = { ...failed, check_run: { ...failed.check_run, name: 'Escalator: unit-tests' } };
    expect((await deliver('/v1/github/webhooks', signedDelivery(gitHubSecret, 'check_run', own))).json.results[0]).toMatchObject({ kind: 'ignored' });

    const green = await fixture('github/check_run.completed.success.json');
    green.check_run.head_sha = sha;
    expect((await deliver('/v1/github/webhooks', signedDelivery(gitHubSecret, 'check_run', green))).json.results).toEqual([{ kind: 'recovered', escalationId, reason: null }]);
    expect(await env.escalator.outcome(escalationId)).toMatchObject({ outcome: 'recovered' });
    await vi.waitFor(() => expect(checkRunNamed('Escalator: unit-tests', sha)).toMatchObject({ status: 'completed', conclusion: 'success' }));
    // One check run for the escalation, created once and then updated.
    expect([...github.checkRuns.values()].filter((run) => run.external_id === escalationId)).toHaveLength(1);
  });

  it('refuses forged deliveries and records them; ignores a repository no entry names', async () => {
    const event = await deploymentRequest(1);
    const forged = signedDelivery('not-the-webhook-secret-0123456789', 'deployment_protection_rule', event);
    expect(await deliver('/v1/github/webhooks', forged)).toMatchObject({ status: 401, json: { error: { code: 'Unauthenticated' } } });
    const tampered = signedDelivery(gitHubSecret, 'deployment_protection_rule', event);
    expect(await deliver('/v1/github/webhooks', { ...tampered, body: tampered.body.replace('production', 'staging') })).toMatchObject({ status: 401 });
    const deliveryId = forged.headers['x-github-delivery']!;
    expect(await env.store.refusals(`delivery:github:${deliveryId}`)).toEqual([expect.objectContaining({ code: 'Unauthenticated', channel: 'github' })]);

    const elsewhere = { ...event, repository: { ...event.repository, full_name: 'acme/unlisted' } };
    expect((await deliver('/v1/github/webhooks', signedDelivery(gitHubSecret, 'deployment_protection_rule', elsewhere))).json.results).toEqual([
      { kind: 'ignored', escalationId: null, reason: 'no integrations.github.deployments entry for acme/unlisted environment production' },
    ]);
  });

  it('GitLab: a deploy job parked on a protected environment is approved through the Deployments API; a failed job raises and its green re-run recovers', async () => {
    const parked = await fixture('gitlab/pipeline-awaiting-deploy.json');
    parked.object_attributes.sha = gitLabSha;
    parked.builds[0].id = gitLabJob;
    const taken = await deliver('/v1/gitlab/webhooks', gitlabDelivery(gitLabSecret, 'Pipeline Hook', parked));
    expect(taken.status).toBe(200);
    const [started] = taken.json.results;
    expect(parked.builds[0].name).toBe('deploy-production');
    expect(started).toMatchObject({ kind: 'started', escalationId: `escalation-gitlab-acme/checkout-job-${gitLabJob}-production` });
    await vi.waitFor(async () => expect((await env.escalator.status(started.escalationId)).awaitedReviewers).toEqual(['alice']));
    await vi.waitFor(() => expect(gitlab.commitStatuses.find((s) => s.name === 'escalator: production-deploy')).toMatchObject({ status: 'running', description: expect.stringMatching(/^Waiting for alice/) }));

    await env.escalator.decide(started.escalationId, { reviewer: 'alice', decision: 'approve', channel: 'client' });
    await vi.waitFor(() => expect(gitlab.deployment(318)).toMatchObject({ status: 'running', approvals: [expect.objectContaining({ username: 'escalator-bot', status: 'approved', comment: expect.stringContaining('passed by alice') })] }));
    await vi.waitFor(() => expect(gitlab.commitStatuses.find((s) => s.name === 'escalator: production-deploy')).toMatchObject({ status: 'success' }));

    const failedJob = { ...(await fixture('gitlab/job-failed.json')), sha: gitLabSha };
    const raised = await deliver('/v1/gitlab/webhooks', gitlabDelivery(gitLabSecret, 'Job Hook', failedJob));
    const { escalationId } = raised.json.results.find((r: { kind: string }) => r.kind === 'started');
    await vi.waitFor(async () => expect((await env.escalator.status(escalationId)).awaitedReviewers).toEqual(['bob']));
    const rerun = { ...(await fixture('gitlab/job-succeeded-rerun.json')), sha: gitLabSha };
    expect((await deliver('/v1/gitlab/webhooks', gitlabDelivery(gitLabSecret, 'Job Hook', rerun))).json.results).toContainEqual({ kind: 'recovered', escalationId, reason: null });
    expect(await env.escalator.outcome(escalationId)).toMatchObject({ outcome: 'recovered' });

    expect(await deliver('/v1/gitlab/webhooks', gitlabDelivery('wrong-token-wrong-token-wrong', 'Job Hook', failedJob))).toMatchObject({ status: 401, json: { error: { code: 'Unauthenticated' } } });
  });
});
