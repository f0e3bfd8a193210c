import { createHmac, timingSafeEqual } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import { headerOf } from '../../adapters/signed-requests.js';
import type { HeaderSource, SignatureCheck, WebhookEvent } from './types.js';

export interface WebhookSettings {
  url: string;
  /** Shared with the receiver; signs every delivery. */
  secret: string;
  /** Per delivery attempt. */
  timeoutMs?: number;
  /** Milliseconds since the epoch; tests pin it. */
  now?: () => number;
}

/** The headers of every delivery (Node lower-cases them on the receiving side). */
export const webhookHeaders = {
  eventId: 'X-Escalator-Event-Id',
  timestamp: 'X-Escalator-Timestamp',
  signature: 'X-Escalator-Signature',
} as const;

/**
 * Sends escalation events to one endpoint. Each attempt is signed afresh (a new timestamp), so a
 * delivery retried an hour later still verifies; the event id stays the same, so the receiver
 * counts it once.
 *
 * Answers: 2xx delivered; 410 → non-retryable `WebhookGone` (the receiver says the endpoint is gone
 * for good); 3xx and other 4xx but 408/429 → non-retryable `WebhookRefused`; 408, 429, 5xx, network
 * and timeouts → retryable `WebhookUnavailable` (429 and 503 honour `Retry-After`).
 *
 * Recommended activity options: startToCloseTimeout '30s', scheduleToCloseTimeout '24h', retry
 * { initialInterval '10s', backoffCoefficient 2, maximumInterval '15m', nonRetryableErrorTypes
 * ['WebhookGone', 'WebhookRefused'] } — and do not let the escalation wait on it: a receiver that is
 * down for a day must not hold up a decision.
 */
export function createWebhookSender(settings: WebhookSettings) {
  const timeoutMs = settings.timeoutMs ?? 10_000;
  const now = settings.now ?? Date.now;

  return {
    async sendWebhookEvent(event: WebhookEvent): Promise<{ status: number }> {
      const rawBody = JSON.stringify({ id: event.id, type: event.type, escalationId: event.escalationId, occurredAt: event.occurredAt, data: event.data });
      const timestamp = Math.floor(now() / 1000);
      let response: Response;
      try {
        response = await fetch(settings.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            [webhookHeaders.eventId]: event.id,
            [webhookHeaders.timestamp]: String(timestamp),
            [webhookHeaders.signature]: signWebhookPayload(settings.secret, timestamp, rawBody),
          },
          body: rawBody,
          // A redirected POST would be re-sent as a GET without its body: a misconfigured URL, not a delivery.
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        throw ApplicationFailure.create({ message: `webhook ${event.id} to ${settings.url} undelivered: ${(error as Error).message}`, type: 'WebhookUnavailable', cause: error as Error });
      }
      await response.body?.cancel();
      const { status } = response;
      if (status >= 200 && status < 300) return { status };
      const message = `webhook ${event.id} to ${settings.url} answered ${status}`;
      if (status === 410) throw ApplicationFailure.nonRetryable(message, 'WebhookGone');
      if (status === 408 || status === 429 || status >= 500) {
        const delay = retryAfterMs(response.headers.get('retry-after'), now());
        throw ApplicationFailure.create({ message, type: 'WebhookUnavailable', ...(delay === undefined ? {} : { nextRetryDelay: delay }) });
      }
      throw ApplicationFailure.nonRetryable(message, 'WebhookRefused');
    },
  };
}

/** `v1=` + hex HMAC-SHA256 of `${timestamp}.${rawBody}` under the shared secret. */
export function signWebhookPayload(secret: string, timestamp: number | string, rawBody: string | Buffer): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex')}`;
}

/**
 * For receivers: checks the signature of a delivery over the exact bytes received, and refuses a
 * timestamp more than `toleranceSeconds` away from `now` (replays). Compares in constant time. The
 * signature header may list several `v1=` values (comma or space separated) during a secret rotation.
 */
export function verifyWebhookSignature(
  secret: string,
  headers: HeaderSource,
  rawBody: string | Buffer,
  { toleranceSeconds = 300, now = Date.now() }: { toleranceSeconds?: number; now?: number } = {},
): SignatureCheck {
  const timestamp = headerOf(headers, webhookHeaders.timestamp.toLowerCase());
  const signatures = headerOf(headers, webhookHeaders.signature.toLowerCase());
  if (!timestamp || !signatures || !/^\d+$/.test(timestamp)) return { valid: false, reason: 'missing-headers' };
  if (Math.abs(Math.floor(now / 1000) - Number(timestamp)) > toleranceSeconds) return { valid: false, reason: 'stale-timestamp' };
  const expected = Buffer.from(signWebhookPayload(secret, timestamp, rawBody));
  const matches = signatures
    .split(/[\s,]+/)
    .map((candidate) => Buffer.from(candidate))
    .some((given) => given.length === expected.length && timingSafeEqual(given, expected));
  return matches ? { valid: true } : { valid: false, reason: 'bad-signature' };
}

/** `Retry-After` as delta-seconds or an HTTP date, in milliseconds from now. */
export function retryAfterMs(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}
