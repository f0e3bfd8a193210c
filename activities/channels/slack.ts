import { ApplicationFailure } from '@temporalio/activity';
import { decisionRequestEventType, decisionRequestMessage, statusMessage } from './slack-blocks.js';
import type { SlackDecisionRequest, SlackMessageUpdate, SlackPosted } from './types.js';

export interface SlackSettings {
  /** The Web API root; `https://slack.com/api` unless a test points it at a fake. */
  baseUrl?: string;
  /** A bot token (`xoxb-…`) with chat:write, im:write and the *:history scopes of the channels used. */
  botToken: string;
  /** How many of a channel's latest messages a post reads back to find an earlier attempt's message. */
  historyLimit?: number;
  /** Per HTTP call. Keep the activity's startToCloseTimeout above three of these. */
  timeoutMs?: number;
}

/**
 * Slack `error` codes worth another attempt: rate limiting and Slack's own trouble. Every other code
 * (invalid_auth, channel_not_found, not_in_channel, account_inactive, missing_scope, invalid_blocks, …)
 * is a problem with the token, the channel or the message, which the same request cannot fix.
 */
const transientErrors = new Set(['ratelimited', 'rate_limited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout', 'team_added_to_org']);

/** A user id (docs: `U…` or `W…`): the request goes to that person's DM with the app. */
const userIdPattern = /^[UW][A-Z0-9]+$/;

/**
 * Slack Web API activities. Failures are `ApplicationFailure`s: `SlackRefused` (non-retryable: the
 * request itself is wrong), `SlackRateLimited` (retryable, `nextRetryDelay` from `Retry-After`) and
 * `SlackUnavailable` (retryable: 5xx, Slack's `internal_error`, network, timeout).
 */
export function createSlackNotifier(settings: SlackSettings) {
  const call = slackCaller(settings);
  const historyLimit = settings.historyLimit ?? 20;

  /** Opens (or finds: conversations.open returns the existing DM) the `D…` conversation with a user. */
  async function conversationOf(channel: string): Promise<string> {
    if (!userIdPattern.test(channel)) return channel;
    const opened = await call('conversations.open', { users: channel }, 'form');
    const id = (opened.channel as { id?: unknown } | undefined)?.id;
    if (typeof id !== 'string') throw ApplicationFailure.retryable(`Slack conversations.open for ${channel} returned no channel id`, 'SlackUnavailable');
    return id;
  }

  async function earlierPost(channel: string, dedupeKey: string): Promise<string | null> {
    // conversations.history: `limit`, and `include_all_metadata` to get each message's `metadata` back.
    const history = await call('conversations.history', { channel, limit: String(historyLimit), include_all_metadata: 'true' }, 'form');
    const messages = Array.isArray(history.messages) ? (history.messages as SlackHistoryMessage[]) : [];
    const found = messages.find((message) => message.metadata?.event_type === decisionRequestEventType && message.metadata.event_payload?.dedupe_key === dedupeKey);
    return found?.ts ?? null;
  }

  return {
    /**
     * Posts a decision request with Approve / Reject / Acknowledge buttons, or returns the message an
     * earlier attempt posted. Slack has no idempotency key, so every post carries `dedupeKey` in its
     * message metadata and every attempt first reads the channel's latest `historyLimit` messages for it.
     *
     * Residual race: an attempt that is still in flight when the next one starts (its response lost
     * and the activity timed out first), or a channel so busy that more than `historyLimit` messages
     * arrive between two attempts, can still show the request twice. A startToCloseTimeout well above
     * the HTTP timeouts keeps the first case to requests Slack received but never answered.
     */
    async postSlackDecisionRequest(request: SlackDecisionRequest): Promise<SlackPosted> {
      const channel = await conversationOf(request.channel);
      const ts = await earlierPost(channel, request.dedupeKey);
      if (ts) return { channel, ts, alreadyPosted: true };
      const { text, blocks } = decisionRequestMessage(request);
      // chat.postMessage: `text` is the notification / screen-reader fallback when `blocks` are given.
      const posted = await call('chat.postMessage', {
        channel,
        text,
        blocks,
        unfurl_links: false,
        unfurl_media: false,
        metadata: { event_type: decisionRequestEventType, event_payload: { dedupe_key: request.dedupeKey, escalation_id: request.escalationId } },
      });
      if (typeof posted.channel !== 'string' || typeof posted.ts !== 'string') {
        throw ApplicationFailure.retryable('Slack chat.postMessage answered ok without channel and ts', 'SlackUnavailable');
      }
      return { channel: posted.channel, ts: posted.ts, alreadyPosted: false };
    },

    /**
     * Replaces a posted request's buttons with where the escalation stands, so no channel keeps
     * showing a request that is no longer waiting. Idempotent: a retry writes the same content.
     * The message's metadata is not sent, so Slack keeps it and a retried post still finds the message.
     */
    async updateSlackMessage(update: SlackMessageUpdate): Promise<void> {
      const { text, blocks } = statusMessage(update);
      // chat.update: `channel` must be the conversation id (`D…` for a DM), `ts` the message's.
      await call('chat.update', { channel: update.channel, ts: update.ts, text, blocks });
    },
  };
}


interface SlackHistoryMessage {
  ts?: string;
  metadata?: { event_type?: string; event_payload?: { dedupe_key?: unknown } };
}

type SlackAnswer = { ok: true } & Record<string, unknown>;

function slackCaller(settings: SlackSettings) {
  const baseUrl = (settings.baseUrl ?? 'https://slack.com/api').replace(/\/$/, '');
  const timeoutMs = settings.timeoutMs ?? 10_000;

  /**
   * One Web API call with the token in `Authorization: Bearer`. Writes go as JSON (with the charset
   * Slack asks for); reads go form-encoded, which every method accepts.
   */
  return async function call(method: string, args: Record<string, unknown>, encoding: 'json' | 'form' = 'json'): Promise<SlackAnswer> {
    const body = encoding === 'json' ? JSON.stringify(args) : new URLSearchParams(args as Record<string, string>).toString();
    let response: Response;
    try {
      response = await fetch(`${baseUrl}/${method}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${settings.botToken}`,
          'content-type': encoding === 'json' ? 'application/json; charset=utf-8' : 'application/x-www-form-urlencoded',
        },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw ApplicationFailure.create({ message: `Slack ${method} unreachable: ${(error as Error).message}`, type: 'SlackUnavailable', cause: error as Error });
    }
    // Rate limits: HTTP 429 with `Retry-After` in seconds, body `{"ok":false,"error":"ratelimited"}`.
    if (response.status === 429) {
      await response.body?.cancel();
      throw rateLimited(method, response.headers.get('retry-after'));
    }
    if (response.status >= 500 || response.status === 408) {
      await response.body?.cancel();
      throw ApplicationFailure.retryable(`Slack ${method} answered HTTP ${response.status}`, 'SlackUnavailable');
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw ApplicationFailure.nonRetryable(`Slack ${method} answered HTTP ${response.status}`, 'SlackRefused');
    }
    let answer: { ok?: unknown; error?: unknown } & Record<string, unknown>;
    try {
      answer = (await response.json()) as typeof answer;
    } catch (error) {
      throw ApplicationFailure.create({ message: `Slack ${method} answered with no JSON`, type: 'SlackUnavailable', cause: error as Error });
    }
    if (answer.ok === true) return answer as SlackAnswer;
    // Failures come as HTTP 200 with `ok: false` and an `error` code.
    const error = typeof answer.error === 'string' ? answer.error : 'unknown_error';
    if (error === 'ratelimited' || error === 'rate_limited') throw rateLimited(method, response.headers.get('retry-after'));
    if (transientErrors.has(error)) throw ApplicationFailure.retryable(`Slack ${method} failed: ${error}`, 'SlackUnavailable');
    throw ApplicationFailure.create({ message: `Slack ${method} refused: ${error}`, type: 'SlackRefused', nonRetryable: true, details: [{ method, error }] });
  };
}

function rateLimited(method: string, retryAfter: string | null): ApplicationFailure {
  const seconds = retryAfter !== null && /^\d+$/.test(retryAfter.trim()) ? Number(retryAfter) : undefined;
  return ApplicationFailure.create({
    message: `Slack ${method} rate limited${seconds === undefined ? '' : `; retry after ${seconds} s`}`,
    type: 'SlackRateLimited',
    ...(seconds === undefined ? {} : { nextRetryDelay: seconds * 1000 }),
  });
}

