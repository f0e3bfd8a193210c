/** Baselines for the benchmark: the least a workflow with one activity and one update costs, and a bare timer. */
import * as wf from '@temporalio/workflow';
import type * as activities from './bare-activities.js';

const { touch } = wf.proxyActivities<typeof activities>({ startToCloseTimeout: '10 seconds' });

export const finishUpdate = wf.defineUpdate<void>('finish');

/** Runs one activity, then waits for the `finish` update. */
export async function bareWorkflow(): Promise<void> {
  let finished = false;
  wf.setHandler(finishUpdate, () => {
    finished = true;
  });
  await touch();
  await wf.condition(() => finished);
}

/** Sleeps `ms`; returns when the timer was due and when it fired, both in workflow time (epoch ms). */
export async function sleepWorkflow(ms: number): Promise<{ deadline: number; firedAt: number }> {
  const deadline = Date.now() + ms;
  await wf.sleep(ms);
  return { deadline, firedAt: Date.now() };
}
