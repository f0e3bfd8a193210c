import * as wf from '@temporalio/workflow';
import type { RetrainingReport } from '../domain/routing-model/retrain.js';
import type { Activities } from './activity-options.js';

const { retrainRouting } = wf.proxyActivities<Activities>({
  // A fit over half a year of routed escalations takes seconds; the store may be away for a while.
  startToCloseTimeout: '10 minutes',
  scheduleToCloseTimeout: '1 day',
  retry: { initialInterval: '1 minute', backoffCoefficient: 2, maximumInterval: '1 hour' },
});

/** One retraining of dynamic routing, started by its Schedule (or by hand: `temporal schedule trigger`), on the period ending now. */
export async function routingRetraining(): Promise<RetrainingReport> {
  return retrainRouting({ at: new Date(Date.now()).toISOString() });
}
