import { DateTime } from 'luxon';
import type { DigestSettings, Policy } from '../policy.js';
import { teamOf } from './compute.js';
import type { EscalationFacts } from './facts.js';
import type { GateReport, MetricsReport } from './report.js';

/** One team lead's weekly digest: their team's gates, what needs attention, and the slowest waits. */
export interface TeamDigest {
  week: string;
  team: string;
  lead: string;
  email: string;
  rows: GateReport[];
  alerts: string[];
}

/**
 * The week a digest is for, in the digest's time zone (ISO week, `2026-W49`): a run triggered again
 * in the same week finds the same label, which is what keeps it from sending twice.
 */
export function digestWeek(at: Date, timezone: string): string {
  const local = DateTime.fromJSDate(at, { zone: timezone });
  return `${local.weekYear}-W${String(local.weekNumber).padStart(2, '0')}`;
}

/**
 * Each lead's digest from a report grouped by gate. A gate belongs to the team whose people it
 * asked first most often this week; a lead with no gates gets a digest saying so (so a quiet week
 * is visibly quiet, not silently missing).
 */
export function teamDigests(report: MetricsReport, facts: readonly EscalationFacts[], policy: Policy, settings: DigestSettings, week: string): TeamDigest[] {
  const votes = new Map<string, Map<string, number>>();
  for (const f of facts) {
    const byTeam = votes.get(f.gate) ?? new Map<string, number>();
    const team = teamOf(f, policy);
    byTeam.set(team, (byTeam.get(team) ?? 0) + 1);
    votes.set(f.gate, byTeam);
  }
  const teamOfGate = (gate: string) => [...(votes.get(gate) ?? new Map<string, number>())].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
  return Object.entries(settings.leads).map(([team, lead]) => {
    const rows = report.rows.filter((row) => teamOfGate(row.key) === team);
    return { week, team, lead, email: policy.people[lead]!.email, rows, alerts: rows.flatMap((row) => alertsOf(row, settings)) };
  });
}

/** Fewer decisions than this in a week say nothing about who carries a gate. */
export const minimumDecisionsForConcentration = 5;

function alertsOf(row: GateReport, settings: DigestSettings): string[] {
  const { current } = row;
  const name = row.mode === 'live' ? row.key : `${row.key} (${row.mode})`;
  const alerts: string[] = [];
  if (current.overrideAlert) alerts.push(`${name}: ${percent(current.overrideShare!)} of escalations ended overridden (above 20 %): the gate's thresholds are likely too strict`);
  if (current.timeoutShare !== null && current.timeoutShare > settings.alerts.timeoutShare) alerts.push(`${name}: ${percent(current.timeoutShare)} of escalations timed out at least once (above ${percent(settings.alerts.timeoutShare)})`);
  const top = [...current.load].sort((a, b) => b.decided - a.decided)[0];
  const decisions = current.load.reduce((sum, person) => sum + person.decided, 0);
  // One person deciding the only two decisions of a quiet week is no pattern yet.
  if (current.topResponderShare !== null && current.topResponderShare > settings.alerts.topResponderShare && top && decisions >= minimumDecisionsForConcentration) {
    alerts.push(`${name}: ${top.person} took ${percent(current.topResponderShare)} of the decisions (above ${percent(settings.alerts.topResponderShare)})`);
  }
  return alerts;
}

/** The digest as plain text: the figures, each beside last week's, the alerts and the slowest waits. */
export function digestText(digest: TeamDigest, escalationUrl: (id: string) => string): string {
  const lines = [`Escalator weekly digest for ${digest.team}, ${digest.week}`, ''];
  if (!digest.rows.length) lines.push('No escalations of your gates this week.');
  for (const { key, mode, current, previous } of digest.rows) {
    lines.push(
      `${key}${mode === 'live' ? '' : ` (${mode})`}: ${current.raised} raised (last week ${previous.raised}), ${current.ended} ended, ${current.open} open`,
      `  time to resolution p50 ${duration(current.timeToResolution.p50)} (last week ${duration(previous.timeToResolution.p50)}), p90 ${duration(current.timeToResolution.p90)}`,
      `  timeouts ${share(current.timeoutShare)}, overrides ${share(current.overrideShare)}, false positives ${share(current.falsePositiveShare)}${current.costOfDelay === null ? '' : `, cost of delay ${current.costOfDelay.toFixed(2)}`}`,
    );
  }
  lines.push('', digest.alerts.length ? 'Needs attention:' : 'Nothing needs attention.', ...digest.alerts.map((alert) => `- ${alert}`));
  const slowest = digest.rows.flatMap((row) => row.slowest).sort((a, b) => b.waitedMs - a.waitedMs).slice(0, 5);
  if (slowest.length) lines.push('', 'Slowest escalations:', ...slowest.map((s) => `- ${s.escalationId}: ${duration(s.waitedMs)} ${s.outcome ?? 'still open'} ${escalationUrl(s.escalationId)}`));
  return `${lines.join('\n')}\n`;
}

function percent(value: number): string {
  return `${Math.round(value * 1000) / 10} %`;
}

function share(value: number | null): string {
  return value === null ? '-' : percent(value);
}

function duration(ms: number | null): string {
  if (ms === null) return '-';
  const minutes = Math.round(ms / 60_000);
  return minutes < 60 ? `${minutes}m` : `${Math.floor(minutes / 60)}h${minutes % 60 ? `${minutes % 60}m` : ''}`;
}
