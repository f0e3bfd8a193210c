import { escalationIdFor } from '../domain/gate-failure.js';
import { gateFieldsOf, type Integrations } from '../domain/integrations.js';
import { keyPart, type PipelineEventAction } from '../domain/pipeline-link.js';
import { type GitLabEvent, type GitLabJobEvent, parkedDeployJobs } from './gitlab-webhooks.js';

/** The commit status Escalator keeps on a commit. */
export const escalatorStatusPrefix = 'escalator: ';

/**
 * What a GitLab delivery means: a configured job that failed raises its gate failure and a green
 * re-run on the same commit recovers it (Job Hook); a configured deploy job parked on a protected
 * environment raises the environment's gate, whose verdict approves or rejects the deployment
 * (Pipeline Hook, the only event that shows it). One delivery may mean several things.
 */
export function gitLabActions(event: GitLabEvent, integrations: Integrations, now: Date): PipelineEventAction[] {
  const parked = parkedDeployJobs(event).flatMap((job): PipelineEventAction[] => {
    const projectPath = job.projectPath ?? projectPathOf(event);
    const entry = integrations.gitlab.deployments.find((d) => projectPath !== null && d.project === projectPath && d.environment === job.environment);
    if (!entry || projectPath === null) return [];
    const web = webUrlOf(event);
    return [
      {
        kind: 'raise',
        failure: {
          ...gateFieldsOf(entry, projectPath),
          change: { sha: job.sha, author: userOf(event), title: commitTitleOf(event) ?? `Deploy ${job.ref} to ${job.environment}`, url: `${web}/-/commit/${job.sha}` },
          pipelineRun: { id: String(job.pipelineId), url: `${web}/-/pipelines/${job.pipelineId}` },
          occurredAt: now.toISOString(),
          idempotencyKey: `gitlab-${projectPath}-job-${job.jobId}-${keyPart(job.environment)}`,
        },
        pipeline: { system: 'gitlab', projectId: job.projectId, projectPath, sha: job.sha, ref: job.ref, statusName: `${escalatorStatusPrefix}${entry.gate}`, deployment: { environment: job.environment, jobId: job.jobId } },
      },
    ];
  });
  const actions = event.object_kind === 'build' ? [...parked, jobAction(event, integrations, now)] : parked;
  return actions.length ? actions : [{ kind: 'ignore', reason: `no integrations.gitlab entry for this ${event.object_kind} event` }];
}

function jobAction(event: GitLabJobEvent, integrations: Integrations, now: Date): PipelineEventAction {
  const projectPath = event.project?.path_with_namespace ?? null;
  const entry = integrations.gitlab.jobs.find((j) => j.project === projectPath && j.job === event.build_name);
  if (!entry || projectPath === null) return { kind: 'ignore', reason: `no integrations.gitlab.jobs entry for ${projectPath ?? `project ${event.project_id}`} job ${event.build_name}` };
  const idempotencyKey = `gitlab-${projectPath}-${event.sha.slice(0, 12)}-${keyPart(event.build_name)}`;
  if (event.build_status === 'success') return { kind: 'recover', escalationId: escalationIdFor(idempotencyKey), pipelineRunId: String(event.build_id) };
  if (event.build_status !== 'failed' || event.build_allow_failure) return { kind: 'ignore', reason: `job ${event.build_name} is ${event.build_status}${event.build_allow_failure ? ' (allowed to fail)' : ''}` };
  const web = event.project?.web_url ?? '';
  return {
    kind: 'raise',
    failure: {
      ...gateFieldsOf(entry, projectPath),
      change: { sha: event.sha, author: event.user?.username ?? event.commit.author_name ?? 'unknown', title: event.commit.message?.split('\n')[0]?.slice(0, 500) || `${event.build_name} failed on ${event.sha.slice(0, 8)}`, url: `${web}/-/commit/${event.sha}` },
      pipelineRun: { id: String(event.build_id), url: `${web}/-/jobs/${event.build_id}` },
      occurredAt: now.toISOString(),
      idempotencyKey,
    },
    pipeline: { system: 'gitlab', projectId: event.project_id, projectPath, sha: event.sha, ref: event.ref, statusName: `${escalatorStatusPrefix}${entry.gate}` },
  };
}

function projectPathOf(event: GitLabEvent): string | null {
  return event.object_kind === 'build' ? (event.project?.path_with_namespace ?? null) : event.project.path_with_namespace;
}

function webUrlOf(event: GitLabEvent): string {
  return event.object_kind === 'build' ? (event.project?.web_url ?? '') : event.project.web_url;
}

function userOf(event: GitLabEvent): string {
  return event.user?.username ?? 'unknown';
}

function commitTitleOf(event: GitLabEvent): string | undefined {
  if (event.object_kind === 'pipeline') return event.commit?.message?.split('\n')[0]?.slice(0, 500) || undefined;
  if (event.object_kind === 'build') return event.commit.message?.split('\n')[0]?.slice(0, 500) || undefined;
  return undefined;
}
