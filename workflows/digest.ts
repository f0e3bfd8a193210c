import * as wf from '@temporalio/workflow';
import type { DigestResult } from '../activities/weekly-digest.js';
import type { Activities } from './activity-options.js';

const { sendWeeklyDigest } = wf.proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  // An SMTP relay that is down for hours should still get the week's digest out, once.
  scheduleToCloseTimeout: '12 hours',
  retry: { initialInterval: '30 seconds', backoffCoefficient: 2, maximumInterval: '30 minutes' },
});

/**
 * One week's digest, started by the weekly Schedule (or by hand: `temporal schedule trigger`). The
 * week is the one the run starts in, so triggering it again that week sends nothing new.
 */
export async function weeklyDigest(): Promise<DigestResult> {
  return sendWeeklyDigest({ at: new Date(Date.now()).toISOString() });
}
