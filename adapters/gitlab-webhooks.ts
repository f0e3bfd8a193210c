import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * GitLab's side of a gate failure, as the HTTP shim receives it: the secret token check and the
 * payloads of the three webhook events Escalator listens to. Pure: no I/O.
 *
 * Payload shapes follow GitLab's "Webhook events" page (doc/user/project/integrations/webhook_events.md)
 * and the data builders behind it. Schemas name only the fields Escalator reads and let every other
 * field through, so a GitLab upgrade that adds fields never makes a delivery fail validation.
 */

/** The request headers GitLab sets on every webhook delivery (Node lower-cases them). */
export const gitLabHeaders = {
  /** The hook's name: `Job Hook`, `Pipeline Hook`, `Deployment Hook`, … */
  event: 'x-gitlab-event',
  /** The hook's secret token, sent verbatim (no signature over the body). */
  token: 'x-gitlab-token',
  /** One id per event; the same on GitLab's own retries of that delivery. */
  eventUuid: 'x-gitlab-event-uuid',
} as const;

/** The `X-Gitlab-Event` values of the events Escalator handles. */
export const gitLabEventNames = {
  job: 'Job Hook',
  pipeline: 'Pipeline Hook',
  deployment: 'Deployment Hook',
} as const;

/** The result of checking `X-Gitlab-Token`; `reason` says which check failed. */
export type GitLabTokenCheck = { valid: true } | { valid: false; reason: 'not-configured' | 'missing-token' | 'bad-token' };

/**
 * Checks the `X-Gitlab-Token` header against the secret token configured on the GitLab webhook.
 * GitLab sends the token itself, not an HMAC of the body, so this is a plain comparison, done in
 * constant time over SHA-256 digests of both sides: neither the content nor the length of the
 * expected token leaks through timing. An empty configured token refuses everything rather than
 * accepting deliveries that carry no token.
 */
export function verifyGitLabToken(expected: string, header: string | undefined): GitLabTokenCheck {
  if (expected === '') return { valid: false, reason: 'not-configured' };
  if (header === undefined || header === '') return { valid: false, reason: 'missing-token' };
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(expected), digest(header)) ? { valid: true } : { valid: false, reason: 'bad-token' };
}

const projectSchema = z.looseObject({
  id: z.number().int(),
  name: z.string().optional(),
  path_with_namespace: z.string(),
  web_url: z.string(),
});

/** `user.hook_attrs` in GitLab: id, name, username, avatar_url, email (`[REDACTED]` when private). */
const userSchema = z.looseObject({
  id: z.number().int().optional(),
  name: z.string().optional(),
  // Present in GitLab's builder for every event, though the Job Hook example in the docs omits it.
  username: z.string().optional(),
});

/** A job's `environment:` keyword; null for jobs without one. `deployment_tier` is newer than the rest. */
const jobEnvironmentSchema = z.looseObject({
  name: z.string(),
  action: z.string(),
  deployment_tier: z.string().nullable().optional(),
});

/**
 * `X-Gitlab-Event: Job Hook` — sent when a job is created, queued (`pending`), starts (`running`) and
 * finishes (`success`, `failed`, `canceled`). GitLab's source sends none when a job becomes `manual`.
 */
export const gitLabJobEventSchema = z.looseObject({
  object_kind: z.literal('build'),
  ref: z.string(),
  tag: z.boolean().optional(),
  sha: z.string(),
  before_sha: z.string().optional(),
  build_id: z.number().int(),
  build_name: z.string(),
  build_stage: z.string(),
  /** created, pending, running, success, failed, canceled, … (kept open: GitLab adds statuses). */
  build_status: z.string(),
  build_created_at: z.string().nullable().optional(),
  build_started_at: z.string().nullable().optional(),
  build_finished_at: z.string().nullable().optional(),
  build_allow_failure: z.boolean().optional(),
  /** `script_failure`, `deployment_rejected`, …; read it only when `build_status` is `failed` (GitLab has sent `unknown_failure` for successful jobs). */
  build_failure_reason: z.string().nullable().optional(),
  /** 0 for a first run, 1 for the first retry (GitLab 15.6+, behind a flag until 16.2). */
  retries_count: z.number().int().optional(),
  pipeline_id: z.number().int(),
  project_id: z.number().int(),
  project_name: z.string().optional(),
  /** Not sent by older GitLab versions, which have only `project_id` and `project_name`. */
  project: projectSchema.optional(),
  /** Null when the job has no user (some system-triggered jobs). */
  user: userSchema.nullable().optional(),
  commit: z.looseObject({
    /** The pipeline's id, not the commit's: GitLab kept the old name. */
    id: z.number().int(),
    sha: z.string(),
    message: z.string().nullable().optional(),
    author_name: z.string().nullable().optional(),
    author_email: z.string().nullable().optional(),
    status: z.string().optional(),
  }),
  environment: jobEnvironmentSchema.nullable().optional(),
});

const pipelineJobSchema = z.looseObject({
  id: z.number().int(),
  name: z.string(),
  stage: z.string(),
  status: z.string(),
  when: z.string().optional(),
  manual: z.boolean().optional(),
  allow_failure: z.boolean().optional(),
  failure_reason: z.string().nullable().optional(),
  environment: jobEnvironmentSchema.nullable().optional(),
});

/** `X-Gitlab-Event: Pipeline Hook` — sent on every change of the pipeline's status, with all its jobs. */
export const gitLabPipelineEventSchema = z.looseObject({
  object_kind: z.literal('pipeline'),
  object_attributes: z.looseObject({
    id: z.number().int(),
    iid: z.number().int().optional(),
    name: z.string().nullable().optional(),
    ref: z.string(),
    tag: z.boolean().optional(),
    sha: z.string(),
    source: z.string().optional(),
    /** created, running, success, failed, canceled, skipped, manual (blocked on a manual job), … */
    status: z.string(),
    /** The pipeline's page; missing in older GitLab versions. */
    url: z.string().optional(),
  }),
  user: userSchema.nullable().optional(),
  project: projectSchema,
  commit: z
    .looseObject({
      id: z.string(),
      message: z.string().optional(),
      url: z.string().optional(),
      author: z.looseObject({ name: z.string().optional(), email: z.string().optional() }).optional(),
    })
    .nullable()
    .optional(),
  builds: z.array(pipelineJobSchema),
});

/**
 * `X-Gitlab-Event: Deployment Hook` — sent when a deployment starts (`running`), succeeds, fails or is
 * canceled; never for `blocked` (waiting for approval) or `created`.
 */
export const gitLabDeploymentEventSchema = z.looseObject({
  object_kind: z.literal('deployment'),
  status: z.string(),
  status_changed_at: z.string().optional(),
  deployment_id: z.number().int(),
  /** The job that ran the deployment; null for deployments created through the API. */
  deployable_id: z.number().int().nullable(),
  deployable_url: z.string().nullable(),
  environment: z.string(),
  environment_tier: z.string().nullable().optional(),
  environment_slug: z.string().optional(),
  environment_external_url: z.string().nullable().optional(),
  project: projectSchema,
  short_sha: z.string(),
  user: userSchema.nullable().optional(),
  user_url: z.string().optional(),
  commit_url: z.string(),
  commit_title: z.string().optional(),
});

/** Any of the three events, told apart by `object_kind` (which agrees with `X-Gitlab-Event`). */
export const gitLabEventSchema = z.discriminatedUnion('object_kind', [gitLabJobEventSchema, gitLabPipelineEventSchema, gitLabDeploymentEventSchema]);

export type GitLabJobEvent = z.output<typeof gitLabJobEventSchema>;
export type GitLabPipelineEvent = z.output<typeof gitLabPipelineEventSchema>;
export type GitLabDeploymentEvent = z.output<typeof gitLabDeploymentEventSchema>;
export type GitLabEvent = z.output<typeof gitLabEventSchema>;

/** The `object_kind` each `X-Gitlab-Event` value carries, for cross-checking header and body. */
export const objectKindOfEvent: Record<(typeof gitLabEventNames)[keyof typeof gitLabEventNames], GitLabEvent['object_kind']> = {
  'Job Hook': 'build',
  'Pipeline Hook': 'pipeline',
  'Deployment Hook': 'deployment',
};

/**
 * A deploy job parked in `manual`: the state GitLab puts a job in when its protected environment
 * requires approvals (it may also be a plain `when: manual` deploy job; the webhook cannot tell).
 */
export interface ParkedDeployJob {
  projectId: number;
  /** `group/project`; null when the event did not carry it (old Job Hooks). */
  projectPath: string | null;
  pipelineId: number;
  jobId: number;
  jobName: string;
  environment: string;
  sha: string;
  ref: string;
}

/**
 * The deploy jobs an event shows waiting for someone to act, which is how a deployment waiting on
 * approval becomes visible to a webhook receiver.
 *
 * What GitLab sends (from its docs and source): a job deploying to a protected environment that needs
 * approvals is moved to `manual` and its deployment to `blocked`. No Deployment Hook is sent for
 * `blocked` (those fire on running/success/failed/canceled only), and no Job Hook is sent for the move
 * to `manual`. The Pipeline Hook is: the pipeline's status changes (to `manual` once the parked job is
 * all that is left) and its `builds[]` list the job with status `manual` and its environment.
 *
 * So: a Pipeline Hook yields every `manual` job that starts an environment; a Job Hook yields its job
 * if it is such a job (kept for GitLab versions that do send it); a Deployment Hook yields nothing.
 * These are candidates: ask the Deployments API for the environment's `blocked` deployments to learn
 * whether one waits for approval and to get the `deployment_id` that approving needs.
 */
export function parkedDeployJobs(event: GitLabEvent): ParkedDeployJob[] {
  const startsEnvironment = (environment: { action: string } | null | undefined): environment is { name: string; action: string } =>
    environment != null && environment.action === 'start';
  switch (event.object_kind) {
    case 'pipeline': {
      const pipeline = event.object_attributes;
      return event.builds.flatMap((job) =>
        job.status === 'manual' && startsEnvironment(job.environment)
          ? [{ projectId: event.project.id, projectPath: event.project.path_with_namespace, pipelineId: pipeline.id, jobId: job.id, jobName: job.name, environment: job.environment.name, sha: pipeline.sha, ref: pipeline.ref }]
          : [],
      );
    }
    case 'build':
      if (event.build_status !== 'manual' || !startsEnvironment(event.environment)) return [];
      return [
        {
          projectId: event.project_id,
          projectPath: event.project?.path_with_namespace ?? null,
          pipelineId: event.pipeline_id,
          jobId: event.build_id,
          jobName: event.build_name,
          environment: event.environment.name,
          sha: event.sha,
          ref: event.ref,
        },
      ];
    case 'deployment':
      // GitLab sends no Deployment Hook while a deployment is blocked; see above.
      return [];
  }
}
