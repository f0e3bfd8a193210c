import { describe, expect, it } from 'vitest';
import { fieldErrors } from '../../domain/field-errors.js';
import { gateFailureSchema } from '../../domain/gate-failure.js';
import { gateFailure } from '../helpers/gate-failure.js';

function errorsOf(input: unknown): string[] {
  const result = gateFailureSchema.safeParse(input);
  if (result.success) throw new Error('expected the gate failure to be refused');
  return fieldErrors(result.error).map((e) => e.path);
}

describe('gate failure schema', () => {
  it('accepts a complete failure and defaults the context flags', () => {
    const parsed = gateFailureSchema.parse({ ...gateFailure(), hotfix: undefined });
    expect(parsed.hotfix).toBe(false);
    expect(parsed.rollback).toBe(false);
  });

  it('names each invalid field by its path', () => {
    const valid = gateFailure();
    expect(errorsOf({ ...valid, severity: 'urgent' })).toEqual(['severity']);
    expect(errorsOf({ ...valid, gate: { name: 'build', kind: 'lint' } })).toEqual(['gate.kind']);
    expect(errorsOf({ ...valid, change: { ...valid.change, url: 'not a url' } })).toEqual(['change.url']);
    expect(errorsOf({ ...valid, change: { ...valid.change, changedFiles: ['ok', ''] } })).toEqual(['change.changedFiles[1]']);
    expect(errorsOf({ ...valid, occurredAt: 'yesterday' })).toEqual(['occurredAt']);
    expect(errorsOf({ ...valid, idempotencyKey: 'has spaces' })).toEqual(['idempotencyKey']);
    expect(errorsOf({ ...valid, reviewer: 'alice' })).toEqual(['(root)']);
  });

  it('requires every field that has no default', () => {
    expect(errorsOf({})).toEqual(['gate', 'service', 'repository', 'severity', 'change', 'pipelineRun', 'occurredAt', 'idempotencyKey']);
  });
});
