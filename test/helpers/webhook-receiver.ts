import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { SignatureCheck, WebhookEvent } from '../../activities/channels/types.js';
import { verifyWebhookSignature } from '../../activities/channels/webhook.js';

/** One request as received, with the signature check and the answer given. */
export interface WebhookDelivery {
  eventId: string | undefined;
  headers: IncomingHttpHeaders;
  rawBody: string;
  check: SignatureCheck;
  status: number;
  /** A verified delivery of an event id already accepted. */
  duplicate: boolean;
}

/**
 * A receiver as a subscriber should write one: it verifies each signature (401 when it fails),
 * answers verified deliveries with the next scripted status, and accepts each event id once.
 */
export interface WebhookReceiver {
  url: string;
  deliveries: WebhookDelivery[];
  /** Every distinct event accepted (answered 2xx), in order of arrival. */
  events: WebhookEvent[];
  close(): Promise<void>;
}

export interface WebhookReceiverOptions {
  secret: string;
  /** Answers for verified deliveries in turn; the last repeats. */
  statuses?: number[];
  toleranceSeconds?: number;
  now?: () => number;
}

export async function startWebhookReceiver(options: WebhookReceiverOptions): Promise<WebhookReceiver> {
  const statuses = options.statuses ?? [200];
  const deliveries: WebhookDelivery[] = [];
  const events: WebhookEvent[] = [];
  let verified = 0;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      // Verify the exact bytes received: re-serialised JSON would not match the signature.
      const raw = Buffer.concat(chunks);
      const check = verifyWebhookSignature(options.secret, request.headers, raw, { ...(options.toleranceSeconds === undefined ? {} : { toleranceSeconds: options.toleranceSeconds }), now: (options.now ?? Date.now)() });
      const eventId = [request.headers['x-escalator-event-id']].flat()[0];
      let status = 401;
      let duplicate = false;
      if (check.valid) {
        status = statuses[Math.min(verified, statuses.length - 1)] ?? 200;
        verified += 1;
        if (status >= 200 && status < 300) {
          duplicate = events.some((event) => event.id === eventId);
          if (!duplicate) events.push(JSON.parse(raw.toString('utf8')) as WebhookEvent);
        }
      }
      deliveries.push({ eventId, headers: request.headers, rawBody: raw.toString('utf8'), check, status, duplicate });
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ received: check.valid, duplicate }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/hooks/escalator`,
    deliveries,
    events,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
