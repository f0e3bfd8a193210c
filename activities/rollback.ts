import { ApplicationFailure } from '@temporalio/activity';
import { heartbeating } from './heartbeat.js';
import type { RollbackRequest } from './types.js';

/**
 * Asks the policy's rollback endpoint to roll the change back. Every attempt carries the same
 * `Idempotency-Key`, so a retry after a lost answer cannot roll back twice. 4xx answers are final.
 */
export async function requestRollback(request: RollbackRequest): Promise<{ status: number }> {
  const response = await heartbeating(fetch(request.endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': request.idempotencyKey },
    body: JSON.stringify({
      escalationId: request.escalationId,
      reason: request.reason,
      service: request.failure.service,
      repository: request.failure.repository,
      sha: request.failure.change.sha,
      pipelineRunId: request.failure.pipelineRun.id,
    }),
    signal: AbortSignal.timeout(20_000),
  }));
  await response.body?.cancel();
  if (response.ok) return { status: response.status };
  const message = `rollback endpoint answered ${response.status}`;
  if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) {
    throw ApplicationFailure.nonRetryable(message, 'RollbackRefused');
  }
  throw ApplicationFailure.retryable(message, 'RollbackUnavailable');
}
