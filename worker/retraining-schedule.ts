import { type Client, type ScheduleOptions } from '@temporalio/client';
import { upsertSchedule } from './upsert-schedule.js';
import type { Policy } from '../domain/policy.js';
import { routingRetrainingWorkflowType } from '../workflows/input.js';

/** The routing retraining's Schedule for a task queue: one per Escalator deployment. */
export function retrainingScheduleId(taskQueue: string): string {
  return `escalator-routing-retraining-${taskQueue}`;
}

/** Whether any gate or rule of the policy routes dynamically: only then is there anything to retrain. */
export function routesDynamically(policy: Policy): boolean {
  return Object.values(policy.gates).some((gate) => gate.model === 'dynamic') || policy.rules.some((rule) => rule.use.model === 'dynamic');
}

/**
 * Creates the retraining Schedule (every `everyDays` days), or brings an existing one in line: safe
 * to call from every worker at every start, concurrently. A policy without dynamic routing leaves any
 * Schedule alone (`temporal schedule delete` removes it).
 */
export async function ensureRetrainingSchedule(client: Client, taskQueue: string, policy: Policy, everyDays: number): Promise<'created' | 'updated' | 'no dynamic routing'> {
  if (!routesDynamically(policy)) return 'no dynamic routing';
  const scheduleId = retrainingScheduleId(taskQueue);
  const options: ScheduleOptions = {
    scheduleId,
    spec: { intervals: [{ every: `${everyDays} days` }] },
    action: { type: 'startWorkflow', workflowType: routingRetrainingWorkflowType, taskQueue, workflowId: `${scheduleId}-run` },
    // A worker down when it falls due still retrains within a day; never two at once.
    policies: { overlap: 'SKIP', catchupWindow: '1 day' },
  };
  return upsertSchedule(client, options);
}
