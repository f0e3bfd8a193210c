import { ApplicationFailure } from '@temporalio/activity';
import type { Severity } from '../../domain/gate-failure.js';
import type { PagerDutyTrigger } from './types.js';

export interface PagerDutySettings {
  /** `https://events.pagerduty.com/v2/enqueue` unless a test points it at a fake. */
  eventsUrl?: string;
  /** The 32-character integration key of an Events API v2 integration. */
  routingKey: string;
  /** Per HTTP call. */
  timeoutMs?: number;
}

/** Escalator's severities on PD-CEF's `critical`, `error`, `warning`, `info`. */
export const pagerDutySeverity: Record<Severity, 'critical' | 'error' | 'warning' | 'info'> = {
  critical: 'critical',
  high: 'error',
  medium: 'warning',
  low: 'info',
};

type EventAction = 'trigger' | 'acknowledge' | 'resolve';

/**
 * PagerDuty Events API v2 activities (developer.pagerduty.com, "Send an Alert Event"). Every event
 * of an escalation carries `dedup_key` = the escalation id, so a retried trigger lands on the open
 * alert instead of opening a second one, and acknowledge / resolve find it. Failures: 400 (and other
 * 4xx but 408/429) → non-retryable `PagerDutyRefused`; 429 → retryable `PagerDutyThrottled`;
 * 5xx, network, timeout → retryable `PagerDutyUnavailable`, as the "Response Codes & Retry Logic" table says.
 */
export function createPagerDuty(settings: PagerDutySettings) {
  const eventsUrl = settings.eventsUrl ?? 'https://events.pagerduty.com/v2/enqueue';
  const timeoutMs = settings.timeoutMs ?? 10_000;

  async function enqueue(action: EventAction, escalationId: string, fields: Record<string, unknown> = {}): Promise<{ dedupKey: string }> {
    // The documented limit; escalation ids are far shorter, so this only guards against misuse.
    if (escalationId.length > 255) throw ApplicationFailure.nonRetryable(`dedup_key ${escalationId} is longer than 255 characters`, 'PagerDutyRefused');
    const event = { routing_key: settings.routingKey, event_action: action, dedup_key: escalationId, ...fields };
    let response: Response;
    try {
      response = await fetch(eventsUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(event),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw ApplicationFailure.create({ message: `PagerDuty ${action} for ${escalationId} unreachable: ${(error as Error).message}`, type: 'PagerDutyUnavailable', cause: error as Error });
    }
    const answer = (await response.json().catch(() => ({}))) as { status?: string; message?: string; dedup_key?: string; errors?: string[] };
    if (response.status === 202) return { dedupKey: answer.dedup_key ?? escalationId };
    const said = [answer.message, ...(answer.errors ?? [])].filter(Boolean).join('; ');
    const message = `PagerDuty ${action} for ${escalationId} answered ${response.status}${said ? `: ${said}` : ''}`;
    if (response.status === 429) {
      // No Retry-After is documented; PagerDuty suggests retrying about 30 s apart.
      const seconds = Number(response.headers.get('retry-after'));
      throw ApplicationFailure.create({ message, type: 'PagerDutyThrottled', nextRetryDelay: Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : '30s' });
    }
    if (response.status >= 500 || response.status === 408) throw ApplicationFailure.retryable(message, 'PagerDutyUnavailable');
    throw ApplicationFailure.create({ message, type: 'PagerDutyRefused', nonRetryable: true, details: [{ status: response.status, errors: answer.errors ?? [] }] });
  }

  return {
    /** Opens the escalation's alert, or adds a trigger to it if it is already open. */
    async triggerIncident(trigger: PagerDutyTrigger): Promise<{ dedupKey: string }> {
      return enqueue('trigger', trigger.escalationId, {
        payload: {
          summary: truncate(trigger.summary, 1024),
          source: trigger.source,
          severity: pagerDutySeverity[trigger.severity],
          timestamp: trigger.timestamp ?? new Date().toISOString(),
          ...(trigger.component === undefined ? {} : { component: trigger.component }),
          ...(trigger.group === undefined ? {} : { group: trigger.group }),
          ...(trigger.class === undefined ? {} : { class: trigger.class }),
          ...(trigger.customDetails === undefined ? {} : { custom_details: trigger.customDetails }),
        },
        ...(trigger.links?.length ? { links: trigger.links } : {}),
      });
    },
    /** Someone is on it: PagerDuty stops notifying. Dropped by PagerDuty when no alert is open. */
    async acknowledgeIncident(escalationId: string): Promise<{ dedupKey: string }> {
      return enqueue('acknowledge', escalationId);
    },
    /** The escalation ended. A later trigger with the same key would open a new alert. */
    async resolveIncident(escalationId: string): Promise<{ dedupKey: string }> {
      return enqueue('resolve', escalationId);
    },
  };
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
