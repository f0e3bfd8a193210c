import { type Client, type DayOfWeek, type ScheduleOptions } from '@temporalio/client';
import { upsertSchedule } from './upsert-schedule.js';
import type { Policy } from '../domain/policy.js';
import type { Weekday } from '../domain/schedule.js';
import { weeklyDigestWorkflowType } from '../workflows/input.js';

const days: Record<Weekday, DayOfWeek> = { Mon: 'MONDAY', Tue: 'TUESDAY', Wed: 'WEDNESDAY', Thu: 'THURSDAY', Fri: 'FRIDAY', Sat: 'SATURDAY', Sun: 'SUNDAY' };

/** The weekly digest's Schedule for a task queue: one per Escalator deployment. */
export function digestScheduleId(taskQueue: string): string {
  return `escalator-weekly-digest-${taskQueue}`;
}

/**
 * Creates the weekly digest's Schedule, or brings an existing one in line with the policy (day,
 * hour, time zone): safe to call from every worker at every start, concurrently. A policy without
 * `digest` leaves any Schedule alone (`temporal schedule delete` removes it).
 */
export async function ensureDigestSchedule(client: Client, taskQueue: string, policy: Policy): Promise<'created' | 'updated' | 'no digest'> {
  const digest = policy.digest;
  if (!digest) return 'no digest';
  const scheduleId = digestScheduleId(taskQueue);
  const options: ScheduleOptions = {
    scheduleId,
    spec: { calendars: [{ dayOfWeek: days[digest.day], hour: digest.hour, minute: 0, comment: 'Escalator weekly digest' }], timezone: digest.timezone ?? policy.timezone },
    action: { type: 'startWorkflow', workflowType: weeklyDigestWorkflowType, taskQueue, workflowId: `${scheduleId}-run` },
    // A worker down over the hour still sends that week's digest within a day; never two at once.
    policies: { overlap: 'SKIP', catchupWindow: '1 day' },
  };
  return upsertSchedule(client, options);
}
