import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { collectDefaultMetrics, Counter, Registry } from 'prom-client';

/**
 * The HTTP shim's Prometheus metrics, in a registry of their own (not prom-client's global one, so
 * a worker in the same process never mixes in).
 */
export interface ShimMetrics {
  readonly registry: Registry;
  /** `escalator_decisions_refused_total{reason}`: refused decision attempts, by refusal code. */
  readonly decisionsRefused: Counter<'reason'>;
  /** `escalator_shim_requests_total{method,route,status}`: answered requests; `route` is the route pattern. */
  readonly requests: Counter<'method' | 'route' | 'status'>;
  /**
   * Counts one refused attempt (decide, acknowledge, reassign, break-glass, withdraw) under its
   * refusal code (`NotAwaitedReviewer`, `EscalationEnded`...). Call it once per refused attempt, where
   * the refusal is recorded.
   */
  countRefusal(reason: string): void;
}

/** Creates the shim's metrics; `processMetrics` adds prom-client's process and Node.js metrics (default true). */
export function createShimMetrics(options: { registry?: Registry; processMetrics?: boolean } = {}): ShimMetrics {
  const registry = options.registry ?? new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  const decisionsRefused = new Counter({ name: 'escalator_decisions_refused_total', help: 'Refused decision attempts, by refusal code.', labelNames: ['reason'], registers: [registry] });
  const requests = new Counter({ name: 'escalator_shim_requests_total', help: 'HTTP requests answered by the shim, by method, route pattern and status.', labelNames: ['method', 'route', 'status'], registers: [registry] });
  return {
    registry,
    decisionsRefused,
    requests,
    countRefusal: (reason) => decisionsRefused.inc({ reason }),
  };
}

/** A Fastify route handler answering with the registry in Prometheus' text format. */
export function metricsHandler(registry: Registry): (request: FastifyRequest, reply: FastifyReply) => Promise<string> {
  return async (_request, reply) => {
    void reply.header('content-type', registry.contentType);
    return registry.metrics();
  };
}

/**
 * A Fastify plugin: `GET <path>` (default `/metrics`) serves the metrics, and every answered
 * request is counted in `escalator_shim_requests_total`. It applies to the whole app (not
 * encapsulated), so register it before the routes. The route needs no token only if the app's
 * authentication lets `path` through.
 */
export function shimMetricsPlugin(metrics: ShimMetrics, options: { path?: string } = {}) {
  const plugin = async (app: FastifyInstance): Promise<void> => {
    app.get(options.path ?? '/metrics', metricsHandler(metrics.registry));
    app.addHook('onResponse', async (request, reply) => {
      // Unmatched URLs are one label value, not one per URL a scanner tries.
      metrics.requests.inc({ method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) });
    });
  };
  // Fastify's documented opt-out of encapsulation (what fastify-plugin sets): the hook sees every route.
  return Object.assign(plugin, { [Symbol.for('skip-override')]: true });
}
