import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * GitHub's side of a delivery to Escalator's GitHub App, as both ends need it: the HTTP shim checks
 * the signature and parses the payload, the worker answers GitHub through the URLs it carries.
 * Pure: no I/O. Field names and nullability follow GitHub's "Webhook events and payloads".
 */

/** Why a delivery's signature was refused. */
export type GitHubSignatureProblem = 'no-secret' | 'missing-signature' | 'not-sha256' | 'wrong-length' | 'not-hex' | 'bad-signature';

/** The result of {@link verifyGitHubSignature}. */
export type GitHubSignatureCheck = { valid: true } | { valid: false; reason: GitHubSignatureProblem };

const signaturePrefix = 'sha256=';

/**
 * Checks `X-Hub-Signature-256` (`sha256=` + hex HMAC-SHA256 of the raw body under the webhook
 * secret) over the exact bytes received, in constant time. Parse the body only after this passes:
 * re-serialised JSON does not hash the same. An empty secret verifies nothing, since anyone can sign
 * with it. Hex case does not matter.
 */
export function verifyGitHubSignature(secret: string, rawBody: string | Buffer, header: string | undefined): GitHubSignatureCheck {
  if (secret === '') return { valid: false, reason: 'no-secret' };
  if (!header) return { valid: false, reason: 'missing-signature' };
  if (!header.startsWith(signaturePrefix)) return { valid: false, reason: 'not-sha256' };
  const hex = header.slice(signaturePrefix.length);
  if (hex.length !== 64) return { valid: false, reason: 'wrong-length' };
  // Buffer.from(…, 'hex') stops quietly at the first non-hex character: equal lengths would not follow.
  if (!/^[0-9a-fA-F]+$/.test(hex)) return { valid: false, reason: 'not-hex' };
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  return timingSafeEqual(Buffer.from(hex, 'hex'), expected) ? { valid: true } : { valid: false, reason: 'bad-signature' };
}

/**
 * Reads a `deployment_callback_url` back as the run it reviews, or null unless it is exactly
 * `${apiUrl}/repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule` (no query, no
 * fragment, no encoded characters). Escalator posts an installation token to this URL, and the URL
 * comes from a request body, so anything else is refused (SSRF guard). `apiUrl` may end in a slash
 * and may carry a path (GitHub Enterprise Server: `https://host/api/v3`).
 */
export function parseDeploymentCallbackUrl(url: string, apiUrl: string): { owner: string; repo: string; runId: number } | null {
  const prefix = `${apiUrl.replace(/\/+$/, '')}/repos/`;
  if (!url.startsWith(prefix)) return null;
  const match = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)\/actions\/runs\/([1-9][0-9]{0,15})\/deployment_protection_rule$/.exec(url.slice(prefix.length));
  if (!match) return null;
  const [, owner = '', repo = '', run = ''] = match;
  // Dot segments would be resolved by the URL parser into some other endpoint.
  if ([owner, repo].some((segment) => segment === '.' || segment === '..')) return null;
  const runId = Number(run);
  return Number.isSafeInteger(runId) ? { owner, repo, runId } : null;
}

const id = z.number().int().positive();

/** `login`, and `type` (`User`, `Bot`) to tell a person from an app; GitHub sends a full user object. */
const user = z.looseObject({ login: z.string(), type: z.string().optional() });

/** `full_name` is `owner/name`: the path GitHub's REST API takes. */
const repository = z.looseObject({
  id: id.optional(),
  full_name: z.string().regex(/^[^/\s]+\/[^/\s]+$/, 'owner/name'),
  html_url: z.string(),
});

/** Present on every delivery to a GitHub App: the installation whose token answers it. */
const installation = z.looseObject({ id });

const pullRequest = z.looseObject({ number: z.number().int(), url: z.string().optional(), title: z.string().optional(), html_url: z.string().optional() });

/** Conclusions GitHub documents for check runs; `stale` is set by GitHub only. */
export const checkRunConclusions = ['action_required', 'cancelled', 'failure', 'neutral', 'success', 'skipped', 'stale', 'timed_out'] as const;
/** How a check run ended. */
export type CheckRunConclusion = (typeof checkRunConclusions)[number];

/**
 * `deployment_protection_rule` with action `requested`: a job waits on an environment that has
 * Escalator's app as a custom protection rule, until the app answers `deployment_callback_url`.
 * GitHub's schema marks most fields optional; the ones Escalator cannot answer without (the
 * environment, the callback URL, the deployment, the installation) are required here.
 */
export const deploymentProtectionRuleEventSchema = z.looseObject({
  action: z.literal('requested'),
  /** The environment whose rule asks; the review must name it again. */
  environment: z.string().min(1),
  /** The event that started the workflow run: `push`, `workflow_dispatch`, `pull_request`... */
  event: z.string(),
  /** Check it with {@link parseDeploymentCallbackUrl} before posting to it. */
  deployment_callback_url: z.string(),
  deployment: z.looseObject({
    id,
    url: z.string(),
    sha: z.string(),
    ref: z.string(),
    environment: z.string(),
    task: z.string().optional(),
    description: z.string().nullable().optional(),
    /** Null when the account that created the deployment is gone. */
    creator: user.nullable(),
    created_at: z.string(),
  }),
  /** Open pull requests for the deployed ref; absent on some deliveries. */
  pull_requests: z.array(pullRequest).default([]),
  repository,
  installation,
  sender: user,
});
export type DeploymentProtectionRuleEvent = z.output<typeof deploymentProtectionRuleEventSchema>;

/** `check_run`: a check on a commit was created, finished, re-requested, or had an action clicked. */
export const checkRunEventSchema = z.looseObject({
  action: z.enum(['created', 'completed', 'rerequested', 'requested_action']),
  check_run: z.looseObject({
    id,
    name: z.string(),
    head_sha: z.string(),
    /** `waiting`, `requested` and `pending` are GitHub Actions' own. */
    status: z.enum(['queued', 'in_progress', 'completed', 'waiting', 'requested', 'pending']),
    /** Null until the check run completes. */
    conclusion: z.enum(checkRunConclusions).nullable(),
    html_url: z.string().nullable(),
    details_url: z.string().nullable(),
    external_id: z.string().nullable().optional(),
    started_at: z.string().nullable().optional(),
    completed_at: z.string().nullable().optional(),
    /** The app that owns the check; Escalator ignores its own check runs by this. */
    app: z.looseObject({ id, slug: z.string().optional(), name: z.string() }).nullable(),
    check_suite: z.looseObject({ id, head_branch: z.string().nullable().optional() }).optional(),
  }),
  repository,
  /** Present on deliveries to a GitHub App; absent on a plain repository webhook. */
  installation: installation.optional(),
  sender: user,
});
export type CheckRunEvent = z.output<typeof checkRunEventSchema>;

/** `workflow_run`: a GitHub Actions run was requested, started or completed. */
export const workflowRunEventSchema = z.looseObject({
  action: z.enum(['requested', 'in_progress', 'completed']),
  workflow_run: z.looseObject({
    id,
    /** Null for some runs GitHub cannot name. */
    name: z.string().nullable(),
    head_sha: z.string(),
    /** Null when the run is not on a branch (a tag, a detached head). */
    head_branch: z.string().nullable(),
    event: z.string(),
    status: z.enum(['requested', 'in_progress', 'completed', 'queued', 'pending', 'waiting']),
    /** Null until the run completes; `startup_failure` when the workflow file could not run at all. */
    conclusion: z.enum([...checkRunConclusions, 'startup_failure'] as const).nullable(),
    html_url: z.string(),
    run_number: z.number().int().optional(),
    /** 1 on the first attempt, higher on re-runs. */
    run_attempt: z.number().int().positive(),
    /** Null when the account is gone. */
    actor: user.nullable(),
    triggering_actor: user.nullable().optional(),
    /** Null when GitHub has no commit for the run. */
    head_commit: z
      .looseObject({
        id: z.string(),
        message: z.string(),
        author: z.looseObject({ name: z.string(), email: z.string().nullable().optional() }).nullable(),
      })
      .nullable(),
    pull_requests: z.array(pullRequest).default([]),
  }),
  workflow: z.looseObject({ id, name: z.string(), path: z.string() }).optional(),
  repository,
  installation: installation.optional(),
  sender: user,
});
export type WorkflowRunEvent = z.output<typeof workflowRunEventSchema>;

/** The schema for each `X-GitHub-Event` Escalator subscribes to; other events are not for it. */
export const gitHubEventSchemas = {
  deployment_protection_rule: deploymentProtectionRuleEventSchema,
  check_run: checkRunEventSchema,
  workflow_run: workflowRunEventSchema,
} as const;
