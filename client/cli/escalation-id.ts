import { WorkflowNotFoundError } from '@temporalio/client';
import { escalationIdFor } from '../../domain/gate-failure.js';
import { EscalationNotFoundError } from '../errors.js';
import type { EscalatorClient } from '../escalator-client.js';

/** No escalation has the id; the message goes on to say what else was tried, or what exists. */
class EscalationNotFoundHintError extends EscalationNotFoundError {
  constructor(escalationId: string, hint: string) {
    super(escalationId);
    this.message = `${this.message}; ${hint}`;
  }
}

/**
 * `escalation-<id>` for an id typed without the prefix every escalation id has (CI logs and
 * webhooks show the idempotency key, `checkout-7781-integration-tests`); undefined when it has it.
 */
export function prefixedEscalationId(id: string): string | undefined {
  return id.startsWith(escalationIdFor('')) ? undefined : escalationIdFor(id);
}

/**
 * Reads the escalation `id`, or `escalation-<id>` when nothing has the id as typed: for a read the
 * prefixed id is certainly what was meant. Says which id it read.
 */
export async function readEscalation<T>(id: string, read: (escalationId: string) => Promise<T>): Promise<{ escalationId: string; found: T }> {
  try {
    return { escalationId: id, found: await read(id) };
  } catch (error) {
    const prefixed = prefixedEscalationId(id);
    if (!(error instanceof EscalationNotFoundError) || !prefixed) throw error;
    try {
      return { escalationId: prefixed, found: await read(prefixed) };
    } catch (prefixedError) {
      if (prefixedError instanceof EscalationNotFoundError) throw new EscalationNotFoundHintError(id, `nor ${prefixed}`);
      throw prefixedError;
    }
  }
}

/**
 * Runs `act` on the escalation `id` as typed. Acting on another id than the one given is not
 * guessed, so when `escalation-<id>` exists instead, the not-found error names it.
 */
export async function actOnEscalation<T>(escalator: EscalatorClient, id: string, act: () => Promise<T>): Promise<T> {
  try {
    return await act();
  } catch (error) {
    const prefixed = prefixedEscalationId(id);
    if (error instanceof EscalationNotFoundError && prefixed && (await exists(escalator, prefixed))) {
      throw new EscalationNotFoundHintError(id, `did you mean ${prefixed}?`);
    }
    throw error;
  }
}

async function exists(escalator: EscalatorClient, escalationId: string): Promise<boolean> {
  try {
    await escalator.handle(escalationId).describe();
    return true;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}
