import { z } from 'zod';
import { gateKinds, severities } from './gate-failure.js';

/**
 * Which CI/CD events are gate failures, and which gate each one is: the policy's `integrations`.
 * A GitHub or GitLab delivery that no entry names is answered and ignored.
 */
const gateOfEvent = {
  /** The policy gate the failure escalates under (its own entry, or `"*"`). */
  gate: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:/@-]*$/, 'a gate name: letters, digits and . _ : / @ - only').max(200),
  kind: z.enum(gateKinds).default('custom'),
  /** The service the failure is raised for; by default the repository's (project's) name. */
  service: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:/@-]*$/, 'letters, digits and . _ : / @ - only')
    .max(200)
    .optional(),
  severity: z.enum(severities).default('high'),
};

const repository = z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'owner/name, as GitHub spells it');
const project = z.string().regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)+$/, 'group/project, the path GitLab shows (path_with_namespace)');

const gitHubSchema = z
  .object({
    /** Environments with Escalator's app as a custom deployment protection rule. */
    deployments: z.array(z.object({ repository, environment: z.string().min(1), ...gateOfEvent }).strict()).default([]),
    /** Check runs or workflow runs (by name) whose failure is a gate failure; a green re-run on the same commit recovers it. */
    checks: z.array(z.object({ repository, check: z.string().min(1), ...gateOfEvent }).strict()).default([]),
  })
  .strict();

const gitLabSchema = z
  .object({
    /** Protected environments whose deployments wait for approval: Escalator's decision approves or rejects them. */
    deployments: z.array(z.object({ project, environment: z.string().min(1), ...gateOfEvent }).strict()).default([]),
    /** Jobs (by name) whose failure is a gate failure; a green re-run on the same commit recovers it. */
    jobs: z.array(z.object({ project, job: z.string().min(1), ...gateOfEvent }).strict()).default([]),
  })
  .strict();

export const integrationsSchema = z
  .object({
    github: gitHubSchema.prefault({}),
    gitlab: gitLabSchema.prefault({}),
  })
  .strict();

export type Integrations = z.output<typeof integrationsSchema>;
export type GitHubDeploymentGate = Integrations['github']['deployments'][number];
export type GitHubCheckGate = Integrations['github']['checks'][number];
export type GitLabDeploymentGate = Integrations['gitlab']['deployments'][number];
export type GitLabJobGate = Integrations['gitlab']['jobs'][number];

/** Every gate an integration names must have a policy entry, or the policy a `"*"` entry. */
export function checkIntegrationGates(policy: { gates: Record<string, unknown>; integrations: Integrations }, ctx: z.RefinementCtx): void {
  if ('*' in policy.gates) return;
  const lists = [
    ['github', 'deployments', policy.integrations.github.deployments],
    ['github', 'checks', policy.integrations.github.checks],
    ['gitlab', 'deployments', policy.integrations.gitlab.deployments],
    ['gitlab', 'jobs', policy.integrations.gitlab.jobs],
  ] as const;
  for (const [system, list, entries] of lists) {
    entries.forEach((entry, index) => {
      if (!(entry.gate in policy.gates)) ctx.addIssue({ code: 'custom', path: ['integrations', system, list, index, 'gate'], message: `no gate "${entry.gate}" in gates, and no "*" entry` });
    });
  }
}

/** The gate, service and severity of a failure an integration entry names; the service defaults to the repository's (project's) name. */
export function gateFieldsOf(entry: { gate: string; kind: Integrations['github']['checks'][number]['kind']; service?: string | undefined; severity: Integrations['github']['checks'][number]['severity'] }, repository: string) {
  return { gate: { name: entry.gate, kind: entry.kind }, service: entry.service ?? repository.split('/').at(-1)!, repository, severity: entry.severity };
}
