import { createHmac, timingSafeEqual } from 'node:crypto';
import { headerOf, type HeaderSource, type SignatureCheck } from './signed-requests.js';

/**
 * Slack's side of a decision request, as both ends need it: the worker posts buttons with these ids
 * and values, the HTTP shim checks the signature of Slack's interaction payload and reads them back.
 */

/** The `action_id`s of the decision buttons, for the handler of Slack's interaction payloads. */
export const decisionActionIds = {
  approve: 'escalator_approve',
  reject: 'escalator_reject',
  acknowledge: 'escalator_acknowledge',
} as const;

/** The `value` of every decision button: the escalation it decides, as JSON. */
export function decisionButtonValue(escalationId: string): string {
  return JSON.stringify({ escalationId });
}

/** Reads a decision button's `value` back; null for anything Escalator did not write. */
export function parseDecisionButtonValue(value: string): { escalationId: string } | null {
  try {
    const parsed: unknown = JSON.parse(value);
    if (typeof parsed === 'object' && parsed !== null && typeof (parsed as { escalationId?: unknown }).escalationId === 'string') {
      return { escalationId: (parsed as { escalationId: string }).escalationId };
    }
  } catch {
    // not JSON: not ours
  }
  return null;
}

/**
 * Checks a request Slack sent (interactivity, events) as Slack's "Verifying requests from Slack"
 * describes: `X-Slack-Signature` is `v0=` + hex HMAC-SHA256 of `v0:{X-Slack-Request-Timestamp}:{raw body}`
 * under the app's signing secret, and requests older (or newer) than five minutes are refused.
 */
export function verifySlackRequest(signingSecret: string, headers: HeaderSource, rawBody: string | Buffer, options: { toleranceSeconds?: number; now?: number } = {}): SignatureCheck {
  const timestamp = headerOf(headers, 'x-slack-request-timestamp');
  const signature = headerOf(headers, 'x-slack-signature');
  if (!timestamp || !signature || !/^\d+$/.test(timestamp)) return { valid: false, reason: 'missing-headers' };
  const nowSeconds = Math.floor((options.now ?? Date.now()) / 1000);
  if (Math.abs(nowSeconds - Number(timestamp)) > (options.toleranceSeconds ?? 300)) return { valid: false, reason: 'stale-timestamp' };
  const expected = Buffer.from(`v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:`).update(rawBody).digest('hex')}`);
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected) ? { valid: true } : { valid: false, reason: 'bad-signature' };
}
