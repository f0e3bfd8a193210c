import type { Policy } from '../policy.js';
import { parseYamlFile, type YamlIssue } from '../policy-parser.js';
import { gateEntryKey } from '../rule-conditions.js';
import { type Team, teamSchema } from './team.js';
import { TeamFileError } from './team-file-error.js';

/**
 * Parses and validates a team file's YAML against the policy it is simulated with. Throws
 * `TeamFileError` naming `file`, each path, its line and column, and the problem.
 *
 * The policy is the authority on people's schedules, because the engine plans with it: the team file
 * may name only the policy's people, and may give a time zone or working hours only to someone the
 * policy gives none. Days away the policy does not know of are the team file's own (`absent`).
 */
export function parseTeamFile(text: string, file: string, policy: Policy): Team {
  return parseYamlFile(teamSchema, text, file, { check: (team) => conflictsWithPolicy(team, policy), error: (at, problems) => new TeamFileError(at, problems) });
}

/** What the team file says that the policy contradicts or cannot use. */
function conflictsWithPolicy(team: Team, policy: Policy): YamlIssue[] {
  const issues: YamlIssue[] = [];
  for (const [id, person] of Object.entries(team.people)) {
    const known = Object.hasOwn(policy.people, id) ? policy.people[id]! : undefined;
    if (!known) {
      issues.push({ path: ['people', id], message: `"${id}" is not under the policy's people, so the engine never asks them (people: ${Object.keys(policy.people).join(', ')})` });
      continue;
    }
    if (person.timezone !== undefined && known.timezone !== undefined && person.timezone !== known.timezone) {
      issues.push({ path: ['people', id, 'timezone'], message: `the policy already gives ${id} the time zone ${known.timezone}; the team file only fills in what the policy leaves out` });
    }
    if (person.workingHours !== undefined && known.workingHours !== undefined && person.workingHours !== known.workingHours) {
      issues.push({ path: ['people', id, 'workingHours'], message: `the policy already gives ${id} the working hours "${known.workingHours}"; the team file only fills in what the policy leaves out` });
    }
  }
  for (const gate of Object.keys(team.failures)) {
    if (gateEntryKey(policy, gate) === undefined) {
      issues.push({ path: ['failures', gate], message: `the policy has no gates entry for "${gate}" and no "*" entry, so its failures would only ever end blocked (gates: ${Object.keys(policy.gates).join(', ')})` });
    }
  }
  return issues;
}
