import { randomUUID } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingHttpHeaders, type ServerResponse } from 'node:http';

/**
 * GitLab's REST API on loopback, for the endpoints Escalator calls, answering as GitLab does (its
 * Grape API: authentication first, then parameter validation with `{"error": …}`, then lookups with
 * `{"message": "404 … Not Found"}`, then the service's own refusals with `{"message": …}`):
 *
 * - `POST /api/v4/projects/:id/deployments/:deployment_id/approval`
 * - `GET  /api/v4/projects/:id/deployments?environment=&status=`
 * - `POST /api/v4/projects/:id/statuses/:sha`
 *
 * `:id` is a numeric id or a URL-encoded path (`acme%2Fcheckout`); bodies may be JSON or form-encoded.
 */

export interface FakeGitLabRequest {
  method: string;
  /** As sent, query string and encoding included. */
  url: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** Query and body parameters, merged as Grape merges them. */
  params: Record<string, unknown>;
  status: number;
  answer: unknown;
}

export interface FakeGitLabProject {
  id: number;
  /** `group/project`. */
  path: string;
  /** The commits that exist, each with the branch that contains it (GitLab's default `ref`). */
  commits: Record<string, string>;
}

export interface FakeApproval {
  username: string;
  status: 'approved' | 'rejected';
  comment: string | null;
  representedAs: string | null;
  createdAt: string;
}

/** A deployment the test sets up; the fake changes `status` and `approvals` as GitLab would. */
export interface FakeDeployment {
  id: number;
  projectId: number;
  environment: string;
  /** The deploy job (`deployable`). */
  jobId: number;
  sha: string;
  ref: string;
  /** `blocked` while it waits for approvals; `running` once approved (job started); `failed` once rejected. */
  status: 'blocked' | 'running' | 'success' | 'failed' | 'canceled' | 'created';
  requiredApprovals: number;
  /** Who triggered the pipeline: GitLab refuses to let them approve it. */
  triggeredBy: string;
  /** Who may approve; anyone with a token when left out. */
  approvers?: string[];
  /** Names of the approval rules `represented_as` may name; any value is refused when left out. */
  approvalRules?: string[];
  approvals: FakeApproval[];
}

export interface FakeCommitStatus {
  id: number;
  projectId: number;
  sha: string;
  ref: string;
  name: string;
  status: string;
  targetUrl: string | null;
  description: string | null;
  author: string;
}

export interface FakeGitLabOptions {
  /** Each accepted `PRIVATE-TOKEN`, with the username it authenticates. */
  tokens: Record<string, string>;
  projects: FakeGitLabProject[];
  deployments?: (Omit<FakeDeployment, 'approvals' | 'status'> & Partial<Pick<FakeDeployment, 'approvals' | 'status'>>)[];
}

export interface FakeGitLab {
  /** The REST root, as `apiUrl` of the GitLab client. */
  apiUrl: string;
  requests: FakeGitLabRequest[];
  deployments: FakeDeployment[];
  /** Every commit status ever created, in order; updates change the entry in place. */
  commitStatuses: FakeCommitStatus[];
  deployment(id: number): FakeDeployment | undefined;
  /** The next `times` requests (default 1) are answered with `status` (and `headers`) and not processed. */
  failNext(status: number, options?: { times?: number; headers?: Record<string, string> }): void;
  close(): Promise<void>;
}

const approvalStatuses = ['approved', 'rejected'];
const commitStates = ['pending', 'running', 'success', 'failed', 'canceled', 'skipped'];
const deploymentStatuses = ['created', 'running', 'success', 'failed', 'canceled', 'skipped', 'blocked'];
const apiRoot = '/api/v4/projects/';

/** An answer with the HTTP status it goes out with. */
class Answer {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {}
}

export async function startFakeGitLab(options: FakeGitLabOptions): Promise<FakeGitLab> {
  const requests: FakeGitLabRequest[] = [];
  const deployments: FakeDeployment[] = (options.deployments ?? []).map((deployment) => ({ status: 'blocked', approvals: [], ...deployment }));
  const commitStatuses: FakeCommitStatus[] = [];
  const failures: { status: number; headers: Record<string, string> }[] = [];
  let nextStatusId = 9001;

  function projectOf(segment: string): FakeGitLabProject | undefined {
    const key = decodeURIComponent(segment);
    return options.projects.find((project) => (/^\d+$/.test(key) ? project.id === Number(key) : project.path === key));
  }

  function approve(username: string, projectSegment: string, deploymentSegment: string, params: Record<string, unknown>): Answer {
    const problems = [...integerProblems(deploymentSegment, 'deployment_id'), ...requiredEnumProblems(params, 'status', approvalStatuses), ...stringProblems(params, ['comment', 'represented_as'])];
    if (problems.length) return new Answer(400, { error: problems.join(', ') });
    const project = projectOf(projectSegment);
    if (!project) return new Answer(404, { message: '404 Project Not Found' });
    const deployment = deployments.find((candidate) => candidate.projectId === project.id && candidate.id === Number(deploymentSegment));
    if (!deployment) return new Answer(404, { message: '404 Not found' });

    // The order of Deployments::ApprovalService#validate.
    const status = String(params.status) as FakeApproval['status'];
    const representedAs = params.represented_as === undefined ? null : String(params.represented_as);
    const approvedCount = () => deployment.approvals.filter((approval) => approval.status === 'approved').length;
    const waiting = deployment.status === 'blocked' && approvedCount() < deployment.requiredApprovals;
    if (deployment.triggeredBy === username && status === 'approved') {
      return new Answer(400, { message: 'You cannot approve your own deployment. This configuration can be adjusted in the protected environment settings.' });
    }
    if (!waiting) return new Answer(400, { message: 'This deployment is not waiting for approvals.' });
    if (deployment.approvers && !deployment.approvers.includes(username)) {
      return new Answer(400, { message: "You don't have permission to approve this deployment. Contact the project or group owner for help." });
    }
    if (representedAs !== null && !(deployment.approvalRules ?? []).includes(representedAs)) {
      return new Answer(400, { message: 'There are no approval rules for the given `represent_as` parameter. Use a valid User/Group/Role name instead.' });
    }

    // One approval per user: the same decision again returns it unchanged, a different one replaces it.
    const comment = params.comment === undefined ? null : String(params.comment);
    let approval = deployment.approvals.find((recorded) => recorded.username === username);
    if (!approval) {
      approval = { username, status, comment, representedAs, createdAt: new Date().toISOString() };
      deployment.approvals.push(approval);
    } else if (approval.status !== status) {
      Object.assign(approval, { status, comment });
    }
    // A rejection fails the deploy job; the last approval lets it run.
    if (approval.status === 'rejected') deployment.status = 'failed';
    else if (approvedCount() >= deployment.requiredApprovals) deployment.status = 'running';
    return new Answer(201, {
      user: { id: userIdOf(username), username, name: username, state: 'active', avatar_url: null, web_url: `https://gitlab.example.com/${username}` },
      status: approval.status,
      created_at: approval.createdAt,
      comment: approval.comment,
    });
  }

  function listDeployments(projectSegment: string, params: Record<string, unknown>): Answer {
    const problems = params.status === undefined ? [] : requiredEnumProblems(params, 'status', deploymentStatuses);
    if (problems.length) return new Answer(400, { error: problems.join(', ') });
    const project = projectOf(projectSegment);
    if (!project) return new Answer(404, { message: '404 Project Not Found' });
    const descending = params.sort === 'desc';
    const listed = deployments
      .filter((deployment) => deployment.projectId === project.id)
      .filter((deployment) => params.environment === undefined || deployment.environment === params.environment)
      .filter((deployment) => params.status === undefined || deployment.status === params.status)
      .sort((a, b) => (descending ? b.id - a.id : a.id - b.id));
    return new Answer(
      200,
      listed.map((deployment) => ({
        id: deployment.id,
        iid: deployment.id,
        ref: deployment.ref,
        sha: deployment.sha,
        status: deployment.status,
        user: { username: deployment.triggeredBy },
        environment: { id: 1, name: deployment.environment },
        deployable: { id: deployment.jobId, name: deployment.environment, stage: 'deploy', status: deployment.status === 'blocked' ? 'manual' : deployment.status, ref: deployment.ref },
      })),
    );
  }

  function setStatus(username: string, projectSegment: string, sha: string, params: Record<string, unknown>): Answer {
    const problems = [...requiredEnumProblems(params, 'state', commitStates), ...stringProblems(params, ['ref', 'target_url', 'description', 'name', 'context'])];
    if (problems.length) return new Answer(400, { error: problems.join(', ') });
    const project = projectOf(projectSegment);
    if (!project) return new Answer(404, { message: '404 Project Not Found' });
    const branch = project.commits[sha];
    if (branch === undefined) return new Answer(404, { message: '404 Commit Not Found' });

    const ref = params.ref === undefined ? branch : String(params.ref);
    const name = String(params.name ?? params.context ?? 'default');
    const targetUrl = params.target_url === undefined ? null : String(params.target_url);
    const description = params.description === undefined ? null : String(params.description);
    const invalid: Record<string, string[]> = {};
    for (const [field, value] of [['ref', ref], ['target_url', targetUrl], ['description', description]] as const) {
      if (value !== null && value.length > 255) invalid[field] = ['is too long (maximum is 255 characters)'];
    }
    if (targetUrl !== null && !isHttpUrl(targetUrl)) (invalid.target_url ??= []).push('must be a valid URL');
    if (Object.keys(invalid).length) return new Answer(400, { message: invalid });

    // GitLab updates the pending or running status with this name, ref and user, else starts a new one.
    const state = String(params.state);
    const existing = commitStatuses.find((status) => status.projectId === project.id && status.sha === sha && status.ref === ref && status.name === name && status.author === username && (status.status === 'pending' || status.status === 'running'));
    const from = existing?.status ?? 'created';
    const refusal = transitionRefusal(from, state);
    if (refusal) return new Answer(400, { message: refusal });
    const status = existing ?? { id: nextStatusId++, projectId: project.id, sha, ref, name, status: from, targetUrl, description, author: username };
    if (!existing) commitStatuses.push(status);
    Object.assign(status, { status: state, ...(targetUrl === null ? {} : { targetUrl }), ...(description === null ? {} : { description }) });
    return new Answer(201, {
      id: status.id,
      sha,
      ref,
      status: status.status,
      name,
      target_url: status.targetUrl,
      description: status.description,
      allow_failure: false,
      author: { username },
    });
  }

  function route(method: string, url: string, username: string | undefined, params: Record<string, unknown>): Answer {
    const path = url.split('?')[0]!;
    const segments = path.startsWith(apiRoot) ? path.slice(apiRoot.length).split('/') : [];
    const [project, collection, id, action] = segments;
    const matched =
      (method === 'POST' && segments.length === 4 && collection === 'deployments' && action === 'approval') ||
      (method === 'GET' && segments.length === 2 && collection === 'deployments') ||
      (method === 'POST' && segments.length === 3 && collection === 'statuses');
    if (!matched) return new Answer(404, { error: '404 Not Found' });
    if (username === undefined) return new Answer(401, { message: '401 Unauthorized' });
    if (collection === 'statuses') return setStatus(username, project!, decodeURIComponent(id!), params);
    return method === 'GET' ? listDeployments(project!, params) : approve(username, project!, id!, params);
  }

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const method = request.method ?? 'GET';
      const url = request.url ?? '/';
      const failure = failures.shift();
      let params: Record<string, unknown> = {};
      let answer: Answer;
      let extraHeaders: Record<string, string> = {};
      if (failure) {
        answer = new Answer(failure.status, { message: `${failure.status} ${STATUS_CODES[failure.status] ?? 'Error'}` });
        extraHeaders = failure.headers;
      } else {
        const parsed = paramsOf(url, request.headers['content-type'], rawBody);
        if (parsed instanceof Answer) answer = parsed;
        else {
          params = parsed;
          const token = request.headers['private-token'];
          answer = route(method, url, typeof token === 'string' ? options.tokens[token] : undefined, params);
        }
      }
      requests.push({ method, url, headers: request.headers, rawBody, params, status: answer.status, answer: answer.body });
      reply(response, answer, extraHeaders);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    apiUrl: `http://127.0.0.1:${port}/api/v4`,
    requests,
    deployments,
    commitStatuses,
    deployment: (id) => deployments.find((deployment) => deployment.id === id),
    failNext: (status, { times = 1, headers = {} } = {}) => {
      for (let i = 0; i < times; i++) failures.push({ status, headers });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A webhook delivery as GitLab sends it: the JSON body and the headers a receiver reads
 * (`eventName` is the `X-Gitlab-Event` value, e.g. `Job Hook`).
 */
export function gitlabDelivery(
  token: string,
  eventName: string,
  payload: unknown,
): { headers: { 'content-type': string; 'x-gitlab-event': string; 'x-gitlab-token': string; 'x-gitlab-event-uuid': string }; body: string } {
  return {
    headers: { 'content-type': 'application/json', 'x-gitlab-event': eventName, 'x-gitlab-token': token, 'x-gitlab-event-uuid': randomUUID() },
    body: JSON.stringify(payload),
  };
}

/** Query parameters merged with a JSON or form body; an Answer when the body cannot be read. */
function paramsOf(url: string, contentType: string | undefined, rawBody: string): Record<string, unknown> | Answer {
  const query = Object.fromEntries(new URL(url, 'http://fake').searchParams);
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (rawBody === '') return query;
  if (type === 'application/json') {
    try {
      const body: unknown = JSON.parse(rawBody);
      if (typeof body === 'object' && body !== null && !Array.isArray(body)) return { ...query, ...(body as Record<string, unknown>) };
    } catch {
      // answered below
    }
    return new Answer(400, { error: 'message body does not match declared format' });
  }
  if (type === 'application/x-www-form-urlencoded') return { ...query, ...Object.fromEntries(new URLSearchParams(rawBody)) };
  return query;
}

/** Grape's wording: a required parameter with `values:` that is missing gets both messages. */
function requiredEnumProblems(params: Record<string, unknown>, name: string, values: string[]): string[] {
  const value = params[name];
  if (value === undefined || value === null || value === '') return [`${name} is missing`, `${name} does not have a valid value`];
  return values.includes(String(value)) ? [] : [`${name} does not have a valid value`];
}

function stringProblems(params: Record<string, unknown>, names: string[]): string[] {
  return names.filter((name) => params[name] !== undefined && typeof params[name] === 'object').map((name) => `${name} is invalid`);
}

function integerProblems(segment: string, name: string): string[] {
  return /^\d+$/.test(segment) ? [] : [`${name} is invalid`];
}

/** The state machine of a generic commit status, worded as GitLab's `state_machines` refusals. */
function transitionRefusal(from: string, to: string): string | undefined {
  const events: Record<string, { event: string; from: string[] }> = {
    pending: { event: 'enqueue', from: ['created'] },
    running: { event: 'run', from: ['created', 'pending'] },
    success: { event: 'success', from: ['created', 'pending', 'running'] },
    failed: { event: 'drop', from: ['created', 'pending', 'running'] },
    canceled: { event: 'cancel', from: ['created', 'pending', 'running'] },
    skipped: { event: 'skip', from: ['created', 'pending'] },
  };
  const { event, from: allowed } = events[to]!;
  return allowed.includes(from) ? undefined : `Cannot transition status via :${event} from :${from} (Reason(s): Status cannot transition via "${event}")`;
}

function isHttpUrl(value: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

function userIdOf(username: string): number {
  return [...username].reduce((sum, char) => sum + char.charCodeAt(0), 100);
}

function reply(response: ServerResponse, answer: Answer, headers: Record<string, string>): void {
  response.writeHead(answer.status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(answer.body));
}
