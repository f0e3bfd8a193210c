import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';

export interface FakePagerDutyRequest {
  headers: IncomingHttpHeaders;
  rawBody: string;
  status: number;
}

export type IncidentState = 'triggered' | 'acknowledged' | 'resolved';

/** One alert, as PagerDuty keeps it per routing key and `dedup_key`. */
export interface FakeIncident {
  routingKey: string;
  dedupKey: string;
  state: IncidentState;
  summary: string;
  severity: string;
  /** Every event applied to this alert, in order. */
  log: ('trigger' | 'acknowledge' | 'resolve')[];
  payload: Record<string, unknown>;
  links: unknown[];
}

/** The Events API v2 `/v2/enqueue` endpoint on loopback, validating events as the docs describe. */
export interface FakePagerDuty {
  /** The enqueue URL, as `eventsUrl` of the PagerDuty activities. */
  url: string;
  requests: FakePagerDutyRequest[];
  incidents: FakeIncident[];
  incidentsFor(dedupKey: string): FakeIncident[];
  /** Acknowledge and resolve events for which no alert was open: PagerDuty drops them. */
  dropped: { action: string; dedupKey: string }[];
  /** The next event is answered with this status (429 or 5xx) and not processed, once. */
  failNext(status: number): void;
  close(): Promise<void>;
}

const actions = ['trigger', 'acknowledge', 'resolve'] as const;
const severities = ['critical', 'error', 'warning', 'info'];

export async function startFakePagerDuty(): Promise<FakePagerDuty> {
  const requests: FakePagerDutyRequest[] = [];
  const incidents: FakeIncident[] = [];
  const dropped: { action: string; dedupKey: string }[] = [];
  let nextFailure: number | undefined;

  function apply(event: Record<string, unknown>): string {
    const routingKey = event.routing_key as string;
    const action = event.event_action as (typeof actions)[number];
    // A trigger without dedup_key always opens a new alert under a generated key.
    const dedupKey = typeof event.dedup_key === 'string' ? event.dedup_key : randomUUID().replace(/-/g, '');
    // Events apply to the open alert with the same key and routing key; after resolve, a trigger opens a new one.
    const open = incidents.find((incident) => incident.routingKey === routingKey && incident.dedupKey === dedupKey && incident.state !== 'resolved');
    if (action === 'trigger') {
      const payload = event.payload as Record<string, unknown>;
      if (open) open.log.push('trigger');
      else {
        incidents.push({
          routingKey,
          dedupKey,
          state: 'triggered',
          summary: payload.summary as string,
          severity: payload.severity as string,
          log: ['trigger'],
          payload,
          links: (event.links as unknown[] | undefined) ?? [],
        });
      }
    } else if (!open) {
      dropped.push({ action, dedupKey });
    } else {
      open.log.push(action);
      // While acknowledged, new triggers do not re-open it; only resolve moves it on.
      open.state = action === 'acknowledge' ? 'acknowledged' : 'resolved';
    }
    return dedupKey;
  }

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const answer = (status: number, body: Record<string, unknown>) => {
        requests.push({ headers: request.headers, rawBody, status });
        reply(response, status, body);
      };
      if (request.method !== 'POST' || request.url !== '/v2/enqueue') return answer(404, { status: 'not found' });
      if (nextFailure !== undefined) {
        const status = nextFailure;
        nextFailure = undefined;
        return answer(status, status === 429 ? { status: 'throttle event', message: 'Requests for this service are arriving too quickly. Please retry later.' } : { status: 'error' });
      }
      let event: unknown;
      try {
        event = JSON.parse(rawBody);
      } catch {
        return answer(400, { status: 'invalid event', message: 'Event object is invalid', errors: ['Invalid JSON'] });
      }
      const errors = problemsOf(event);
      if (errors.length) return answer(400, { status: 'invalid event', message: 'Event object is invalid', errors });
      const dedupKey = apply(event as Record<string, unknown>);
      answer(202, { status: 'success', message: 'Event processed', dedup_key: dedupKey });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/v2/enqueue`,
    requests,
    incidents,
    incidentsFor: (dedupKey) => incidents.filter((incident) => incident.dedupKey === dedupKey),
    dropped,
    failNext: (status) => void (nextFailure = status),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The Events API v2 parameter table: required fields, enums and lengths. */
function problemsOf(event: unknown): string[] {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return ['Event object is not a JSON object'];
  const { routing_key: routingKey, event_action: action, dedup_key: dedupKey, payload, links, images } = event as Record<string, unknown>;
  const errors: string[] = [];
  if (typeof routingKey !== 'string' || routingKey === '') errors.push("'routing_key' is missing or blank");
  else if (routingKey.length !== 32) errors.push("Length of 'routing_key' is incorrect (should be 32 characters)");
  if (!actions.includes(action as (typeof actions)[number])) errors.push("'event_action' is invalid (must be one of: trigger acknowledge resolve)");
  if (dedupKey !== undefined && (typeof dedupKey !== 'string' || dedupKey.length > 255)) errors.push("'dedup_key' must be a string of at most 255 characters");
  if ((action === 'acknowledge' || action === 'resolve') && (typeof dedupKey !== 'string' || dedupKey === '')) errors.push("'dedup_key' is required for acknowledge and resolve");
  if (action === 'trigger') {
    if (typeof payload !== 'object' || payload === null) errors.push("'payload' is missing or not an object");
    else {
      const { summary, source, severity, timestamp, custom_details: details } = payload as Record<string, unknown>;
      if (typeof summary !== 'string' || summary === '') errors.push("'payload.summary' is missing or blank");
      else if (summary.length > 1024) errors.push("'payload.summary' must be at most 1024 characters");
      if (typeof source !== 'string' || source === '') errors.push("'payload.source' is missing or blank");
      if (!severities.includes(severity as string)) errors.push("'payload.severity' is invalid (must be one of: critical error warning info)");
      if (timestamp !== undefined && (typeof timestamp !== 'string' || Number.isNaN(Date.parse(timestamp)))) errors.push("'payload.timestamp' is not an ISO 8601 timestamp");
      if (details !== undefined && (typeof details !== 'object' || details === null)) errors.push("'payload.custom_details' must be an object");
    }
  }
  if (links !== undefined && !(Array.isArray(links) && links.every((link) => typeof (link as { href?: unknown })?.href === 'string'))) errors.push("'links' must be objects with an 'href'");
  if (images !== undefined && !(Array.isArray(images) && images.every((image) => typeof (image as { src?: unknown })?.src === 'string'))) errors.push("'images' must be objects with a 'src'");
  return errors;
}

function reply(response: ServerResponse, status: number, body: Record<string, unknown>): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
