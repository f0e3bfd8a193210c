import { createHmac, createPublicKey, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jwtVerify } from 'jose';

/** A GitHub App's key pair, PEM-encoded; the private key in PKCS#1, as GitHub hands it out. */
export interface AppKeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
}

export function generateAppKeyPair(): AppKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

/** A webhook delivery as GitHub sends it: POST this body with these headers to the receiver. */
export interface SignedDelivery {
  headers: { 'x-github-event': string; 'x-github-delivery': string; 'x-hub-signature-256': string; 'content-type': 'application/json' };
  body: string;
}

export function signedDelivery(secret: string, event: string, payload: unknown, deliveryId: string = randomUUID()): SignedDelivery {
  const body = JSON.stringify(payload);
  return {
    headers: {
      'x-github-event': event,
      'x-github-delivery': deliveryId,
      'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
      'content-type': 'application/json',
    },
    body,
  };
}

export interface FakeGitHubRequest {
  method: string;
  /** Path and query, as received. */
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body; undefined when there was none (or it was not JSON). */
  body: unknown;
  status: number;
}

/** A check run as the fake keeps it: the fields of GitHub's check run object Escalator sets. */
export interface FakeCheckRun {
  id: number;
  repository: string;
  installationId: number;
  name: string;
  head_sha: string;
  external_id: string;
  status: string;
  conclusion: string | null;
  details_url: string | null;
  started_at: string;
  completed_at: string | null;
  output: { title: string | null; summary: string | null; text: string | null };
  /** Every accepted create/update body, in order. */
  history: Record<string, unknown>[];
}

export interface FakeDeploymentReview {
  repository: string;
  runId: number;
  installationId: number;
  environment_name: string;
  state: 'approved' | 'rejected' | undefined;
  comment: string | undefined;
}

export interface FakeGitHubOptions {
  appId: number | string;
  /** The app's public key (SPKI PEM): what GitHub verifies app JWTs with. */
  publicKeyPem: string;
  /** Installations of the app; others answer 404 on the token exchange. Default [4242]. */
  installations?: number[];
  /** Milliseconds since the epoch, for JWT checks and token expiry; share it with the client's `now`. */
  now?: () => number;
  /** How long an installation token lives; GitHub's is one hour. */
  tokenLifetimeMs?: number;
}

export interface FailureOptions {
  /** How many responses fail; default 1. */
  times?: number;
  /** Extra response headers, e.g. `{ 'retry-after': '7' }`. */
  headers?: Record<string, string>;
  /** Only requests whose `METHOD /path` matches fail (and count); default all. */
  matching?: RegExp;
}

/**
 * GitHub's REST API on loopback, for a GitHub App: the installation token exchange, check runs and
 * custom deployment protection rule reviews, validating requests as GitHub's docs describe. Stricter
 * than GitHub in one way: it insists on the headers GitHub recommends (`Accept`,
 * `X-GitHub-Api-Version`), so a client that drops them fails here.
 */
export interface FakeGitHub {
  /** The API root, as `apiUrl` of the client. */
  url: string;
  requests: FakeGitHubRequest[];
  /** Requests to one route, e.g. `requestsTo('POST', /access_tokens$/)`. */
  requestsTo(method: string, path: RegExp): FakeGitHubRequest[];
  checkRuns: Map<number, FakeCheckRun>;
  deploymentReviews: FakeDeploymentReview[];
  /** The `deployment_callback_url` GitHub would send for a run of `owner/name`, on this fake. */
  callbackUrl(repository: string, runId: number): string;
  /** The next matching responses answer `status` without doing anything. */
  failNext(status: number, options?: FailureOptions): void;
  /** Every installation token issued so far stops working (401), as on revocation. */
  revokeInstallationTokens(): void;
  close(): Promise<void>;
}

const apiVersion = '2022-11-28';
const documentationUrl = 'https://docs.github.com/rest';
const checkRunStatuses = ['queued', 'in_progress', 'completed'];
const settableConclusions = ['action_required', 'cancelled', 'failure', 'neutral', 'success', 'skipped', 'timed_out'];
const outputLimit = 65_535;

type Answer = { status: number; body?: unknown; headers?: Record<string, string> };
type FieldError = { resource: string; field: string; code: 'missing_field' | 'invalid'; message: string };

export async function startFakeGitHub(options: FakeGitHubOptions): Promise<FakeGitHub> {
  const now = options.now ?? Date.now;
  const installations = new Set(options.installations ?? [4242]);
  const tokenLifetimeMs = options.tokenLifetimeMs ?? 60 * 60_000;
  const publicKey = createPublicKey(options.publicKeyPem);
  const tokens = new Map<string, { installationId: number; expiresAt: number; revoked: boolean }>();
  const requests: FakeGitHubRequest[] = [];
  const checkRuns = new Map<number, FakeCheckRun>();
  const deploymentReviews: FakeDeploymentReview[] = [];
  const failures: { status: number; left: number; headers: Record<string, string>; matching: RegExp | undefined }[] = [];
  let nextCheckRunId = 4_000_000_001;
  let url = '';

  const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

  async function route(method: string, path: string, headers: IncomingHttpHeaders, rawBody: string): Promise<Answer> {
    const failure = failures.find((candidate) => candidate.left > 0 && (!candidate.matching || candidate.matching.test(`${method} ${path}`)));
    if (failure) {
      failure.left -= 1;
      return { status: failure.status, body: { message: `injected ${failure.status}`, documentation_url: documentationUrl }, headers: failure.headers };
    }
    const headerProblem = checkHeaders(headers, rawBody !== '');
    if (headerProblem) return headerProblem;
    const body = jsonOrUndefined(rawBody);
    if (rawBody !== '' && body === undefined) return { status: 400, body: { message: 'Problems parsing JSON', documentation_url: documentationUrl } };

    const tokenRoute = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(path);
    if (tokenRoute && method === 'POST') return issueToken(Number(tokenRoute[1]), headers);

    const repoRoute = /^\/repos\/([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)\/(.+)$/.exec(path);
    if (!repoRoute) return notFound();
    const repository = `${repoRoute[1]}/${repoRoute[2]}`;
    const rest = repoRoute[3] ?? '';
    const reviewRoute = /^actions\/runs\/(\d+)\/deployment_protection_rule$/.exec(rest);
    const updateRoute = /^check-runs\/(\d+)$/.exec(rest);
    // "List check runs for a Git reference": GET /repos/{owner}/{repo}/commits/{ref}/check-runs?check_name=&filter=
    const listRoute = /^commits\/([0-9a-f]{40}|[0-9a-f]{64})\/check-runs(\?.*)?$/.exec(rest);
    const known = (method === 'POST' && (reviewRoute || rest === 'check-runs')) || (method === 'PATCH' && updateRoute) || (method === 'GET' && listRoute);
    if (!known) return notFound();

    const installationId = installationOf(headers);
    if (installationId === undefined) return { status: 401, body: { message: 'Bad credentials', documentation_url: documentationUrl, status: '401' } };
    if (reviewRoute) return review(repository, Number(reviewRoute[1]), installationId, body);
    if (updateRoute) return updateCheckRun(repository, Number(updateRoute[1]), installationId, body);
    if (listRoute) return listCheckRuns(repository, listRoute[1]!, new URLSearchParams(listRoute[2]?.slice(1) ?? ''));
    return createCheckRun(repository, installationId, body);
  }

  /** GitHub answers 403 without a User-Agent and 400 for an API version it does not know. */
  function checkHeaders(headers: IncomingHttpHeaders, hasBody: boolean): Answer | undefined {
    if (!headers['user-agent']) return { status: 403, body: { message: 'Request forbidden by administrative rules. Please make sure your request has a User-Agent header.', documentation_url: documentationUrl } };
    if (headers['x-github-api-version'] !== apiVersion) return { status: 400, body: { message: `API version ${headers['x-github-api-version'] ?? '(none)'} is not supported by this fake; send ${apiVersion}.`, documentation_url: documentationUrl } };
    if (headers.accept !== 'application/vnd.github+json') return { status: 415, body: { message: `Accept must be application/vnd.github+json, not ${headers.accept ?? '(none)'}`, documentation_url: documentationUrl } };
    if (hasBody && !/^application\/json\b/.test(headers['content-type'] ?? '')) return { status: 415, body: { message: 'Content-Type must be application/json', documentation_url: documentationUrl } };
    return undefined;
  }

  function bearer(headers: IncomingHttpHeaders): string | undefined {
    return /^Bearer (\S+)$/.exec(headers.authorization ?? '')?.[1];
  }

  function installationOf(headers: IncomingHttpHeaders): number | undefined {
    const token = bearer(headers);
    const issued = token === undefined ? undefined : tokens.get(token);
    if (!issued || issued.revoked || issued.expiresAt <= now()) return undefined;
    return issued.installationId;
  }

  /** "Generating a JSON Web Token (JWT) for a GitHub App": RS256, `iss`, `iat` in the past, `exp` at most ten minutes ahead. */
  async function issueToken(installationId: number, headers: IncomingHttpHeaders): Promise<Answer> {
    const jwt = bearer(headers);
    const refuse = (message: string): Answer => ({ status: 401, body: { message, documentation_url: documentationUrl, status: '401' } });
    if (!jwt) return refuse('A JSON web token could not be decoded');
    let claims: Record<string, unknown>;
    try {
      ({ payload: claims } = await jwtVerify(jwt, publicKey, { algorithms: ['RS256'], currentDate: new Date(now()) }));
    } catch (error) {
      return refuse(`A JSON web token could not be verified: ${(error as Error).message}`);
    }
    const nowSeconds = Math.floor(now() / 1000);
    const { iss, iat, exp } = claims;
    if (String(iss) !== String(options.appId)) return refuse(`'Issuer' claim ('iss') ${String(iss)} is not app ${options.appId}`);
    if (typeof iat !== 'number' || !Number.isInteger(iat) || iat > nowSeconds + 1) return refuse("'Issued at' claim ('iat') must be an Integer representing a time in the past");
    if (typeof exp !== 'number' || !Number.isInteger(exp) || exp - iat > 600 || exp > nowSeconds + 600) return refuse("'Expiration time' claim ('exp') is too far in the future");
    if (!installations.has(installationId)) return notFound();
    const token = `ghs_${randomBytes(18).toString('base64url')}`;
    const expiresAt = Math.floor((now() + tokenLifetimeMs) / 1000) * 1000;
    tokens.set(token, { installationId, expiresAt, revoked: false });
    return { status: 201, body: { token, expires_at: iso(expiresAt), permissions: { checks: 'write', deployments: 'write', actions: 'read', metadata: 'read' }, repository_selection: 'selected' } };
  }

  function listCheckRuns(repository: string, sha: string, query: URLSearchParams): Answer {
    const filter = query.get('filter') ?? 'latest';
    if (!['latest', 'all'].includes(filter)) return unprocessable([{ resource: 'CheckRun', field: 'filter', code: 'invalid', message: 'filter must be latest or all' }]);
    const name = query.get('check_name');
    const found = [...checkRuns.values()].filter((run) => run.repository === repository && run.head_sha === sha && (name === null || run.name === name));
    return { status: 200, body: { total_count: found.length, check_runs: found.map(checkRunBody) } };
  }

  function createCheckRun(repository: string, installationId: number, body: unknown): Answer {
    const errors = checkRunProblems(body, 'create');
    if (errors.length) return unprocessable(errors);
    const fields = body as Record<string, unknown>;
    const output = fields.output as { title: string; summary: string; text?: string } | undefined;
    const conclusion = (fields.conclusion as string | undefined) ?? null;
    const checkRun: FakeCheckRun = {
      id: nextCheckRunId++,
      repository,
      installationId,
      name: fields.name as string,
      head_sha: fields.head_sha as string,
      external_id: (fields.external_id as string | undefined) ?? '',
      // A conclusion completes the check run whatever the status says.
      status: conclusion ? 'completed' : ((fields.status as string | undefined) ?? 'queued'),
      conclusion,
      details_url: (fields.details_url as string | undefined) ?? null,
      started_at: (fields.started_at as string | undefined) ?? iso(now()),
      completed_at: conclusion ? ((fields.completed_at as string | undefined) ?? iso(now())) : null,
      output: { title: output?.title ?? null, summary: output?.summary ?? null, text: output?.text ?? null },
      history: [fields],
    };
    checkRuns.set(checkRun.id, checkRun);
    return { status: 201, body: checkRunBody(checkRun) };
  }

  function updateCheckRun(repository: string, id: number, installationId: number, body: unknown): Answer {
    const checkRun = checkRuns.get(id);
    if (!checkRun || checkRun.repository.toLowerCase() !== repository.toLowerCase()) return notFound();
    // An app can only change its own check runs; other installations of it see 403 on GitHub.
    if (checkRun.installationId !== installationId) return { status: 403, body: { message: 'Resource not accessible by integration', documentation_url: documentationUrl } };
    const errors = checkRunProblems(body, 'update', checkRun);
    if (errors.length) return unprocessable(errors);
    const fields = body as Record<string, unknown>;
    if (typeof fields.name === 'string') checkRun.name = fields.name;
    if (typeof fields.external_id === 'string') checkRun.external_id = fields.external_id;
    if (typeof fields.details_url === 'string') checkRun.details_url = fields.details_url;
    if (typeof fields.started_at === 'string') checkRun.started_at = fields.started_at;
    if (typeof fields.status === 'string') checkRun.status = fields.status;
    if (typeof fields.conclusion === 'string') {
      checkRun.conclusion = fields.conclusion;
      checkRun.status = 'completed';
      checkRun.completed_at = (fields.completed_at as string | undefined) ?? checkRun.completed_at ?? iso(now());
    } else if (typeof fields.completed_at === 'string') checkRun.completed_at = fields.completed_at;
    const output = fields.output as { title: string; summary: string; text?: string } | undefined;
    if (output) checkRun.output = { title: output.title, summary: output.summary, text: output.text ?? null };
    checkRun.history.push(fields);
    return { status: 200, body: checkRunBody(checkRun) };
  }

  /** "Create a check run" / "Update a check run": required fields, enums, formats and the conclusion rule. */
  function checkRunProblems(body: unknown, kind: 'create' | 'update', existing?: FakeCheckRun): FieldError[] {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return [{ resource: 'CheckRun', field: '', code: 'invalid', message: 'the body must be a JSON object' }];
    const fields = body as Record<string, unknown>;
    const errors: FieldError[] = [];
    const invalid = (field: string, message: string) => errors.push({ resource: 'CheckRun', field, code: 'invalid', message });
    const missing = (field: string) => errors.push({ resource: 'CheckRun', field, code: 'missing_field', message: `${field} is required` });
    const optionalString = (field: string) => fields[field] !== undefined && typeof fields[field] !== 'string' && invalid(field, `${field} must be a string`);

    if (kind === 'create' || fields.name !== undefined) {
      if (fields.name === undefined) missing('name');
      else if (typeof fields.name !== 'string' || fields.name.trim() === '') invalid('name', 'name must be a non-empty string');
    }
    if (kind === 'create') {
      if (fields.head_sha === undefined) missing('head_sha');
      else if (typeof fields.head_sha !== 'string' || !/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(fields.head_sha)) invalid('head_sha', `No commit found for SHA: ${String(fields.head_sha)}`);
    }
    optionalString('external_id');
    if (fields.details_url !== undefined && !(typeof fields.details_url === 'string' && /^https?:\/\/\S+$/.test(fields.details_url))) invalid('details_url', 'details_url must be an http(s) URL');
    if (fields.status !== undefined && !checkRunStatuses.includes(fields.status as string)) invalid('status', `status must be one of ${checkRunStatuses.join(', ')}`);
    if (fields.conclusion === 'stale') invalid('conclusion', 'only GitHub can set a check run stale');
    else if (fields.conclusion !== undefined && !settableConclusions.includes(fields.conclusion as string)) invalid('conclusion', `conclusion must be one of ${settableConclusions.join(', ')}`);
    for (const field of ['started_at', 'completed_at']) {
      const value = fields[field];
      if (value !== undefined && !(typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value) && !Number.isNaN(Date.parse(value)))) invalid(field, `${field} must be an ISO 8601 timestamp`);
    }
    const concluded = fields.conclusion !== undefined || (existing?.conclusion ?? null) !== null;
    if ((fields.status === 'completed' || fields.completed_at !== undefined) && !concluded) missing('conclusion');
    if (fields.output !== undefined) {
      const output = fields.output as Record<string, unknown> | null;
      if (typeof output !== 'object' || output === null || Array.isArray(output)) invalid('output', 'output must be an object');
      else {
        for (const field of ['title', 'summary'] as const) {
          if (output[field] === undefined) missing(`output.${field}`);
          else if (typeof output[field] !== 'string') invalid(`output.${field}`, `output.${field} must be a string`);
        }
        if (typeof output.summary === 'string' && output.summary.length > outputLimit) invalid('output.summary', `output.summary is longer than ${outputLimit} characters`);
        if (output.text !== undefined && (typeof output.text !== 'string' || output.text.length > outputLimit)) invalid('output.text', `output.text must be a string of at most ${outputLimit} characters`);
      }
    }
    return errors;
  }

  function checkRunBody(checkRun: FakeCheckRun): Record<string, unknown> {
    const { id, repository, name, head_sha, external_id, status, conclusion, details_url, started_at, completed_at } = checkRun;
    return {
      id,
      name,
      head_sha,
      external_id,
      status,
      conclusion,
      details_url,
      started_at,
      completed_at,
      node_id: Buffer.from(`CheckRun${checkRun.id}`).toString('base64'),
      url: `${url}/repos/${repository}/check-runs/${checkRun.id}`,
      html_url: `https://github.com/${repository}/runs/${checkRun.id}`,
      output: { ...checkRun.output, annotations_count: 0, annotations_url: `${url}/repos/${repository}/check-runs/${checkRun.id}/annotations` },
      app: { id: Number(options.appId), slug: 'escalator', name: 'Escalator' },
      pull_requests: [],
    };
  }

  /** "Review custom deployment protection rules for a workflow run": a decision needs `state`, a bare comment needs `comment`. */
  function review(repository: string, runId: number, installationId: number, body: unknown): Answer {
    const fields = (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
    const errors: FieldError[] = [];
    const invalid = (field: string, message: string) => errors.push({ resource: 'DeploymentProtectionRule', field, code: 'invalid', message });
    if (typeof fields.environment_name !== 'string' || fields.environment_name === '') invalid('environment_name', 'environment_name is required');
    if (fields.state !== undefined && fields.state !== 'approved' && fields.state !== 'rejected') invalid('state', 'state must be approved or rejected');
    if (fields.comment !== undefined && typeof fields.comment !== 'string') invalid('comment', 'comment must be a string');
    if (fields.state === undefined && typeof fields.comment !== 'string') invalid('comment', 'comment is required when no state is given');
    if (errors.length) return unprocessable(errors);
    deploymentReviews.push({
      repository,
      runId,
      installationId,
      environment_name: fields.environment_name as string,
      state: fields.state as 'approved' | 'rejected' | undefined,
      comment: fields.comment as string | undefined,
    });
    return { status: 204 };
  }

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const method = request.method ?? '';
      const path = request.url ?? '';
      route(method, path, request.headers, rawBody)
        .catch((error: unknown): Answer => ({ status: 500, body: { message: `fake GitHub failed: ${(error as Error).message}` } }))
        .then((answer) => {
          requests.push({ method, path, headers: request.headers, body: jsonOrUndefined(rawBody), status: answer.status });
          reply(response, answer);
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    requests,
    requestsTo: (method, path) => requests.filter((request) => request.method === method && path.test(request.path)),
    checkRuns,
    deploymentReviews,
    callbackUrl: (repository, runId) => `${url}/repos/${repository}/actions/runs/${runId}/deployment_protection_rule`,
    failNext: (status, { times = 1, headers = {}, matching } = {}) => void failures.push({ status, left: times, headers, matching }),
    revokeInstallationTokens: () => tokens.forEach((issued) => (issued.revoked = true)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function jsonOrUndefined(raw: string): unknown {
  try {
    return raw === '' ? undefined : (JSON.parse(raw) as unknown);
  } catch {
    return undefined;
  }
}

function notFound(): Answer {
  return { status: 404, body: { message: 'Not Found', documentation_url: documentationUrl, status: '404' } };
}

function unprocessable(errors: FieldError[]): Answer {
  return { status: 422, body: { message: 'Validation Failed', errors, documentation_url: documentationUrl, status: '422' } };
}

function reply(response: ServerResponse, { status, body, headers = {} }: Answer): void {
  if (body === undefined) response.writeHead(status, headers).end();
  else response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(body));
}
