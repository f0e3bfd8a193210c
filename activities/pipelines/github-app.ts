import { createPrivateKey, type KeyObject } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import { SignJWT } from 'jose';
import { z } from 'zod';
import { parseDeploymentCallbackUrl, type CheckRunConclusion } from '../../adapters/github-webhooks.js';

export interface GitHubAppSettings {
  /** The app's ID (or client ID), as GitHub shows it on the app's settings page: the JWT's `iss`. */
  appId: number | string;
  /** The app's private key as GitHub hands it out (PKCS#1 `RSA PRIVATE KEY`), or PKCS#8. */
  privateKeyPem: string;
  /** `https://api.github.com`, `https://HOST/api/v3` on GitHub Enterprise Server, or a fake in tests. */
  apiUrl: string;
  /** Per HTTP call. */
  timeoutMs?: number;
  /** Milliseconds since the epoch; tests pin it. Drives the JWT claims and the token cache. */
  now?: () => number;
}

/** The failure types the client throws, for the activities' `nonRetryableErrorTypes`. */
export const gitHubFailureTypes = {
  /** Network error, timeout, 408, 429, 5xx, or a rate limit: retryable, after `Retry-After` when given. */
  unavailable: 'GitHubUnavailable',
  /** GitHub answered another 3xx/4xx (its message included): non-retryable. */
  refused: 'GitHubRefused',
  /** Refused before sending: a callback URL off the API host, a malformed repository or id. Non-retryable. */
  invalidRequest: 'GitHubInvalidRequest',
} as const;

/** Statuses an app may set; `waiting`, `requested` and `pending` belong to GitHub Actions. */
export type CheckRunStatus = 'queued' | 'in_progress' | 'completed';
/** Conclusions an app may set: only GitHub marks a check run `stale`. */
export type SettableCheckRunConclusion = Exclude<CheckRunConclusion, 'stale'>;

/** What a check run shows on the commit; `summary` and `text` are Markdown, each at most 65535 characters (longer is cut). */
export interface CheckRunOutput {
  title: string;
  summary: string;
  text?: string;
}

export interface NewCheckRun {
  installationId: number;
  /** `owner/name`. */
  repository: string;
  name: string;
  headSha: string;
  /** Escalator's id for what the check reports (the escalation), to find the check run again. */
  externalId: string;
  /** `completed` needs a `conclusion`. */
  status: CheckRunStatus;
  /** Where "Details" on GitHub leads: the escalation's page. */
  detailsUrl: string;
  output: CheckRunOutput;
  conclusion?: SettableCheckRunConclusion;
  /** ISO 8601. */
  startedAt?: string;
  /** ISO 8601; needs a `conclusion`. */
  completedAt?: string;
}

/** Fields left out stay as they are on GitHub. */
export interface CheckRunUpdate {
  installationId: number;
  /** `owner/name`. */
  repository: string;
  checkRunId: number;
  status?: CheckRunStatus;
  /** Setting one completes the check run. */
  conclusion?: SettableCheckRunConclusion;
  output?: CheckRunOutput;
  detailsUrl?: string;
  /** ISO 8601. */
  completedAt?: string;
}

export interface DeploymentReview {
  /** The event's `deployment_callback_url`; must lie on `apiUrl` (see `parseDeploymentCallbackUrl`). */
  callbackUrl: string;
  installationId: number;
  /** The event's `environment`. */
  environmentName: string;
  state: 'approved' | 'rejected';
  /** Shown on the workflow run beside the decision. */
  comment: string;
}

/** A GitHub App's REST calls, authenticated as an installation of the app. */
export interface GitHubApp {
  /**
   * An installation access token, from the cache until five minutes before it expires; concurrent
   * callers share one exchange. For this module's own calls: not an activity, since its result
   * would be written to workflow history.
   */
  installationToken(installationId: number): Promise<string>;
  /** Approves or rejects the environment's custom protection rule on the run the callback URL names. */
  reviewDeploymentProtectionRule(review: DeploymentReview): Promise<void>;
  /**
   * Creates a check run on a commit. A retry after a lost answer creates a second one: look it up
   * by `externalId` if that matters.
   */
  createCheckRun(checkRun: NewCheckRun): Promise<{ id: number }>;
  /** Changes a check run Escalator created (GitHub refuses others' with 403/404). */
  updateCheckRun(update: CheckRunUpdate): Promise<void>;
  /**
   * The check run of this name on the commit that carries `externalId`, or null: what a retried
   * create looks up first, so a lost answer never leaves two.
   */
  findCheckRun(query: { installationId: number; repository: string; headSha: string; name: string; externalId: string }): Promise<{ id: number } | null>;
}

const apiVersion = '2022-11-28';
/** GitHub's limit for `output.summary` and `output.text`. */
const outputLimit = 65_535;
/** Refresh a token this long before `expires_at`, so none expires between our check and GitHub's. */
const refreshMarginMs = 5 * 60_000;
/** GitHub's advice: backdate `iat` against clock drift; `exp` at most ten minutes out. */
const jwtBackdateSeconds = 60;
const jwtLifetimeSeconds = 600;

const accessTokenAnswer = z.looseObject({ token: z.string().min(1), expires_at: z.iso.datetime({ offset: true }) });
const checkRunAnswer = z.looseObject({ id: z.number().int().positive() });
const checkRunList = z.looseObject({ check_runs: z.array(z.looseObject({ id: z.number().int().positive(), external_id: z.string().nullable().optional() })) });

interface CachedToken {
  token: string;
  expiresAt: number;
}

/**
 * A GitHub App client for Escalator's activities: installation tokens (GitHub's "Authenticating as
 * a GitHub App installation"), custom deployment protection rule reviews ("Review custom deployment
 * protection rules for a workflow run") and check runs ("REST API endpoints for check runs").
 *
 * Failures are `ApplicationFailure`s typed as in {@link gitHubFailureTypes}; a 401 with a cached
 * token (revoked, or expired early) drops it and retries once with a new one inside the call.
 * Redirects are not followed, so a token never leaves `apiUrl`. Throws at once on a key that is not
 * an RSA private key: a worker with a broken key should not start.
 *
 * Recommended activity options: startToCloseTimeout '30s', retry { initialInterval '5s',
 * backoffCoefficient 2, maximumInterval '10m', nonRetryableErrorTypes ['GitHubRefused',
 * 'GitHubInvalidRequest'] }.
 */
export function createGitHubApp(settings: GitHubAppSettings): GitHubApp {
  const apiUrl = settings.apiUrl.replace(/\/+$/, '');
  const timeoutMs = settings.timeoutMs ?? 10_000;
  const now = settings.now ?? Date.now;
  const privateKey = rsaPrivateKey(settings.privateKeyPem);
  const tokens = new Map<number, CachedToken>();
  const exchanges = new Map<number, Promise<CachedToken>>();

  async function appJwt(): Promise<string> {
    const issuedAt = Math.floor(now() / 1000) - jwtBackdateSeconds;
    return new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
      .setIssuer(String(settings.appId))
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + jwtLifetimeSeconds)
      .sign(privateKey);
  }

  async function send(method: string, url: string, token: string, what: string, body?: unknown): Promise<Response> {
    try {
      return await fetch(url, {
        method,
        headers: {
          accept: 'application/vnd.github+json',
          'x-github-api-version': apiVersion,
          'user-agent': 'escalator',
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw ApplicationFailure.create({ message: `GitHub ${what}: unreachable: ${(error as Error).message}`, type: gitHubFailureTypes.unavailable, cause: error as Error });
    }
  }

  async function exchange(installationId: number): Promise<CachedToken> {
    const what = `token for installation ${installationId}`;
    const response = await send('POST', `${apiUrl}/app/installations/${installationId}/access_tokens`, await appJwt(), what);
    if (!response.ok) throw await failureOf(response, what, now());
    const answer = accessTokenAnswer.safeParse(await response.json().catch(() => undefined));
    // A 201 without a token is a proxy or an outage page, not a refusal.
    if (!answer.success) throw ApplicationFailure.retryable(`GitHub ${what}: answered ${response.status} without a token`, gitHubFailureTypes.unavailable);
    const cached = { token: answer.data.token, expiresAt: Date.parse(answer.data.expires_at) };
    tokens.set(installationId, cached);
    return cached;
  }

  async function installationToken(installationId: number): Promise<string> {
    if (!Number.isSafeInteger(installationId) || installationId <= 0) throw ApplicationFailure.nonRetryable(`installation id ${installationId} is not a positive integer`, gitHubFailureTypes.invalidRequest);
    const cached = tokens.get(installationId);
    if (cached && now() < cached.expiresAt - refreshMarginMs) return cached.token;
    let pending = exchanges.get(installationId);
    if (!pending) {
      pending = exchange(installationId).finally(() => exchanges.delete(installationId));
      exchanges.set(installationId, pending);
    }
    return (await pending).token;
  }

  /** Calls as the installation; a 2xx answer is returned, anything else thrown. */
  async function asInstallation(installationId: number, method: string, url: string, what: string, body: unknown): Promise<Response> {
    for (let attempt = 1; ; attempt += 1) {
      const token = await installationToken(installationId);
      const response = await send(method, url, token, what, body);
      if (response.status === 401 && attempt === 1) {
        await response.body?.cancel();
        // Only this token: another caller may already have put a fresh one in its place.
        if (tokens.get(installationId)?.token === token) tokens.delete(installationId);
        continue;
      }
      if (!response.ok) throw await failureOf(response, what, now());
      return response;
    }
  }

  return {
    installationToken,

    async reviewDeploymentProtectionRule(review) {
      const run = parseDeploymentCallbackUrl(review.callbackUrl, apiUrl);
      if (!run) throw ApplicationFailure.nonRetryable(`deployment callback URL ${review.callbackUrl} is not a protection rule review on ${apiUrl}: refusing to send it a token`, gitHubFailureTypes.invalidRequest);
      // Posted to the URL rebuilt from its checked parts, so nothing the check did not look at reaches fetch.
      const url = `${apiUrl}/repos/${run.owner}/${run.repo}/actions/runs/${run.runId}/deployment_protection_rule`;
      const what = `review of ${run.owner}/${run.repo} run ${run.runId} (${review.environmentName})`;
      const response = await asInstallation(review.installationId, 'POST', url, what, { environment_name: review.environmentName, state: review.state, comment: review.comment });
      await response.body?.cancel();
    },

    async createCheckRun(checkRun) {
      const what = `check run "${checkRun.name}" on ${checkRun.repository}@${checkRun.headSha}`;
      const response = await asInstallation(checkRun.installationId, 'POST', `${repositoryUrl(apiUrl, checkRun.repository)}/check-runs`, what, {
        name: checkRun.name,
        head_sha: checkRun.headSha,
        external_id: checkRun.externalId,
        status: checkRun.status,
        details_url: checkRun.detailsUrl,
        output: outputBody(checkRun.output),
        conclusion: checkRun.conclusion,
        started_at: checkRun.startedAt,
        completed_at: checkRun.completedAt,
      });
      const answer = checkRunAnswer.safeParse(await response.json().catch(() => undefined));
      if (!answer.success) throw ApplicationFailure.retryable(`GitHub ${what}: answered ${response.status} without a check run id`, gitHubFailureTypes.unavailable);
      return { id: answer.data.id };
    },

    async findCheckRun({ installationId, repository, headSha, name, externalId }) {
      const what = `check runs "${name}" on ${repository}@${headSha}`;
      const query = new URLSearchParams({ check_name: name, filter: 'all', per_page: '100' });
      const response = await asInstallation(installationId, 'GET', `${repositoryUrl(apiUrl, repository)}/commits/${encodeURIComponent(headSha)}/check-runs?${query}`, what, undefined);
      const answer = checkRunList.safeParse(await response.json().catch(() => undefined));
      if (!answer.success) throw ApplicationFailure.retryable(`GitHub ${what}: answered ${response.status} without a check run list`, gitHubFailureTypes.unavailable);
      const found = answer.data.check_runs.find((run) => run.external_id === externalId);
      return found ? { id: found.id } : null;
    },

    async updateCheckRun(update) {
      if (!Number.isSafeInteger(update.checkRunId) || update.checkRunId <= 0) throw ApplicationFailure.nonRetryable(`check run id ${update.checkRunId} is not a positive integer`, gitHubFailureTypes.invalidRequest);
      const what = `update of check run ${update.checkRunId} on ${update.repository}`;
      const response = await asInstallation(update.installationId, 'PATCH', `${repositoryUrl(apiUrl, update.repository)}/check-runs/${update.checkRunId}`, what, {
        status: update.status,
        conclusion: update.conclusion,
        output: update.output && outputBody(update.output),
        details_url: update.detailsUrl,
        completed_at: update.completedAt,
      });
      await response.body?.cancel();
    },
  };
}

function rsaPrivateKey(pem: string): KeyObject {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'rsa') throw new Error(`the GitHub App private key is ${key.asymmetricKeyType ?? 'not asymmetric'}, not RSA: GitHub signs app JWTs with RS256`);
  return key;
}

/** `${apiUrl}/repos/{owner}/{repo}`; a name that could step out of that path is refused before sending. */
function repositoryUrl(apiUrl: string, repository: string): string {
  const match = /^([A-Za-z0-9-]+)\/([A-Za-z0-9_.-]+)$/.exec(repository);
  if (!match || match[2] === '.' || match[2] === '..') throw ApplicationFailure.nonRetryable(`repository "${repository}" is not owner/name`, gitHubFailureTypes.invalidRequest);
  return `${apiUrl}/repos/${match[1]}/${match[2]}`;
}

/** Cut rather than refused: a 422 would fail the activity for good over a long log excerpt. */
function outputBody(output: CheckRunOutput): CheckRunOutput {
  return { title: output.title, summary: clip(output.summary), ...(output.text === undefined ? {} : { text: clip(output.text) }) };
}

function clip(markdown: string): string {
  const marker = '\n\n… (cut by Escalator)';
  return markdown.length <= outputLimit ? markdown : markdown.slice(0, outputLimit - marker.length) + marker;
}

/** The failure for a non-2xx answer, with GitHub's message and the status in its text. */
async function failureOf(response: Response, what: string, nowMs: number): Promise<ApplicationFailure> {
  const answer = (await response.json().catch(() => ({}))) as { message?: unknown; errors?: unknown };
  const said = describe(answer);
  const { status } = response;
  const message = `GitHub ${what}: answered ${status}${said ? `: ${said}` : ''}`;
  const details = [{ status, errors: Array.isArray(answer.errors) ? answer.errors : [] }];
  // GitHub signals a rate limit with 403 as well as 429, carrying Retry-After or an exhausted x-ratelimit-remaining.
  const rateLimited = status === 403 && (response.headers.has('retry-after') || response.headers.get('x-ratelimit-remaining') === '0');
  if (status === 408 || status === 429 || status >= 500 || rateLimited) {
    const delay = retryDelayMs(response.headers, nowMs);
    return ApplicationFailure.create({ message, type: gitHubFailureTypes.unavailable, details, ...(delay === undefined ? {} : { nextRetryDelay: delay }) });
  }
  return ApplicationFailure.create({ message, type: gitHubFailureTypes.refused, nonRetryable: true, details });
}

/** GitHub's `message`, and its validation `errors` (strings, or `{resource, field, code, message}`). */
function describe(answer: { message?: unknown; errors?: unknown }): string {
  const errors = Array.isArray(answer.errors) ? answer.errors : [];
  const parts = errors.map((error: unknown) => {
    if (typeof error === 'string') return error;
    const { resource, field, code, message } = (error ?? {}) as Record<string, unknown>;
    return typeof message === 'string' ? message : [resource, field, code].filter((part) => typeof part === 'string').join(' ');
  });
  const message = typeof answer.message === 'string' ? answer.message : '';
  return [message, parts.filter(Boolean).join('; ')].filter(Boolean).join(': ');
}

/**
 * `Retry-After` (seconds or an HTTP date), else the reset of an exhausted rate limit, in ms from now;
 * undefined (the retry policy decides) when neither says to wait.
 */
function retryDelayMs(headers: Headers, nowMs: number): number | undefined {
  const retryAfter = headers.get('retry-after')?.trim() ?? '';
  const reset = headers.get('x-ratelimit-remaining') === '0' ? (headers.get('x-ratelimit-reset') ?? '') : '';
  let delay: number | undefined;
  if (/^\d+$/.test(retryAfter)) delay = Number(retryAfter) * 1000;
  else if (retryAfter && !Number.isNaN(Date.parse(retryAfter))) delay = Date.parse(retryAfter) - nowMs;
  else if (/^\d+$/.test(reset)) delay = Number(reset) * 1000 - nowMs;
  return delay !== undefined && delay > 0 ? delay : undefined;
}
