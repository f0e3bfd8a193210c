import { ApplicationFailure } from '@temporalio/activity';
import type { PipelineLink, PipelineStatus, PipelineVerdict } from '../../domain/pipeline-link.js';
import type { GitHubApp } from './github-app.js';
import { type CommitStatusState, type GitLabClient, gitLabFailureTypes } from './gitlab.js';

export interface PipelineReporterDependencies {
  github?: GitHubApp;
  gitlab?: GitLabClient;
  /** Where a person follows the escalation from the pipeline: the Temporal UI or the shim. */
  escalationUrl: (escalationId: string) => string;
}

export interface StatusReport {
  escalationId: string;
  link: PipelineLink;
  status: PipelineStatus;
  /** The check run an earlier report created on GitHub. */
  checkRunId?: number;
}

export interface VerdictDelivery {
  escalationId: string;
  link: PipelineLink;
  verdict: PipelineVerdict;
}

const gitLabStates: Record<PipelineStatus['state'], CommitStatusState> = { waiting: 'running', success: 'success', failure: 'failed', cancelled: 'canceled' };

/**
 * The activities that keep a GitHub or GitLab pipeline told: a check run (GitHub) or commit status
 * (GitLab) on the commit saying what the escalation waits for, and the verdict for a deployment
 * waiting on it — GitHub's deployment protection rule review, GitLab's deployment approval.
 */
export function createPipelineReporter(deps: PipelineReporterDependencies) {
  return {
    /** Shows the status on the commit; answers the check run id on GitHub, found again by the escalation id when a retry lost the first answer. */
    async reportPipelineStatus({ escalationId, link, status, checkRunId }: StatusReport): Promise<{ checkRunId?: number }> {
      const detailsUrl = deps.escalationUrl(escalationId);
      if (link.system === 'gitlab') {
        await configured(deps.gitlab, 'GitLab').setCommitStatus({ projectId: link.projectId, sha: link.sha, state: gitLabStates[status.state], name: link.statusName, targetUrl: detailsUrl, description: status.title, ...(link.ref ? { ref: link.ref } : {}) });
        return {};
      }
      const github = configured(deps.github, 'GitHub');
      const ended = status.state !== 'waiting';
      const output = { title: status.title, summary: status.summary };
      const at = ended ? { completedAt: new Date().toISOString(), conclusion: status.state as 'success' | 'failure' | 'cancelled' } : {};
      const target = { installationId: link.installationId, repository: link.repository };
      const id = checkRunId ?? (await github.findCheckRun({ ...target, headSha: link.headSha, name: link.checkName, externalId: escalationId }))?.id;
      if (id === undefined) {
        const created = await github.createCheckRun({ ...target, name: link.checkName, headSha: link.headSha, externalId: escalationId, status: ended ? 'completed' : 'in_progress', detailsUrl, output, ...at });
        return { checkRunId: created.id };
      }
      await github.updateCheckRun({ ...target, checkRunId: id, status: ended ? 'completed' : 'in_progress', detailsUrl, output, ...at });
      return { checkRunId: id };
    },

    /** Approves or rejects the deployment waiting on the escalation. */
    async deliverPipelineVerdict({ link, verdict }: VerdictDelivery): Promise<void> {
      if (!link.deployment) return;
      if (link.system === 'github') {
        await configured(deps.github, 'GitHub').reviewDeploymentProtectionRule({ callbackUrl: link.deployment.callbackUrl, installationId: link.installationId, environmentName: link.deployment.environment, state: verdict.state, comment: verdict.comment });
        return;
      }
      const gitlab = configured(deps.gitlab, 'GitLab');
      // GitLab's webhooks never carry the deployment id an approval needs: find it by the job.
      const blocked = await gitlab.findBlockedDeployment({ projectId: link.projectId, environment: link.deployment.environment, jobId: link.deployment.jobId });
      if (!blocked) {
        throw ApplicationFailure.nonRetryable(`no deployment of job ${link.deployment.jobId} to ${link.deployment.environment} in ${link.projectPath} waits for approval (decided in GitLab already, or cancelled)`, gitLabFailureTypes.deploymentNotWaiting);
      }
      await gitlab.approveDeployment({ projectId: link.projectId, deploymentId: blocked.deploymentId, status: verdict.state, comment: verdict.comment });
    },
  };
}

function configured<T>(client: T | undefined, name: string): T {
  if (!client) throw ApplicationFailure.nonRetryable(`${name} is not configured on this worker`, 'ChannelNotConfigured');
  return client;
}
