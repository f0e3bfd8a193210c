import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';

export interface GitLabClientSettings {
  /** The REST root, `/api/v4` included: `https://gitlab.com/api/v4`, or the fake's `apiUrl`. */
  apiUrl: string;
  /**
   * Sent as `PRIVATE-TOKEN`: a personal, project or group access token with the `api` scope. For
   * approvals it must belong to a user allowed to approve deployments to the environment, and not to
   * the user who triggered the pipeline (GitLab refuses self-approval unless the project allows it).
   */
  token: string;
  /** Per request. */
  timeoutMs?: number;
  /** Milliseconds since the epoch, to turn a `Retry-After` date into a delay; tests pin it. */
  now?: () => number;
}

/** A project by numeric id or by `group/project` path (the client URL-encodes paths). */
export type GitLabProjectId = number | string;

/** The `type` of every `ApplicationFailure` the client throws. */
export const gitLabFailureTypes = {
  /** Retryable: network error, timeout, 408, 409 (GitLab's commit-status lock), 429, 5xx. */
  unavailable: 'GitLabUnavailable',
  /** Non-retryable: GitLab said no (other 4xx, 3xx); `details[0]` is { status, message }. */
  refused: 'GitLabRefused',
  /** Non-retryable: the deployment no longer waits for approvals (approved, rejected, or done). */
  deploymentNotWaiting: 'GitLabDeploymentNotWaiting',
} as const;

/** What `details[0]` of a refusal carries: the HTTP status and GitLab's `message` or `error`. */
export interface GitLabRefusal {
  status: number;
  message: string;
}

export interface DeploymentApprovalRequest {
  projectId: GitLabProjectId;
  deploymentId: number;
  status: 'approved' | 'rejected';
  comment: string;
  /** The user, group or role to approve as, when the token's user is in several approval rules. */
  representedAs?: string;
}

/** The approval GitLab recorded (fields GitLab left out are null). */
export interface DeploymentApproval {
  status: 'approved' | 'rejected';
  approver: string | null;
  comment: string | null;
  createdAt: string | null;
}

export type CommitStatusState = 'pending' | 'running' | 'success' | 'failed' | 'canceled' | 'skipped';

export interface CommitStatusRequest {
  projectId: GitLabProjectId;
  sha: string;
  state: CommitStatusState;
  /** The status's label in GitLab (`name`), e.g. `escalator/security-scan`. */
  name: string;
  targetUrl: string;
  /** Clipped to GitLab's 255 characters. */
  description: string;
  /** The branch or tag; GitLab picks a branch containing the commit when it is left out. */
  ref?: string;
}

export interface CommitStatusSet {
  state: CommitStatusState;
  /** GitLab's id for the status; null when it was already in that state and GitLab refused the no-op. */
  id: number | null;
  /** True when GitLab answered that the status already had this state (a retried call, say). */
  alreadySet: boolean;
}

export interface BlockedDeploymentQuery {
  projectId: GitLabProjectId;
  environment: string;
  /** The deploy job (`build_id` in a Job Hook, `builds[].id` in a Pipeline Hook). */
  jobId: number;
}

/** A deployment GitLab holds in `blocked`, waiting for approvals or for its job to be run. */
export interface BlockedDeployment {
  deploymentId: number;
  environment: string;
  jobId: number;
  sha: string;
  ref: string;
}

const descriptionLimit = 255;

const approvalAnswerSchema = z.looseObject({
  status: z.enum(['approved', 'rejected']).optional(),
  comment: z.string().nullable().optional(),
  created_at: z.string().nullable().optional(),
  user: z.looseObject({ username: z.string().optional() }).nullable().optional(),
});

const commitStatusAnswerSchema = z.looseObject({ id: z.number().int().optional() });

const deploymentListSchema = z.array(
  z.looseObject({
    id: z.number().int(),
    ref: z.string(),
    sha: z.string(),
    status: z.string(),
    environment: z.looseObject({ name: z.string() }).nullable().optional(),
    deployable: z.looseObject({ id: z.number().int() }).nullable().optional(),
  }),
);

interface GitLabAnswer {
  status: number;
  body: unknown;
  /** GitLab's `message` or `error`, flattened to one line; the raw text when the body is not JSON. */
  message: string;
  retryAfter: string | null;
}

/**
 * The GitLab REST calls Escalator makes: approving or rejecting a blocked deployment, setting a
 * commit status, and finding the blocked deployment of a deploy job.
 *
 * Failures are `ApplicationFailure`s for Temporal's retry policy (see `gitLabFailureTypes`); 429
 * and 503 honour `Retry-After` through `nextRetryDelay`. Recommended activity options:
 * startToCloseTimeout '30s', retry { initialInterval '5s', backoffCoefficient 2, maximumInterval
 * '5m', nonRetryableErrorTypes ['GitLabRefused', 'GitLabDeploymentNotWaiting'] }.
 */
export function createGitLabClient(settings: GitLabClientSettings) {
  const apiUrl = settings.apiUrl.replace(/\/+$/, '');
  const timeoutMs = settings.timeoutMs ?? 10_000;
  const now = settings.now ?? Date.now;

  async function send(method: 'GET' | 'POST', path: string, body?: Record<string, unknown>): Promise<GitLabAnswer> {
    const what = `GitLab ${method} ${path}`;
    try {
      const response = await fetch(`${apiUrl}${path}`, {
        method,
        headers: { 'PRIVATE-TOKEN': settings.token, accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
        // A redirected POST would be re-sent as a GET without its body: a misconfigured apiUrl, not an answer.
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await response.text();
      const parsed = parseJson(text);
      return { status: response.status, body: parsed, message: gitLabMessage(parsed) ?? text.slice(0, 300), retryAfter: response.headers.get('retry-after') };
    } catch (error) {
      throw ApplicationFailure.create({ message: `${what} failed: ${(error as Error).message}`, type: gitLabFailureTypes.unavailable, cause: error as Error });
    }
  }

  function failureOf(what: string, answer: GitLabAnswer): ApplicationFailure {
    const message = `${what} answered ${answer.status}: ${answer.message}`;
    const { status } = answer;
    // 409 is GitLab's "Another update to this commit status is in progress": a lock held for seconds.
    if (status === 408 || status === 409 || status === 429 || status >= 500) {
      const delay = retryAfterMs(answer.retryAfter, now());
      return ApplicationFailure.create({ message, type: gitLabFailureTypes.unavailable, ...(delay === undefined ? {} : { nextRetryDelay: delay }) });
    }
    const refusal: GitLabRefusal = { status, message: answer.message };
    return ApplicationFailure.create({ message, type: gitLabFailureTypes.refused, nonRetryable: true, details: [refusal] });
  }

  return {
    /**
     * `POST /projects/:id/deployments/:deployment_id/approval` (GitLab Premium). GitLab records one
     * approval per user and deployment: repeating the same decision while the deployment still waits
     * returns the recorded approval. Once the deployment no longer waits (all approvals given, or
     * rejected), GitLab answers 400 and this throws `GitLabDeploymentNotWaiting`: on a retried
     * activity that usually means an earlier attempt went through. Approving does not always start
     * the job: with approval rules, GitLab leaves it `manual` for someone to run.
     */
    async approveDeployment(request: DeploymentApprovalRequest): Promise<DeploymentApproval> {
      const path = `/projects/${projectSegment(request.projectId)}/deployments/${request.deploymentId}/approval`;
      const answer = await send('POST', path, {
        status: request.status,
        comment: request.comment,
        ...(request.representedAs === undefined ? {} : { represented_as: request.representedAs }),
      });
      const what = `GitLab deployment ${request.deploymentId} ${request.status === 'approved' ? 'approval' : 'rejection'}`;
      if (answer.status === 400 && /not waiting for approvals/i.test(answer.message)) {
        const refusal: GitLabRefusal = { status: answer.status, message: answer.message };
        throw ApplicationFailure.create({ message: `${what}: ${answer.message}`, type: gitLabFailureTypes.deploymentNotWaiting, nonRetryable: true, details: [refusal] });
      }
      if (answer.status < 200 || answer.status >= 300) throw failureOf(what, answer);
      const recorded = approvalAnswerSchema.safeParse(answer.body);
      const approval = recorded.success ? recorded.data : {};
      return {
        status: approval.status ?? request.status,
        approver: approval.user?.username ?? null,
        comment: approval.comment ?? null,
        createdAt: approval.created_at ?? null,
      };
    },

    /**
     * `POST /projects/:id/statuses/:sha`. GitLab updates the pending or running status of the same
     * name, ref and user, and refuses a move to the state it already has (`Cannot transition status
     * via :run from :running`); that answer counts as success here (`alreadySet`), so a retried call
     * is harmless. Repeating a final state (success, failed, …) makes GitLab add a new status.
     */
    async setCommitStatus(request: CommitStatusRequest): Promise<CommitStatusSet> {
      const path = `/projects/${projectSegment(request.projectId)}/statuses/${encodeURIComponent(request.sha)}`;
      const answer = await send('POST', path, {
        state: request.state,
        name: request.name,
        target_url: request.targetUrl,
        description: clip(request.description, descriptionLimit),
        ...(request.ref === undefined ? {} : { ref: request.ref }),
      });
      if (answer.status === 400 && transitionedFrom(answer.message) === request.state) return { state: request.state, id: null, alreadySet: true };
      if (answer.status < 200 || answer.status >= 300) throw failureOf(`GitLab commit status ${request.name}=${request.state} on ${request.sha}`, answer);
      const created = commitStatusAnswerSchema.safeParse(answer.body);
      return { state: request.state, id: created.success ? (created.data.id ?? null) : null, alreadySet: false };
    },

    /**
     * The `blocked` deployment of a deploy job, or null: `GET /projects/:id/deployments?environment=…&status=blocked`,
     * newest first, matched on the job id. A webhook never carries the deployment id that
     * `approveDeployment` needs; this is how to get it from a parked job.
     */
    async findBlockedDeployment(query: BlockedDeploymentQuery): Promise<BlockedDeployment | null> {
      const search = new URLSearchParams({ environment: query.environment, status: 'blocked', order_by: 'id', sort: 'desc', per_page: '100' });
      const path = `/projects/${projectSegment(query.projectId)}/deployments?${search}`;
      const answer = await send('GET', path);
      if (answer.status < 200 || answer.status >= 300) throw failureOf(`GitLab blocked deployments of ${query.environment}`, answer);
      const listed = deploymentListSchema.safeParse(answer.body);
      if (!listed.success) throw ApplicationFailure.create({ message: `GitLab blocked deployments of ${query.environment}: unexpected answer`, type: gitLabFailureTypes.refused, nonRetryable: true });
      const deployment = listed.data.find((candidate) => candidate.deployable?.id === query.jobId);
      return deployment ? { deploymentId: deployment.id, environment: deployment.environment?.name ?? query.environment, jobId: query.jobId, sha: deployment.sha, ref: deployment.ref } : null;
    },
  };
}

export type GitLabClient = ReturnType<typeof createGitLabClient>;

/** A project path goes in the URL as one segment (`acme%2Fcheckout`); decoding first keeps an already-encoded path from being encoded twice. */
function projectSegment(projectId: GitLabProjectId): string {
  return typeof projectId === 'number' ? String(projectId) : encodeURIComponent(decodeURIComponent(projectId));
}

/** The state named by GitLab's state-machine refusal `Cannot transition status via :run from :running …`. */
function transitionedFrom(message: string): string | undefined {
  return /^Cannot transition status via :\w+ from :(\w+)/.exec(message)?.[1];
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** GitLab's error bodies: `{"message": "…"}`, `{"message": {"field": ["…"]}}` (validation) or `{"error": "…"}` (parameters). */
function gitLabMessage(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { message, error } = body as { message?: unknown; error?: unknown };
  if (typeof message === 'string') return message;
  if (typeof message === 'object' && message !== null) {
    return Object.entries(message)
      .map(([field, problems]) => `${field} ${Array.isArray(problems) ? problems.join(', ') : String(problems)}`)
      .join('; ');
  }
  return typeof error === 'string' ? error : undefined;
}

function clip(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}

/** `Retry-After` as delta-seconds or an HTTP date, in milliseconds from now. */
function retryAfterMs(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}
