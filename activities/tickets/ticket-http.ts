import { ApplicationFailure } from '@temporalio/activity';
import { retryAfterMs } from '../channels/webhook.js';

export interface TicketHttpSettings {
  /** How errors name the system: "Jira", "ServiceNow". */
  system: string;
  baseUrl: string;
  user: string;
  secret: string;
  /** Per request. */
  timeoutMs?: number;
}

/** A JSON call to a ticket system: the parsed body of a 2xx answer. */
export type TicketCall = <T>(method: 'GET' | 'POST', path: string, body?: unknown) => Promise<T>;

/**
 * JSON requests to one ticket system with basic auth. Answers are sorted as the webhook's are:
 * 2xx returns the body; 408, 429, 5xx, network errors and timeouts throw the retryable
 * `TicketSystemUnavailable` (429 and 503 honour `Retry-After`); a redirect or any other 4xx throws
 * the non-retryable `TicketRefused`, with the system's own error text.
 */
export function ticketHttp(settings: TicketHttpSettings): TicketCall {
  const base = settings.baseUrl.replace(/\/$/, '');
  const authorization = `Basic ${Buffer.from(`${settings.user}:${settings.secret}`).toString('base64')}`;
  const timeoutMs = settings.timeoutMs ?? 15_000;
  return async <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> => {
    // The query can carry the escalation id; the path alone names the call.
    const call = `${method} ${path.split('?')[0]}`;
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        method,
        headers: { accept: 'application/json', authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        // A redirect would re-send a POST as a GET: a wrong base URL, not an answer.
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw ApplicationFailure.create({ message: `${settings.system} ${call} unreachable: ${(error as Error).message}`, type: 'TicketSystemUnavailable', cause: error as Error });
    }
    const text = await response.text().catch(() => '');
    const { status } = response;
    if (status >= 200 && status < 300) return (text ? JSON.parse(text) : undefined) as T;
    const message = `${settings.system} ${call} answered ${status}${errorText(text)}`;
    if (status === 408 || status === 429 || status >= 500) {
      const delay = retryAfterMs(response.headers.get('retry-after'), Date.now());
      throw ApplicationFailure.create({ message, type: 'TicketSystemUnavailable', ...(delay === undefined ? {} : { nextRetryDelay: delay }) });
    }
    throw ApplicationFailure.nonRetryable(status >= 300 && status < 400 ? `${message} (redirected: check the base URL)` : message, 'TicketRefused');
  };
}

/** Jira's `errorMessages` and `errors`, ServiceNow's `error.message` and `error.detail`, or the start of the body. */
function errorText(body: string): string {
  if (!body) return '';
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return `: ${body.slice(0, 300)}`;
  }
  const { errorMessages, errors, error } = (parsed ?? {}) as { errorMessages?: unknown; errors?: unknown; error?: { message?: unknown; detail?: unknown } };
  const parts = [
    ...(Array.isArray(errorMessages) ? errorMessages.map(String) : []),
    ...(errors && typeof errors === 'object' ? Object.entries(errors).map(([field, text]) => `${field}: ${String(text)}`) : []),
    ...(error && typeof error === 'object' ? [error.message, error.detail].filter((part) => typeof part === 'string' && part !== '').map(String) : []),
  ];
  return parts.length ? `: ${parts.join('; ').slice(0, 500)}` : `: ${body.slice(0, 300)}`;
}
