import { Context } from '@temporalio/activity';

/**
 * Heartbeats while `work` runs, so a worker that dies mid-call (SIGKILL, OOM, a lost host) is noticed
 * within the activity's heartbeat timeout instead of its much longer start-to-close timeout, and the
 * next attempt starts on another worker. Outside an activity (a unit test), or in a local one, it
 * just awaits `work`.
 */
export async function heartbeating<T>(work: Promise<T>, everyMs = 1_000): Promise<T> {
  let context: Context;
  try {
    context = Context.current();
  } catch {
    return work;
  }
  // A local activity lives inside the workflow task; there is nothing to heartbeat to.
  if (context.info.isLocal) return work;
  const timer = setInterval(() => context.heartbeat(), everyMs);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}
