import { readFileSync } from 'node:fs';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGitHubApp, type GitHubApp, type NewCheckRun } from '../activities/pipelines/github-app.js';
import { checkRunEventSchema, deploymentProtectionRuleEventSchema, parseDeploymentCallbackUrl, verifyGitHubSignature, workflowRunEventSchema } from '../adapters/github-webhooks.js';
import { generateAppKeyPair, signedDelivery, startFakeGitHub, type FakeGitHub } from './helpers/fake-github.js';
import { failureOf } from './helpers/activity-failure.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`./fixtures/github/${name}.json`, import.meta.url), 'utf8'));
const secret = 'webhook-secret-for-tests';
const appId = 913_407;
const installationId = 4242;
const headSha = '5f2c8d1e9a7b3c4d6e8f0a1b2c3d4e5f6a7b8c9d';
const keys = generateAppKeyPair();


describe('webhook signatures', () => {
  const delivery = signedDelivery(secret, 'check_run', fixture('check_run.completed.failure'));
  const signature = delivery.headers['x-hub-signature-256'];

  it('accepts a delivery signed with the webhook secret, as a string or as the raw bytes', () => {
    expect(verifyGitHubSignature(secret, delivery.body, signature)).toEqual({ valid: true });
    expect(verifyGitHubSignature(secret, Buffer.from(delivery.body), signature.toUpperCase().replace('SHA256=', 'sha256='))).toEqual({ valid: true });
  });

  it('refuses a delivery signed with another secret', () => {
    expect(verifyGitHubSignature('another-secret', delivery.body, signature)).toEqual({ valid: false, reason: 'bad-signature' });
  });

  it('refuses a delivery whose body changed after signing', () => {
    expect(verifyGitHubSignature(secret, delivery.body.replace('"failure"', '"success"'), signature)).toEqual({ valid: false, reason: 'bad-signature' });
  });

  it('refuses a signature without the sha256= prefix, or the SHA-1 header value', () => {
    expect(verifyGitHubSignature(secret, delivery.body, signature.slice('sha256='.length))).toEqual({ valid: false, reason: 'not-sha256' });
    expect(verifyGitHubSignature(secret, delivery.body, `sha1=${'0'.repeat(40)}`)).toEqual({ valid: false, reason: 'not-sha256' });
  });

  it('refuses a digest of the wrong length or with non-hex characters without comparing it', () => {
    expect(verifyGitHubSignature(secret, delivery.body, signature.slice(0, -2))).toEqual({ valid: false, reason: 'wrong-length' });
    expect(verifyGitHubSignature(secret, delivery.body, `${signature}00`)).toEqual({ valid: false, reason: 'wrong-length' });
    expect(verifyGitHubSignature(secret, delivery.body, `sha256=${'zz'.repeat(32)}`)).toEqual({ valid: false, reason: 'not-hex' });
  });

  it('refuses a delivery without a signature, and verifies nothing under an empty secret', () => {
    expect(verifyGitHubSignature(secret, delivery.body, undefined)).toEqual({ valid: false, reason: 'missing-signature' });
    expect(verifyGitHubSignature(secret, delivery.body, '')).toEqual({ valid: false, reason: 'missing-signature' });
    const unsigned = signedDelivery('', 'check_run', {});
    expect(verifyGitHubSignature('', unsigned.body, unsigned.headers['x-hub-signature-256'])).toEqual({ valid: false, reason: 'no-secret' });
  });
});

describe('webhook payloads', () => {
  it('reads a deployment protection rule request: environment, callback, deployment and installation', () => {
    const event = deploymentProtectionRuleEventSchema.parse(fixture('deployment_protection_rule.requested'));
    expect(event).toMatchObject({ environment: 'production', installation: { id: installationId }, repository: { full_name: 'acme/checkout' }, pull_requests: [] });
    expect(event.deployment).toMatchObject({ sha: headSha, ref: 'main', creator: { login: 'github-actions[bot]' } });
    expect(parseDeploymentCallbackUrl(event.deployment_callback_url, 'https://api.github.com')).toEqual({ owner: 'acme', repo: 'checkout', runId: 8123456701 });
  });

  it('reads a failed and a later successful check run on the same commit', () => {
    const failed = checkRunEventSchema.parse(fixture('check_run.completed.failure'));
    const passed = checkRunEventSchema.parse(fixture('check_run.completed.success'));
    expect(failed.check_run).toMatchObject({ name: 'unit-tests', status: 'completed', conclusion: 'failure', head_sha: headSha });
    expect(passed.check_run).toMatchObject({ name: 'unit-tests', status: 'completed', conclusion: 'success', head_sha: headSha });
    expect(passed.check_run.id).not.toBe(failed.check_run.id);
    expect(failed.installation?.id).toBe(installationId);
  });

  it('reads a failed workflow run with its actor and head commit', () => {
    const event = workflowRunEventSchema.parse(fixture('workflow_run.completed.failure'));
    expect(event.workflow_run).toMatchObject({ conclusion: 'failure', run_attempt: 1, head_branch: 'main', actor: { login: 'dana-deployer' }, head_commit: { message: 'Round cart totals half-even', author: { name: 'Dana Deployer' } } });
  });

  it('accepts the fields GitHub documents as nullable being null', () => {
    const run = fixture('workflow_run.completed.failure') as { workflow_run: Record<string, unknown> };
    const bare = { ...run, workflow_run: { ...run.workflow_run, name: null, head_branch: null, actor: null, head_commit: null, status: 'in_progress', conclusion: null } };
    expect(workflowRunEventSchema.parse(bare).workflow_run).toMatchObject({ actor: null, head_commit: null, conclusion: null });
    const check = fixture('check_run.completed.failure') as { check_run: Record<string, unknown> };
    expect(checkRunEventSchema.parse({ ...check, check_run: { ...check.check_run, conclusion: null, details_url: null, app: null } }).check_run.app).toBeNull();
  });

  it('refuses a deployment protection rule request without an installation: nothing could answer it', () => {
    const withoutInstallation = fixture('deployment_protection_rule.requested') as Record<string, unknown>;
    delete withoutInstallation.installation;
    expect(deploymentProtectionRuleEventSchema.safeParse(withoutInstallation).success).toBe(false);
  });
});

describe('the deployment callback URL guard', () => {
  const api = 'https://api.github.com';
  const good = `${api}/repos/acme/checkout/actions/runs/8123456701/deployment_protection_rule`;

  it('accepts exactly the review endpoint on the configured API host, with or without a trailing slash in the setting', () => {
    expect(parseDeploymentCallbackUrl(good, api)).toEqual({ owner: 'acme', repo: 'checkout', runId: 8123456701 });
    expect(parseDeploymentCallbackUrl(good, `${api}/`)).toEqual({ owner: 'acme', repo: 'checkout', runId: 8123456701 });
    expect(parseDeploymentCallbackUrl('https://ghe.acme.example/api/v3/repos/acme/checkout/actions/runs/12/deployment_protection_rule', 'https://ghe.acme.example/api/v3')).toEqual({ owner: 'acme', repo: 'checkout', runId: 12 });
  });

  it.each([
    ['another host', 'https://evil.example/repos/acme/checkout/actions/runs/1/deployment_protection_rule'],
    ['a host that only starts like the API host', 'https://api.github.com.evil.example/repos/acme/checkout/actions/runs/1/deployment_protection_rule'],
    ['credentials that move the host', 'https://api.github.com@evil.example/repos/acme/checkout/actions/runs/1/deployment_protection_rule'],
    ['plain http', 'http://api.github.com/repos/acme/checkout/actions/runs/1/deployment_protection_rule'],
    ['a query string', `${good}?redirect=https://evil.example`],
    ['a fragment', `${good}#x`],
    ['dot segments', 'https://api.github.com/repos/acme/../actions/runs/1/deployment_protection_rule'],
    ['an encoded slash', 'https://api.github.com/repos/acme%2Fcheckout/x/actions/runs/1/deployment_protection_rule'],
    ['another endpoint', 'https://api.github.com/repos/acme/checkout/actions/runs/1/pending_deployments'],
    ['a run id that is not a number', 'https://api.github.com/repos/acme/checkout/actions/runs/latest/deployment_protection_rule'],
    ['the token endpoint', 'https://api.github.com/app/installations/4242/access_tokens'],
  ])('refuses %s', (_case, url) => {
    expect(parseDeploymentCallbackUrl(url, api)).toBeNull();
  });
});

describe('the GitHub App client against a fake GitHub', () => {
  let clock: number;
  let github: FakeGitHub;
  let app: GitHubApp;
  const now = () => clock;

  beforeEach(async () => {
    clock = Date.parse('2031-05-06T07:08:09Z');
    github = await startFakeGitHub({ appId, publicKeyPem: keys.publicKeyPem, installations: [installationId], now });
    app = createGitHubApp({ appId, privateKeyPem: keys.privateKeyPem, apiUrl: github.url, now });
  });
  afterEach(() => github.close());

  const exchanges = () => github.requestsTo('POST', /^\/app\/installations\/\d+\/access_tokens$/);

  it('exchanges an app JWT for an installation token: RS256, iss = app id, iat a minute back, exp ten minutes after iat', async () => {
    const token = await app.installationToken(installationId);
    expect(token).toMatch(/^ghs_/);
    const [exchange] = exchanges();
    expect(exchange).toMatchObject({ path: `/app/installations/${installationId}/access_tokens`, status: 201 });
    const jwt = String(exchange?.headers.authorization).replace(/^Bearer /, '');
    expect(decodeProtectedHeader(jwt)).toMatchObject({ alg: 'RS256' });
    const claims = decodeJwt(jwt);
    expect(claims).toMatchObject({ iss: String(appId), iat: clock / 1000 - 60 });
    expect(claims.exp! - claims.iat!).toBe(600);
    expect(exchange?.headers).toMatchObject({ accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28', 'user-agent': 'escalator' });
  });

  it('asks for one token for concurrent and later calls, and a new one five minutes before it expires', async () => {
    const [first, second] = await Promise.all([app.installationToken(installationId), app.installationToken(installationId)]);
    expect(second).toBe(first);
    clock += 54 * 60_000;
    expect(await app.installationToken(installationId)).toBe(first);
    expect(exchanges()).toHaveLength(1);
    clock += 2 * 60_000;
    const renewed = await app.installationToken(installationId);
    expect(renewed).not.toBe(first);
    expect(exchanges()).toHaveLength(2);
  });

  it('drops a token GitHub no longer accepts and retries once with a new one', async () => {
    const stale = await app.installationToken(installationId);
    github.revokeInstallationTokens();
    const { id } = await app.createCheckRun(checkRun());
    expect(github.checkRuns.get(id)).toBeDefined();
    expect(github.requestsTo('POST', /\/check-runs$/).map((request) => request.status)).toEqual([401, 201]);
    expect(exchanges()).toHaveLength(2);
    expect(await app.installationToken(installationId)).not.toBe(stale);
  });

  it('gives up on a second 401 in the same call instead of exchanging tokens in a loop', async () => {
    github.failNext(401, { times: 2, matching: /check-runs/ });
    const failed = await failureOf(app.createCheckRun(checkRun()));
    expect(failed).toMatchObject({ type: 'GitHubRefused', nonRetryable: true });
    expect(failed.message).toContain('401');
    expect(exchanges()).toHaveLength(2);
  });

  it('is refused, not retried, when GitHub does not know the app key', async () => {
    const stranger = createGitHubApp({ appId, privateKeyPem: generateAppKeyPair().privateKeyPem, apiUrl: github.url, now });
    const failed = await failureOf(stranger.installationToken(installationId));
    expect(failed).toMatchObject({ type: 'GitHubRefused', nonRetryable: true });
    expect(failed.message).toMatch(/401: A JSON web token could not be verified/);
  });

  it('approves a deployment with the documented body, posted with the installation token', async () => {
    await app.reviewDeploymentProtectionRule({
      callbackUrl: github.callbackUrl('acme/checkout', 8123456701),
      installationId,
      environmentName: 'production',
      state: 'approved',
      comment: 'Approved by ana@acme.example in Escalator',
    });
    const [posted] = github.requestsTo('POST', /deployment_protection_rule$/);
    expect(posted).toMatchObject({ path: '/repos/acme/checkout/actions/runs/8123456701/deployment_protection_rule', status: 204 });
    expect(posted?.body).toEqual({ environment_name: 'production', state: 'approved', comment: 'Approved by ana@acme.example in Escalator' });
    expect(posted?.headers.authorization).toBe(`Bearer ${await app.installationToken(installationId)}`);
    expect(github.deploymentReviews).toEqual([{ repository: 'acme/checkout', runId: 8123456701, installationId, environment_name: 'production', state: 'approved', comment: 'Approved by ana@acme.example in Escalator' }]);
  });

  it('refuses to send a review, or the token, to a callback URL off the API host', async () => {
    const failed = await failureOf(
      app.reviewDeploymentProtectionRule({ callbackUrl: 'https://evil.example/repos/acme/checkout/actions/runs/1/deployment_protection_rule', installationId, environmentName: 'production', state: 'rejected', comment: 'no' }),
    );
    expect(failed).toMatchObject({ type: 'GitHubInvalidRequest', nonRetryable: true });
    expect(github.requests).toHaveLength(0);
  });

  it('creates a check run in progress and completes it, with the Checks API field names', async () => {
    const { id } = await app.createCheckRun(checkRun({ startedAt: '2031-05-06T07:08:09Z' }));
    expect(github.requestsTo('POST', /^\/repos\/acme\/checkout\/check-runs$/)[0]?.body).toEqual({
      name: 'Escalator: unit-tests',
      head_sha: headSha,
      external_id: 'escalation-gate-4711',
      status: 'in_progress',
      details_url: 'https://escalator.acme.example/escalations/escalation-gate-4711',
      output: { title: 'Waiting on a reviewer', summary: 'unit-tests failed; escalated to the checkout on-call.' },
      started_at: '2031-05-06T07:08:09Z',
    });
    expect(github.checkRuns.get(id)).toMatchObject({ status: 'in_progress', conclusion: null, external_id: 'escalation-gate-4711' });

    await app.updateCheckRun({
      installationId,
      repository: 'acme/checkout',
      checkRunId: id,
      status: 'completed',
      conclusion: 'success',
      completedAt: '2031-05-06T07:30:00Z',
      output: { title: 'Approved', summary: 'Approved by ana@acme.example.', text: 'Reason: flaky test quarantined in #812.' },
    });
    expect(github.requestsTo('PATCH', new RegExp(`/check-runs/${id}$`))[0]).toMatchObject({ status: 200 });
    expect(github.checkRuns.get(id)).toMatchObject({
      status: 'completed',
      conclusion: 'success',
      completed_at: '2031-05-06T07:30:00Z',
      output: { title: 'Approved', summary: 'Approved by ana@acme.example.', text: 'Reason: flaky test quarantined in #812.' },
    });
  });

  it('cuts a summary longer than GitHub allows instead of failing for good', async () => {
    const { id } = await app.createCheckRun(checkRun({ output: { title: 'Long', summary: 'x'.repeat(70_000) } }));
    const summary = github.checkRuns.get(id)?.output.summary ?? '';
    expect(summary.length).toBe(65_535);
    expect(summary.endsWith('(cut by Escalator)')).toBe(true);
  });

  it('turns a 503 into a retryable failure that waits as long as Retry-After says', async () => {
    await app.installationToken(installationId);
    github.failNext(503, { headers: { 'retry-after': '7' } });
    const failed = await failureOf(app.createCheckRun(checkRun()));
    expect(failed).toMatchObject({ type: 'GitHubUnavailable', nonRetryable: false, nextRetryDelay: 7000 });
    expect(failed.message).toContain('503');
  });

  it('treats an exhausted rate limit (403, x-ratelimit-remaining 0) as retryable until the reset', async () => {
    await app.installationToken(installationId);
    github.failNext(403, { headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(clock / 1000 + 90) } });
    expect(await failureOf(app.createCheckRun(checkRun()))).toMatchObject({ type: 'GitHubUnavailable', nonRetryable: false, nextRetryDelay: 90_000 });
  });

  it('turns a 422 into a non-retryable failure carrying GitHub\'s validation message', async () => {
    const failed = await failureOf(app.createCheckRun(checkRun({ headSha: 'not-a-commit' })));
    expect(failed).toMatchObject({ type: 'GitHubRefused', nonRetryable: true });
    expect(failed.message).toContain('422: Validation Failed: No commit found for SHA: not-a-commit');
  });

  it('is refused by GitHub when it completes a check run without a conclusion', async () => {
    const { id } = await app.createCheckRun(checkRun());
    const failed = await failureOf(app.updateCheckRun({ installationId, repository: 'acme/checkout', checkRunId: id, status: 'completed' }));
    expect(failed).toMatchObject({ type: 'GitHubRefused', nonRetryable: true });
    expect(failed.message).toContain('conclusion is required');
  });

  it('refuses a repository that is not owner/name before sending anything', async () => {
    expect(await failureOf(app.createCheckRun(checkRun({ repository: 'acme/../app' })))).toMatchObject({ type: 'GitHubInvalidRequest', nonRetryable: true });
    expect(github.requestsTo('POST', /check-runs/)).toHaveLength(0);
  });

  it('reports an unreachable GitHub as retryable', async () => {
    const closed = createGitHubApp({ appId, privateKeyPem: keys.privateKeyPem, apiUrl: 'http://127.0.0.1:9', now, timeoutMs: 2000 });
    expect(await failureOf(closed.installationToken(installationId))).toMatchObject({ type: 'GitHubUnavailable', nonRetryable: false });
  });
});

describe('the fake GitHub itself', () => {
  let github: FakeGitHub;
  beforeEach(async () => {
    github = await startFakeGitHub({ appId, publicKeyPem: keys.publicKeyPem });
  });
  afterEach(() => github.close());

  const headers = { accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28', 'user-agent': 'test', 'content-type': 'application/json' };

  it('answers 401 to a repository call without an installation token and 404 to an unknown route', async () => {
    const unauthenticated = await fetch(`${github.url}/repos/acme/checkout/check-runs`, { method: 'POST', headers, body: JSON.stringify({ name: 'x', head_sha: headSha }) });
    expect(unauthenticated.status).toBe(401);
    expect(await unauthenticated.json()).toMatchObject({ message: 'Bad credentials' });
    const unknown = await fetch(`${github.url}/repos/acme/checkout/issues`, { headers });
    expect(unknown.status).toBe(404);
  });

  it('refuses a request without the API version header or a User-Agent', async () => {
    const unversioned: Record<string, string> = { ...headers };
    delete unversioned['x-github-api-version'];
    expect((await fetch(`${github.url}/app/installations/4242/access_tokens`, { method: 'POST', headers: unversioned })).status).toBe(400);
    expect((await fetch(`${github.url}/app/installations/4242/access_tokens`, { method: 'POST', headers: { ...headers, 'user-agent': '' } })).status).toBe(403);
  });
});

function checkRun(overrides: Partial<NewCheckRun> = {}): NewCheckRun {
  return {
    installationId,
    repository: 'acme/checkout',
    name: 'Escalator: unit-tests',
    headSha,
    externalId: 'escalation-gate-4711',
    status: 'in_progress',
    detailsUrl: 'https://escalator.acme.example/escalations/escalation-gate-4711',
    output: { title: 'Waiting on a reviewer', summary: 'unit-tests failed; escalated to the checkout on-call.' },
    ...overrides,
  };
}
