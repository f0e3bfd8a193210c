import { type Policy, policySchema } from '../policy.js';
import type { ChecklistAnswers } from './recommend.js';
import { type Team, teamSchema } from './team.js';

/** The gate every synthetic failure fails. */
export const syntheticGate = 'build';

/**
 * A policy and a team built from the checklist's answers, so `recommend` can simulate the models on
 * something shaped like the asker's team. What the answers do not say is fixed and plain: everyone
 * works Mon-Fri 09:00-17:00 UTC and answers in about half an hour (lognormal, spread 1), ignores one
 * request in twenty (and 5% more for each other person asked at the same time), and rejects one in
 * twenty.
 *
 * - Reviewers: the first six people (an approver pool, as the guide suggests; the whole team when it
 *   is smaller, and more when the approvals need them), each backed up by the next. Everyone else
 *   writes the changes. The team's lead (the first person) is the one escalation tier.
 * - The gate: parallel over the reviewers with a quorum of the approvals, an hour to decide; the
 *   comparison builds the other models from it (variants.ts), so they share reviewers and tier.
 * - On call around the clock: a weekly rotation of the reviewers, quiet hours 22:00-07:00 in which only
 *   the on-call is asked, and the on-call answers when paged. On call in business hours only: nobody
 *   is paged, people sometimes answer at night. No on-call: they rarely do.
 * - Failures come when people push, Mon-Fri 07:00-19:00, unless someone is on call around the clock:
 *   such a team runs pipelines around the clock, so its failures do too.
 * - Code ownership known: each reviewer owns one area of the code and each failure touches one area.
 */
export function syntheticSetup(answers: ChecklistAnswers): { policy: Policy; team: Team } {
  const people = Array.from({ length: Math.max(1, answers.teamSize) }, (_, i) => `p${String(i + 1).padStart(2, '0')}`);
  const reviewers = people.slice(0, Math.min(people.length, Math.max(answers.approvals + 1, Math.min(6, people.length))));
  const authors = people.length > reviewers.length ? people.slice(reviewers.length) : ['developer'];
  const approvals = Math.min(answers.approvals, reviewers.length);
  const aroundTheClock = answers.onCall === '24x7';
  const policy = policySchema.parse({
    version: 1,
    timezone: 'UTC',
    ...(answers.codeowners ? { codeowners: reviewers.map((id) => `/${id}-area/ @${id}`).join('\n') } : {}),
    people: Object.fromEntries(
      people.map((id, i) => [id, { email: `${id}@example.com`, timezone: 'UTC', workingHours: 'Mon-Fri 09:00-17:00', ...(i < reviewers.length && reviewers.length > 1 ? { backup: reviewers[(i + 1) % reviewers.length] } : {}) }]),
    ),
    ...(aroundTheClock
      ? {
          rotations: { primary: { members: reviewers, handoff: 'weekly', handoffDay: 'Mon', handoffTime: '09:00', start: '2026-03-02' } },
          quietHours: { from: '22:00', to: '07:00', notify: 'primary-oncall-only', oncall: 'primary' },
        }
      : {}),
    tiers: { lead: { reviewers: [people[0]], timeout: '1h' } },
    gates: {
      [syntheticGate]: { model: 'parallel', reviewers, quorum: { approve: approvals }, decideWithin: '1h', escalateTo: 'lead', maxDepth: 3, costPerHour: answers.costPerHour },
    },
  });
  const team = teamSchema.parse({
    version: 1,
    defaults: {
      response: { lognormal: { median: '30m', spread: 1 } },
      ignore: 0.05,
      bystander: 0.05,
      reject: 0.05,
      outOfHours: answers.onCall === 'none' ? { answer: 0.05, slowdown: 4 } : { answer: 0.1, slowdown: 3 },
      onCall: { slowdown: 1.5 },
    },
    failures: {
      [syntheticGate]: {
        rate: `${answers.failuresPerDay.toFixed(6)}/day`,
        kind: 'tests',
        authors,
        ...(aroundTheClock ? {} : { during: 'Mon-Fri 07:00-19:00' }),
        ...(answers.codeowners ? { changes: reviewers.map((id) => ({ files: [`${id}-area/change.ts`] })) } : {}),
      },
    },
  });
  return { policy, team };
}
