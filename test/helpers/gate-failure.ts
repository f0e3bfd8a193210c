import { randomUUID } from 'node:crypto';
import type { GateFailureInput } from '../../domain/gate-failure.js';

/** A valid gate failure with a fresh idempotency key; override what the test is about. */
export function gateFailure(overrides: Partial<GateFailureInput> = {}): GateFailureInput {
  return {
    gate: { name: 'integration-tests', kind: 'tests' },
    service: 'checkout',
    repository: 'acme/checkout',
    severity: 'high',
    change: {
      sha: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
      author: 'mallory',
      title: 'Speed up basket totals',
      url: 'https://git.example.com/acme/checkout/pull/42',
      changedFiles: ['src/basket/totals.ts'],
    },
    pipelineRun: { id: 'run-7781', url: 'https://ci.example.com/acme/checkout/runs/7781' },
    occurredAt: '2026-11-27T09:00:00Z',
    idempotencyKey: `gate-${randomUUID()}`,
    ...overrides,
  };
}
