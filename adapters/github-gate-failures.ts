import { escalationIdFor } from '../domain/gate-failure.js';
import { type GitHubCheckGate, gateFieldsOf, type Integrations } from '../domain/integrations.js';
import { keyPart, type PipelineEventAction } from '../domain/pipeline-link.js';
import { type CheckRunEvent, type DeploymentProtectionRuleEvent, parseDeploymentCallbackUrl, type WorkflowRunEvent } from './github-webhooks.js';

/** The check run Escalator keeps on a commit; its own check runs come back as events, and are not gate failures. */
export const escalatorCheckPrefix = 'Escalator: ';

const failedConclusions = new Set(['failure', 'timed_out', 'startup_failure', 'action_required']);

/**
 * A deployment waiting on Escalator's custom protection rule: the escalation of the environment's
 * gate for this run, which answers the run's callback when it ends. `apiUrl` is the GitHub API the
 * worker's app calls: a callback elsewhere is refused, since the app's token would go there.
 */
export function deploymentAction(event: DeploymentProtectionRuleEvent, integrations: Integrations, apiUrl: string, now: Date): PipelineEventAction {
  const repository = event.repository.full_name;
  const entry = integrations.github.deployments.find((d) => sameName(d.repository, repository) && d.environment === event.environment);
  if (!entry) return { kind: 'ignore', reason: `no integrations.github.deployments entry for ${repository} environment ${event.environment}` };
  const run = parseDeploymentCallbackUrl(event.deployment_callback_url, apiUrl);
  if (!run) return { kind: 'ignore', reason: `deployment_callback_url is not a protection rule review on ${apiUrl}` };
  const { sha, ref } = event.deployment;
  const pullRequest = event.pull_requests[0];
  return {
    kind: 'raise',
    failure: {
      ...gateFieldsOf(entry, repository),
      change: {
        sha,
        // A deployment GitHub Actions created names the bot; the person behind it is the sender.
        author: event.deployment.creator && event.deployment.creator.type !== 'Bot' ? event.deployment.creator.login : event.sender.login,
        title: pullRequest?.title ?? `Deploy ${ref} to ${event.environment}`,
        url: pullRequest?.html_url ?? `${event.repository.html_url}/commit/${sha}`,
      },
      pipelineRun: { id: String(run.runId), url: `${event.repository.html_url}/actions/runs/${run.runId}` },
      occurredAt: now.toISOString(),
      idempotencyKey: `github-${repository}-run-${run.runId}-${keyPart(event.environment)}`,
    },
    pipeline: {
      system: 'github',
      installationId: event.installation.id,
      repository,
      headSha: sha,
      checkName: `${escalatorCheckPrefix}${entry.gate}`,
      deployment: { callbackUrl: event.deployment_callback_url, environment: event.environment },
    },
  };
}

/** A configured check that completed: failed raises its gate failure; green on the same commit recovers it. */
export function checkRunAction(event: CheckRunEvent, integrations: Integrations, now: Date): PipelineEventAction {
  const check = event.check_run;
  if (check.name.startsWith(escalatorCheckPrefix)) return { kind: 'ignore', reason: "Escalator's own check run" };
  if (event.action !== 'completed') return { kind: 'ignore', reason: `check_run ${event.action}, not completed` };
  return completedCheck(event.repository, integrations, check.name, check.head_sha, check.conclusion, {
    runId: String(check.id),
    runUrl: check.html_url ?? check.details_url ?? `${event.repository.html_url}/commit/${check.head_sha}`,
    author: event.sender.login,
    title: `${check.name} failed on ${check.head_sha.slice(0, 7)}`,
    installationId: event.installation?.id,
    now,
  });
}

/** A configured workflow whose run completed: failed raises, green on the same commit recovers. */
export function workflowRunAction(event: WorkflowRunEvent, integrations: Integrations, now: Date): PipelineEventAction {
  const run = event.workflow_run;
  const name = run.name ?? event.workflow?.name ?? '';
  if (event.action !== 'completed') return { kind: 'ignore', reason: `workflow_run ${event.action}, not completed` };
  return completedCheck(event.repository, integrations, name, run.head_sha, run.conclusion, {
    runId: String(run.id),
    runUrl: run.html_url,
    author: run.actor?.login ?? event.sender.login,
    title: run.head_commit?.message.split('\n')[0]?.slice(0, 500) || `${name} failed on ${run.head_sha.slice(0, 7)}`,
    installationId: event.installation?.id,
    now,
  });
}

interface CompletedRun {
  runId: string;
  runUrl: string;
  author: string;
  title: string;
  installationId: number | undefined;
  now: Date;
}

function completedCheck(repo: { full_name: string; html_url: string }, integrations: Integrations, name: string, sha: string, conclusion: string | null, run: CompletedRun): PipelineEventAction {
  const repository = repo.full_name;
  const entry: GitHubCheckGate | undefined = integrations.github.checks.find((c) => sameName(c.repository, repository) && c.check === name);
  if (!entry) return { kind: 'ignore', reason: `no integrations.github.checks entry for ${repository} check ${name}` };
  // One escalation per check and commit: a failing re-run attaches to it, a green one recovers it.
  const idempotencyKey = `github-${repository}-${sha.slice(0, 12)}-${keyPart(name)}`;
  if (conclusion === 'success') return { kind: 'recover', escalationId: escalationIdFor(idempotencyKey), pipelineRunId: run.runId };
  if (!conclusion || !failedConclusions.has(conclusion)) return { kind: 'ignore', reason: `${name} concluded ${conclusion ?? 'nothing'}` };
  return {
    kind: 'raise',
    failure: {
      ...gateFieldsOf(entry, repository),
      change: { sha, author: run.author, title: run.title, url: `${repo.html_url}/commit/${sha}` },
      pipelineRun: { id: run.runId, url: run.runUrl },
      occurredAt: run.now.toISOString(),
      idempotencyKey,
    },
    // A plain repository webhook carries no installation: the escalation runs, but cannot report on the commit.
    ...(run.installationId === undefined ? {} : { pipeline: { system: 'github', installationId: run.installationId, repository, headSha: sha, checkName: `${escalatorCheckPrefix}${entry.gate}` } }),
  };
}

/** GitHub's owner and repository names are case-insensitive. */
function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
