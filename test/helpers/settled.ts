import { expect, vi } from 'vitest';
import type { EscalatorClient } from '../../client/escalator-client.js';
import type { EscalationView } from '../../domain/escalation.js';

/**
 * Waits until the escalation is settled: `ready(view)` holds, no activity or workflow task is
 * pending, and its history has not grown since the last look. A query can show what a workflow task
 * still under way did (a local activity's result) before that task's events reach history, so a test
 * that compares histories waits for this first.
 */
export async function settle(escalator: EscalatorClient, escalationId: string, ready: (view: EscalationView) => boolean): Promise<void> {
  let lastLength = -1;
  await vi.waitFor(
    async () => {
      const [view, description] = await Promise.all([escalator.status(escalationId), escalator.handle(escalationId).describe()]);
      const idle = !description.raw.pendingActivities?.length && !description.raw.pendingWorkflowTask;
      const unchanged = description.historyLength === lastLength;
      lastLength = description.historyLength;
      expect(ready(view) && idle && unchanged).toBe(true);
    },
    { timeout: 20_000, interval: 250 },
  );
}

/**
 * How many events of the escalation's history record something: all but the bookkeeping of workflow
 * tasks. A refused update leaves nothing, but the server may keep the workflow task that carried it
 * (it does for the first update after a run's only task so far) as three events with no command.
 */
export async function recordedEvents(escalator: EscalatorClient, escalationId: string): Promise<number> {
  const history = await escalator.handle(escalationId).fetchHistory();
  return (history.events ?? []).filter((e) => !(e.workflowTaskScheduledEventAttributes || e.workflowTaskStartedEventAttributes || e.workflowTaskCompletedEventAttributes)).length;
}
