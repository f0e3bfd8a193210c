import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { EscalationOutcome } from '../domain/escalation.js';

/**
 * Appends each outcome as one JSON line. Appends are never rewritten; a retried activity may
 * append the same outcome twice, and readers keep the first line per escalation id.
 */
export function createOutcomeRecorder(file: string) {
  return async function recordOutcome(outcome: EscalationOutcome): Promise<void> {
    await mkdir(dirname(file), { recursive: true });
    await appendFile(file, `${JSON.stringify({ recordedAt: new Date().toISOString(), ...outcome })}\n`, 'utf8');
  };
}
