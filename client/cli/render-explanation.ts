import type { ChainStep } from '../../domain/escalation-plan.js';
import { durationText } from './duration-text.js';
import { detailsTable, table } from './output.js';
import type { DryRunEvent, PlanExplanation } from './plan-explanation.js';

/** Why the explanation is for its moment: `--at` chose it, or it is now; `occurredAt` is the failure's. */
export interface ExplainedMoment {
  chosenBy: 'now' | '--at';
  occurredAt: string;
}

/** The readable form of `policy explain`: why this plan, who first, and every timeout in order. */
export function renderExplanation(explanation: PlanExplanation, moment: ExplainedMoment): string {
  const { failure } = explanation;
  const flags = [failure.hotfix ? 'hotfix' : '', failure.rollback ? 'rollback' : ''].filter(Boolean).join(', ');
  const parts = [
    `Dry run for ${failure.gate} (${failure.kind}) on ${failure.service}, severity ${failure.severity}${flags ? `, ${flags}` : ''}, explained at ${explanation.at} (${whyThisMoment(explanation.at, moment)}). Nothing was started or recorded.`,
  ];
  if (explanation.noPolicy) {
    parts.push(`No policy: ${explanation.noPolicy}`);
    return parts.join('\n');
  }
  const entry = explanation.gateEntry!;
  parts.push(
    detailsTable([
      ['gate entry', entry.matchedBy === 'own entry' ? `${entry.key} (its own entry)` : `"*" (no entry for ${failure.gate})`],
      ['rule', explanation.rule ?? 'none matched: the gate entry applies as written'],
      ['model', `${explanation.model}, chosen by ${explanation.selectedBy}`],
      ['first asked', firstAsked(explanation)],
      ['quiet hours', quietHours(explanation)],
      ['max depth', explanation.maxDepth === null ? undefined : `${explanation.maxDepth} hand-offs, then the exhausted action`],
      ['exhausted', exhaustedAction(explanation)],
      ['channels', explanation.channels ? `${explanation.channels.use.join(', ')} for ${failure.severity}${explanation.channels.pageTiers.length ? `; PagerDuty pages tiers ${explanation.channels.pageTiers.join(', ')}` : ''}` : undefined],
      ['comments', explanation.requireComment === null ? undefined : `required: ${explanation.requireComment}`],
      ['break-glass', explanation.breakGlass?.holders.length ? `${explanation.breakGlass.holders.join(', ')}; reviewed by ${explanation.breakGlass.notify.join(', ') || 'nobody'}` : 'nobody holds the role'],
      ['notes', explanation.notes.length ? explanation.notes.join('; ') : undefined],
    ]),
  );
  if (explanation.rules.length) {
    const rest = explanation.rulesNotEvaluated ? ` (${explanation.rulesNotEvaluated} later rule(s) not evaluated)` : '';
    parts.push(`Rules, first match wins${rest}`, table(['#', 'rule', 'result', 'why'], explanation.rules.map((r) => [r.index + 1, r.name, r.matched ? 'MATCHES' : 'no', r.why])));
  }
  if (explanation.sequential) {
    parts.push(`Sequential chain${explanation.sequential.randomizeOrder ? ' (steps shuffled per escalation: randomizeOrder)' : ''}; each approval moves to the next step, the last passes the gate, a rejection blocks it`, stepsTable(explanation.sequential.steps));
  }
  if (explanation.parallel) {
    const p = explanation.parallel;
    const override = p.quorum.override === null ? 'no override quorum' : `${p.quorum.override} override vote(s) override`;
    const acknowledge = p.acknowledgeWithinMs === null ? 'no acknowledgement window' : `acknowledge within ${durationText(p.acknowledgeWithinMs)}, else reminded (up to ${p.renotify} round(s)${p.renotifyAt.length ? `: ${p.renotifyAt.join(', ')}` : ''})`;
    parts.push(
      detailsTable([
        ['group', `${p.group.join(', ')}${p.leftOut.length ? ` (left out as the author: ${p.leftOut.join(', ')})` : ''}`],
        ['primary', `${p.primary} (rotates across escalations of the gate; shown for the first)`],
        ['quorum', `${p.quorum.approve} of ${p.group.length} approve to pass, ${p.quorum.reject} rejection(s) block, ${override}`],
        ['re-notify', acknowledge],
        ['decide within', `${durationText(p.decideWithinMs)}, then the next tier joins`],
      ]),
    );
  }
  if (explanation.dynamic) {
    const d = explanation.dynamic;
    parts.push(
      `Dynamic routing on ${d.routeBy.join(', ')}; picks ${d.pick}; scores assume no response history and no open escalations (the outcome store supplies both at run time)`,
      `Routing model ${d.model.version} (${d.model.fittedAt ? `fitted ${d.model.fittedAt} on ${d.model.trainedOn} routed escalation(s)` : 'hand-set weights, before any retraining kept a fitted model'}): ${d.routeBy.map((factor) => `${factor} ${d.model.weights[factor]}`).join(', ')}`,
      table(
        ['rank', 'candidate', 'score', 'chosen', 'factors'],
        d.scores.map((s, i) => [i + 1, s.person, s.score, d.chosen.includes(s.person) ? 'yes' : '', Object.entries(s.factors).map(([name, f]) => `${name} ${round(f.value * f.weight)}: ${f.why}`).join('\n')]),
      ),
      detailsTable([
        ['decide within', `${durationText(d.decideWithinMs)}, then the sequential fallback`],
        ['fallback', `${d.fallback.source}: ${d.fallback.steps.map(stepText).join('; ')}`],
        ['cold start', `when ${d.coldStart.when}: runs ${d.coldStart.model}${d.coldStart.model === 'parallel' ? ` (all candidates at once, 1 approval passes, decide within ${durationText(d.decideWithinMs)})` : ' (the fallback chain in routing order)'}`],
      ]),
    );
  }
  if (explanation.tiers.length) {
    parts.push('Tiers, in escalation order', table(['tier', 'reviewers', 'timeout', 'lead'], explanation.tiers.map((t) => [t.name, t.reviewers.join(', '), durationText(t.timeoutMs), t.lead ?? ''])));
  }
  parts.push(explanation.dynamic ? 'If nobody answers (routed: enough history)' : 'If nobody answers', timelineTable(explanation.timeline));
  if (explanation.dynamic) parts.push(`If nobody answers (cold start)`, timelineTable(explanation.dynamic.coldStart.timeline));
  return parts.join('\n');
}

function whyThisMoment(at: string, moment: ExplainedMoment): string {
  if (moment.chosenBy === '--at') return '--at';
  // A failure from a file may have failed hours ago, when quiet hours and rotations differed.
  const occurredAt = new Date(moment.occurredAt).toISOString();
  return occurredAt === at ? 'now; pass --at to choose' : `now, not the failure's occurredAt ${occurredAt}; pass --at to choose`;
}

function firstAsked(explanation: PlanExplanation): string | undefined {
  const first = explanation.first;
  if (!first) return undefined;
  const emailed = first.held.length ? `only ${first.emailed.join(', ')} emailed (quiet hours); ${first.held.join(', ')} not` : `emailed ${first.emailed.join(', ')}`;
  return `${first.reviewers.join(', ')} at ${first.at}, ${emailed}; deadline ${first.deadline ?? 'none'}`;
}

function quietHours(explanation: PlanExplanation): string {
  const quiet = explanation.quietHours;
  if (!quiet) return 'none: everyone is emailed at any hour';
  return `${quiet.window} ${quiet.timezone}: only the on-call ${quiet.onCall} is emailed then; ${quiet.activeAtStart ? 'ACTIVE at the start' : 'not active at the start'}`;
}

function exhaustedAction(explanation: PlanExplanation): string | undefined {
  const action = explanation.onExhausted;
  if (!action) return undefined;
  return action.action === 'rollback' ? `rollback: POST ${action.endpoint}, flagged for postmortem` : 'block: the gate stays blocked, flagged for postmortem';
}

function stepsTable(steps: ChainStep[]): string {
  return table(['step', 'reviewers', 'backup', 'timeout'], steps.map((step, i) => [i + 1, step.reviewers.join(', '), step.backup.join(', ') || '(none)', durationText(step.timeoutMs)]));
}

function stepText(step: ChainStep): string {
  return `${step.reviewers.join(', ')} for ${durationText(step.timeoutMs)}${step.backup.length ? `, backup ${step.backup.join(', ')}` : ''}`;
}

function timelineTable(events: DryRunEvent[]): string {
  return table(['at', 'after', 'event', 'depth', 'what happens'], events.map((e) => [e.at, e.afterMs === 0 ? 'start' : `+${durationText(e.afterMs)}`, e.event, e.depth, e.description]));
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
