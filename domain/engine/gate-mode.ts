import type { EscalationPlan } from '../escalation-plan.js';
import type { GateMode } from '../metrics/report.js';
import type { Notification } from './events.js';

/** What every message of a piloted gate says first, by email and in Slack. */
export const pilotBanner = 'Pilot: this gate is being piloted; only the pilot group is notified.';

/** The gate's mode as the snapshot took it; snapshots from before modes existed ran live. */
export function modeOf(plan: EscalationPlan | null): GateMode {
  return plan?.mode ?? 'live';
}

/**
 * Which messages go out under the gate's mode: every one when live, none in shadow, and in pilot
 * those to the pilot group, marked for the pilot banner. The others are withheld; the timeline
 * records them as `would-notify`, so the run still shows who would have been asked.
 */
export function screenNotifications(plan: EscalationPlan | null, notifications: Notification[]): { sent: Notification[]; withheld: Notification[] } {
  const mode = modeOf(plan);
  if (mode === 'live') return { sent: notifications, withheld: [] };
  if (mode === 'shadow') return { sent: [], withheld: notifications };
  const group = plan?.pilotGroup ?? [];
  return {
    sent: notifications.filter((n) => group.includes(n.reviewer.id)).map((n) => ({ ...n, pilot: true })),
    withheld: notifications.filter((n) => !group.includes(n.reviewer.id)),
  };
}
