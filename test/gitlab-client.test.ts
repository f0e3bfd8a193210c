import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGitLabClient, type GitLabRefusal } from '../activities/pipelines/gitlab.js';
import {
  gitLabEventSchema,
  gitLabHeaders,
  gitLabJobEventSchema,
  gitLabPipelineEventSchema,
  objectKindOfEvent,
  parkedDeployJobs,
  verifyGitLabToken,
  type GitLabEvent,
} from '../adapters/gitlab-webhooks.js';
import { gitlabDelivery, startFakeGitLab, type FakeGitLab } from './helpers/fake-gitlab.js';
import { failureOf } from './helpers/activity-failure.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`./fixtures/gitlab/${name}.json`, import.meta.url), 'utf8'));
const sha = 'c0ffee4242d00d1e5ca1ab1e0ddba11f00dfaced';


describe('GitLab webhook token', () => {
  const secret = 'whsec-acme-checkout-7f3a';

  it('accepts the secret token configured on the webhook', () => {
    expect(verifyGitLabToken(secret, secret)).toEqual({ valid: true });
  });

  it('refuses a wrong token of the same length', () => {
    expect(verifyGitLabToken(secret, secret.replace('7f3a', '7f3b'))).toEqual({ valid: false, reason: 'bad-token' });
  });

  it('refuses a token of a different length', () => {
    expect(verifyGitLabToken(secret, `${secret}0`)).toEqual({ valid: false, reason: 'bad-token' });
    expect(verifyGitLabToken(secret, 's')).toEqual({ valid: false, reason: 'bad-token' });
  });

  it('refuses a delivery without a token', () => {
    expect(verifyGitLabToken(secret, undefined)).toEqual({ valid: false, reason: 'missing-token' });
    expect(verifyGitLabToken(secret, '')).toEqual({ valid: false, reason: 'missing-token' });
  });

  it('refuses every delivery when no token is configured, even one without a token', () => {
    expect(verifyGitLabToken('', '')).toEqual({ valid: false, reason: 'not-configured' });
    expect(verifyGitLabToken('', undefined)).toEqual({ valid: false, reason: 'not-configured' });
  });

  it('checks the headers of a delivery built like GitLab sends it', () => {
    const delivery = gitlabDelivery(secret, 'Job Hook', fixture('job-failed'));
    expect(delivery.headers['content-type']).toBe('application/json');
    expect(delivery.headers[gitLabHeaders.eventUuid]).toMatch(/^[0-9a-f-]{36}$/);
    expect(verifyGitLabToken(secret, delivery.headers[gitLabHeaders.token])).toEqual({ valid: true });
    const event = gitLabEventSchema.parse(JSON.parse(delivery.body));
    expect(event.object_kind).toBe(objectKindOfEvent['Job Hook']);
  });
});

describe('GitLab webhook payloads', () => {
  it('reads a failed job: which job, why, on which commit, in which project', () => {
    const job = gitLabJobEventSchema.parse(fixture('job-failed'));
    expect(job).toMatchObject({ build_id: 4101, build_name: 'security-scan', build_stage: 'test', build_status: 'failed', build_failure_reason: 'script_failure', sha, ref: 'main', pipeline_id: 612, project_id: 77 });
    expect(job.project).toMatchObject({ id: 77, path_with_namespace: 'acme/checkout', web_url: 'https://gitlab.example.com/acme/checkout' });
    expect(job.user?.username).toBe('dana');
    // GitLab's commit.id in a Job Hook is the pipeline's id; the commit is `sha`.
    expect(job.commit).toMatchObject({ id: 612, sha, message: 'Bump payment SDK to 4.2\n', author_name: 'Dana Developer' });
    expect(job.environment).toBeNull();
  });

  it('reads the re-run of the same job as a new job on the same commit', () => {
    const failed = gitLabJobEventSchema.parse(fixture('job-failed'));
    const rerun = gitLabJobEventSchema.parse(fixture('job-succeeded-rerun'));
    expect(rerun).toMatchObject({ build_name: failed.build_name, sha: failed.sha, pipeline_id: failed.pipeline_id, build_status: 'success', retries_count: 1 });
    expect(rerun.build_id).not.toBe(failed.build_id);
  });

  it('reads a pipeline with its jobs and their environments', () => {
    const pipeline = gitLabPipelineEventSchema.parse(fixture('pipeline-awaiting-deploy'));
    expect(pipeline.object_attributes).toMatchObject({ id: 612, status: 'manual', sha, ref: 'main', url: 'https://gitlab.example.com/acme/checkout/-/pipelines/612' });
    expect(pipeline.builds.map((job) => [job.name, job.status])).toContainEqual(['deploy-production', 'manual']);
    expect(pipeline.builds.find((job) => job.id === 4108)?.environment).toEqual({ name: 'production', action: 'start', deployment_tier: 'production' });
  });

  it('tells the three events apart by object_kind and keeps fields it does not name', () => {
    const kinds = ['job-failed', 'pipeline-awaiting-deploy', 'deployment-running'].map((name) => gitLabEventSchema.parse(fixture(name)));
    expect(kinds.map((event) => event.object_kind)).toEqual(['build', 'pipeline', 'deployment']);
    expect((kinds[0] as Record<string, unknown>).runner).toMatchObject({ description: 'acme-shared-runner-2' });
    expect(kinds[2]).toMatchObject({ deployment_id: 318, deployable_id: 4108, environment: 'production', status: 'running', short_sha: 'c0ffee42' });
  });

  it('accepts a Job Hook from an older GitLab without project or username', () => {
    const old = fixture('job-failed') as Record<string, unknown>;
    delete old.project;
    const job = gitLabJobEventSchema.parse({ ...old, user: { id: 31, name: 'Dana Developer', email: '[REDACTED]' } });
    expect(job.project).toBeUndefined();
    expect(job.project_id).toBe(77);
  });

  it('refuses a job event without a job id or with another object_kind', () => {
    const withoutId = fixture('job-failed') as Record<string, unknown>;
    delete withoutId.build_id;
    expect(gitLabJobEventSchema.safeParse(withoutId).success).toBe(false);
    expect(gitLabJobEventSchema.safeParse({ ...(fixture('job-failed') as object), object_kind: 'pipeline' }).success).toBe(false);
  });
});

describe('deploy jobs waiting on approval', () => {
  it('finds the manual job that starts production in a pipeline event, not the manual stop job', () => {
    const event = gitLabEventSchema.parse(fixture('pipeline-awaiting-deploy'));
    expect(parkedDeployJobs(event)).toEqual([{ projectId: 77, projectPath: 'acme/checkout', pipelineId: 612, jobId: 4108, jobName: 'deploy-production', environment: 'production', sha, ref: 'main' }]);
  });

  it('finds a manual deploy job in a job event, for GitLab versions that send one', () => {
    const job = { ...(fixture('job-failed') as object), build_id: 4108, build_name: 'deploy-production', build_stage: 'deploy', build_status: 'manual', environment: { name: 'production', action: 'start' } };
    expect(parkedDeployJobs(gitLabEventSchema.parse(job))).toEqual([{ projectId: 77, projectPath: 'acme/checkout', pipelineId: 612, jobId: 4108, jobName: 'deploy-production', environment: 'production', sha, ref: 'main' }]);
  });

  it('finds nothing in a failed job, a finished pipeline or a deployment event', () => {
    const finished = { ...(fixture('pipeline-awaiting-deploy') as { builds: object[] }) };
    finished.builds = finished.builds.map((job) => ({ ...job, status: 'success' }));
    const events: GitLabEvent[] = [fixture('job-failed'), finished, fixture('deployment-running'), { ...(fixture('deployment-running') as object), status: 'blocked' }].map((payload) => gitLabEventSchema.parse(payload));
    expect(events.flatMap(parkedDeployJobs)).toEqual([]);
  });
});

describe('GitLab REST client', () => {
  let fake: FakeGitLab;
  const approverToken = 'glpat-sam-approver';
  const client = () => createGitLabClient({ apiUrl: fake.apiUrl, token: approverToken, now: () => Date.parse('2026-03-02T10:00:00Z') });

  beforeEach(async () => {
    fake = await startFakeGitLab({
      tokens: { [approverToken]: 'sam', 'glpat-dana': 'dana', 'glpat-riley': 'riley' },
      projects: [{ id: 77, path: 'acme/checkout', commits: { [sha]: 'main' } }],
      deployments: [
        { id: 318, projectId: 77, environment: 'production', jobId: 4108, sha, ref: 'main', requiredApprovals: 1, triggeredBy: 'dana', approvalRules: ['security'] },
        { id: 319, projectId: 77, environment: 'production', jobId: 4150, sha, ref: 'main', requiredApprovals: 2, triggeredBy: 'dana', approvers: ['sam', 'riley'] },
        { id: 290, projectId: 77, environment: 'production', jobId: 3990, sha, ref: 'main', requiredApprovals: 1, triggeredBy: 'dana', status: 'success' },
      ],
    });
  });
  afterEach(() => fake.close());

  it('approves a blocked deployment with PRIVATE-TOKEN and the documented body, which lets it run', async () => {
    const approval = await client().approveDeployment({ projectId: 77, deploymentId: 318, status: 'approved', comment: 'Escalation E-42: approved by the security on-call' });
    expect(approval).toMatchObject({ status: 'approved', approver: 'sam', comment: 'Escalation E-42: approved by the security on-call' });
    const [request] = fake.requests;
    expect(request).toMatchObject({ method: 'POST', url: '/api/v4/projects/77/deployments/318/approval', status: 201 });
    expect(request!.headers['private-token']).toBe(approverToken);
    expect(request!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(request!.rawBody)).toEqual({ status: 'approved', comment: 'Escalation E-42: approved by the security on-call' });
    expect(fake.deployment(318)).toMatchObject({ status: 'running', approvals: [{ username: 'sam', status: 'approved' }] });
  });

  it('rejects a blocked deployment with a comment, which fails its deploy job', async () => {
    const approval = await client().approveDeployment({ projectId: 'acme/checkout', deploymentId: 318, status: 'rejected', comment: 'Scan findings not waived' });
    expect(approval).toMatchObject({ status: 'rejected', approver: 'sam' });
    expect(fake.requests[0]!.url).toBe('/api/v4/projects/acme%2Fcheckout/deployments/318/approval');
    expect(JSON.parse(fake.requests[0]!.rawBody)).toEqual({ status: 'rejected', comment: 'Scan findings not waived' });
    expect(fake.deployment(318)?.status).toBe('failed');
  });

  it('sends represented_as when approving for one of several approval rules', async () => {
    await client().approveDeployment({ projectId: 77, deploymentId: 318, status: 'approved', comment: 'ok', representedAs: 'security' });
    expect(JSON.parse(fake.requests[0]!.rawBody)).toEqual({ status: 'approved', comment: 'ok', represented_as: 'security' });
    expect(fake.deployment(318)?.approvals[0]?.representedAs).toBe('security');
  });

  it('counts one approval per user: approving again while more are needed returns the recorded approval', async () => {
    const request = { projectId: 77, deploymentId: 319, status: 'approved' as const, comment: 'first' };
    await client().approveDeployment(request);
    const again = await client().approveDeployment({ ...request, comment: 'second' });
    expect(again).toMatchObject({ status: 'approved', approver: 'sam', comment: 'first' });
    expect(fake.deployment(319)).toMatchObject({ status: 'blocked', approvals: [{ username: 'sam' }] });

    await createGitLabClient({ apiUrl: fake.apiUrl, token: 'glpat-riley' }).approveDeployment(request);
    expect(fake.deployment(319)?.status).toBe('running');
  });

  it('throws non-retryable GitLabDeploymentNotWaiting once the deployment no longer waits for approvals', async () => {
    const request = { projectId: 77, deploymentId: 318, status: 'approved' as const, comment: 'ok' };
    await client().approveDeployment(request);
    const failure = await failureOf(client().approveDeployment(request));
    expect(failure).toMatchObject({ type: 'GitLabDeploymentNotWaiting', nonRetryable: true });
    expect(failure.details?.[0]).toEqual({ status: 400, message: 'This deployment is not waiting for approvals.' } satisfies GitLabRefusal);
  });

  it("refuses a self-approval as non-retryable GitLabRefused carrying GitLab's message", async () => {
    const dana = createGitLabClient({ apiUrl: fake.apiUrl, token: 'glpat-dana' });
    const failure = await failureOf(dana.approveDeployment({ projectId: 77, deploymentId: 318, status: 'approved', comment: 'mine' }));
    expect(failure).toMatchObject({ type: 'GitLabRefused', nonRetryable: true });
    expect((failure.details?.[0] as GitLabRefusal).message).toMatch(/^You cannot approve your own deployment/);
    expect(fake.deployment(318)?.status).toBe('blocked');
  });

  it('refuses an unknown deployment and a wrong token as GitLabRefused', async () => {
    const unknown = await failureOf(client().approveDeployment({ projectId: 77, deploymentId: 9999, status: 'approved', comment: 'ok' }));
    expect(unknown.details?.[0]).toEqual({ status: 404, message: '404 Not found' });
    const stranger = createGitLabClient({ apiUrl: fake.apiUrl, token: 'glpat-revoked' });
    const unauthorized = await failureOf(stranger.approveDeployment({ projectId: 77, deploymentId: 318, status: 'approved', comment: 'ok' }));
    expect(unauthorized).toMatchObject({ type: 'GitLabRefused', nonRetryable: true });
    expect(unauthorized.details?.[0]).toEqual({ status: 401, message: '401 Unauthorized' });
  });

  it('finds the blocked deployment of a parked deploy job by project path', async () => {
    const [parked] = parkedDeployJobs(gitLabEventSchema.parse(fixture('pipeline-awaiting-deploy')));
    const found = await client().findBlockedDeployment({ projectId: parked!.projectPath!, environment: parked!.environment, jobId: parked!.jobId });
    expect(found).toEqual({ deploymentId: 318, environment: 'production', jobId: 4108, sha, ref: 'main' });
    expect(fake.requests[0]).toMatchObject({ method: 'GET', url: '/api/v4/projects/acme%2Fcheckout/deployments?environment=production&status=blocked&order_by=id&sort=desc&per_page=100' });
    expect(await client().findBlockedDeployment({ projectId: 77, environment: 'production', jobId: 3990 })).toBeNull();
  });

  it('sets a commit status with name, target_url, description and ref', async () => {
    const set = await client().setCommitStatus({ projectId: 77, sha, state: 'running', name: 'escalator/security-scan', targetUrl: 'https://escalator.example.com/v1/escalations/E-42', description: 'Waiting for the security on-call', ref: 'main' });
    expect(set).toMatchObject({ state: 'running', alreadySet: false });
    expect(set.id).toEqual(expect.any(Number));
    expect(fake.requests[0]).toMatchObject({ method: 'POST', url: `/api/v4/projects/77/statuses/${sha}`, status: 201 });
    expect(JSON.parse(fake.requests[0]!.rawBody)).toEqual({ state: 'running', name: 'escalator/security-scan', target_url: 'https://escalator.example.com/v1/escalations/E-42', description: 'Waiting for the security on-call', ref: 'main' });
    expect(fake.commitStatuses).toMatchObject([{ name: 'escalator/security-scan', status: 'running', ref: 'main', author: 'sam' }]);
  });

  it('counts "Cannot transition status via :run from :running" as success when running is set twice', async () => {
    const request = { projectId: 77, sha, state: 'running' as const, name: 'escalator/security-scan', targetUrl: 'https://escalator.example.com/e/1', description: 'Waiting' };
    await client().setCommitStatus(request);
    expect(await client().setCommitStatus(request)).toEqual({ state: 'running', id: null, alreadySet: true });
    expect(fake.requests[1]).toMatchObject({ status: 400, answer: { message: 'Cannot transition status via :run from :running (Reason(s): Status cannot transition via "run")' } });
  });

  it('moves the running status to success rather than adding another, and refuses a move GitLab does not allow', async () => {
    const request = { projectId: 77, sha, name: 'escalator/security-scan', targetUrl: 'https://escalator.example.com/e/1', description: 'Decided' };
    await client().setCommitStatus({ ...request, state: 'running' });
    await client().setCommitStatus({ ...request, state: 'success' });
    expect(fake.commitStatuses).toMatchObject([{ status: 'success' }]);
    await client().setCommitStatus({ ...request, state: 'running' });
    const failure = await failureOf(client().setCommitStatus({ ...request, state: 'pending' }));
    expect(failure).toMatchObject({ type: 'GitLabRefused', nonRetryable: true });
    expect((failure.details?.[0] as GitLabRefusal).message).toMatch(/^Cannot transition status via :enqueue from :running/);
    expect(fake.commitStatuses.map((status) => status.status)).toEqual(['success', 'running']);
  });

  it("clips a long description to GitLab's 255 characters", async () => {
    await client().setCommitStatus({ projectId: 77, sha, state: 'failed', name: 'escalator/security-scan', targetUrl: 'https://escalator.example.com/e/1', description: 'x'.repeat(400) });
    expect(fake.commitStatuses[0]?.description).toHaveLength(255);
  });

  it('reports a 400 as non-retryable GitLabRefused with the field GitLab names', async () => {
    const failure = await failureOf(client().setCommitStatus({ projectId: 77, sha, state: 'failed', name: 'escalator/x', targetUrl: 'escalator.example.com/e/1', description: 'd' }));
    expect(failure).toMatchObject({ type: 'GitLabRefused', nonRetryable: true });
    expect(failure.details?.[0]).toEqual({ status: 400, message: 'target_url must be a valid URL' });
    const unknownCommit = await failureOf(client().setCommitStatus({ projectId: 77, sha: 'f'.repeat(40), state: 'failed', name: 'escalator/x', targetUrl: 'https://e.example/1', description: 'd' }));
    expect(unknownCommit.details?.[0]).toEqual({ status: 404, message: '404 Commit Not Found' });
  });

  it('reports a 503 as retryable GitLabUnavailable, honouring Retry-After', async () => {
    fake.failNext(503, { headers: { 'retry-after': '7' } });
    const failure = await failureOf(client().setCommitStatus({ projectId: 77, sha, state: 'running', name: 'escalator/x', targetUrl: 'https://e.example/1', description: 'd' }));
    expect(failure).toMatchObject({ type: 'GitLabUnavailable', nonRetryable: false, nextRetryDelay: 7000 });
    expect(fake.commitStatuses).toEqual([]);
    // The failure was not processed: the retried call goes through.
    expect(await client().setCommitStatus({ projectId: 77, sha, state: 'running', name: 'escalator/x', targetUrl: 'https://e.example/1', description: 'd' })).toMatchObject({ alreadySet: false });
  });

  it('reports 429 with an HTTP-date Retry-After, and 500s without one, as retryable', async () => {
    fake.failNext(429, { headers: { 'retry-after': 'Mon, 02 Mar 2026 10:00:30 GMT' } });
    fake.failNext(500, { times: 2 });
    const request = { projectId: 77, deploymentId: 318, status: 'approved' as const, comment: 'ok' };
    expect(await failureOf(client().approveDeployment(request))).toMatchObject({ type: 'GitLabUnavailable', nonRetryable: false, nextRetryDelay: 30_000 });
    for (let attempt = 0; attempt < 2; attempt++) {
      const failure = await failureOf(client().approveDeployment(request));
      expect(failure).toMatchObject({ type: 'GitLabUnavailable', nonRetryable: false });
      expect(failure.nextRetryDelay).toBeUndefined();
    }
    expect(fake.requests.map((request) => request.status)).toEqual([429, 500, 500]);
    expect(fake.deployment(318)?.status).toBe('blocked');
  });

  it('reports an unreachable GitLab as retryable GitLabUnavailable', async () => {
    const { apiUrl } = fake;
    await fake.close();
    const failure = await failureOf(createGitLabClient({ apiUrl, token: approverToken }).approveDeployment({ projectId: 77, deploymentId: 318, status: 'approved', comment: 'ok' }));
    expect(failure).toMatchObject({ type: 'GitLabUnavailable', nonRetryable: false });
  });
});

describe('the fake GitLab', () => {
  let fake: FakeGitLab;
  const post = (path: string, body: string, headers: Record<string, string>) => fetch(`${fake.apiUrl}${path}`, { method: 'POST', body, headers });

  beforeEach(async () => {
    fake = await startFakeGitLab({
      tokens: { 'glpat-sam': 'sam' },
      projects: [{ id: 77, path: 'acme/checkout', commits: { [sha]: 'main' } }],
      deployments: [{ id: 318, projectId: 77, environment: 'production', jobId: 4108, sha, ref: 'main', requiredApprovals: 1, triggeredBy: 'dana' }],
    });
  });
  afterEach(() => fake.close());

  it('accepts form-encoded bodies and URL-encoded project paths, as curl --data sends them', async () => {
    const response = await post(`/projects/acme%2Fcheckout/statuses/${sha}`, 'state=pending&name=escalator%2Fscan&target_url=https%3A%2F%2Fe.example%2F1', { 'private-token': 'glpat-sam', 'content-type': 'application/x-www-form-urlencoded' });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ status: 'pending', name: 'escalator/scan', ref: 'main', target_url: 'https://e.example/1' });
    const approval = await post('/projects/acme%2Fcheckout/deployments/318/approval', 'status=approved&comment=Looks+good', { 'private-token': 'glpat-sam', 'content-type': 'application/x-www-form-urlencoded' });
    expect(approval.status).toBe(201);
    expect(await approval.json()).toMatchObject({ status: 'approved', comment: 'Looks good', user: { username: 'sam' } });
  });

  it('answers 401 without a valid PRIVATE-TOKEN, before looking at the body', async () => {
    for (const headers of [{}, { 'private-token': 'glpat-wrong' }] as Record<string, string>[]) {
      const response = await post('/projects/77/deployments/318/approval', '{}', { 'content-type': 'application/json', ...headers });
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ message: '401 Unauthorized' });
    }
  });

  it("answers 400 with Grape's error for a missing or invalid parameter, before looking the project up", async () => {
    const headers = { 'private-token': 'glpat-sam', 'content-type': 'application/json' };
    const missing = await post('/projects/404/deployments/318/approval', '{"comment":"x"}', headers);
    expect([missing.status, await missing.json()]).toEqual([400, { error: 'status is missing, status does not have a valid value' }]);
    const invalid = await post(`/projects/77/statuses/${sha}`, '{"state":"done"}', headers);
    expect([invalid.status, await invalid.json()]).toEqual([400, { error: 'state does not have a valid value' }]);
    const notAnId = await post('/projects/77/deployments/latest/approval', '{"status":"approved"}', headers);
    expect([notAnId.status, await notAnId.json()]).toEqual([400, { error: 'deployment_id is invalid' }]);
    const malformed = await post(`/projects/77/statuses/${sha}`, '{"state":', headers);
    expect(malformed.status).toBe(400);
  });

  it('answers 404 for unknown projects, deployments, commits, routes, and unencoded project paths', async () => {
    const headers = { 'private-token': 'glpat-sam', 'content-type': 'application/json' };
    const answers = await Promise.all([
      post('/projects/acme%2Fbilling/deployments/318/approval', '{"status":"approved"}', headers),
      post('/projects/77/deployments/31/approval', '{"status":"approved"}', headers),
      post(`/projects/77/statuses/${'a'.repeat(40)}`, '{"state":"pending"}', headers),
      post(`/projects/acme/checkout/statuses/${sha}`, '{"state":"pending"}', headers),
    ]);
    expect(await Promise.all(answers.map(async (response) => [response.status, await response.json()]))).toEqual([
      [404, { message: '404 Project Not Found' }],
      [404, { message: '404 Not found' }],
      [404, { message: '404 Commit Not Found' }],
      [404, { error: '404 Not Found' }],
    ]);
  });

  it('records every request with what it answered, failed ones included', async () => {
    fake.failNext(502);
    await post('/projects/77/deployments/318/approval', '{"status":"approved"}', { 'private-token': 'glpat-sam', 'content-type': 'application/json' });
    await post('/projects/77/deployments/318/approval', '{"status":"approved"}', { 'private-token': 'glpat-sam', 'content-type': 'application/json' });
    expect(fake.requests.map((request) => [request.url, request.status])).toEqual([
      ['/api/v4/projects/77/deployments/318/approval', 502],
      ['/api/v4/projects/77/deployments/318/approval', 201],
    ]);
    expect(fake.requests[1]!.params).toEqual({ status: 'approved' });
  });
});
