import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NativeConnection, Worker } from '@temporalio/worker';
import type { Registry } from 'prom-client';

/** The answer of `/readyz`: ready only when the worker runs and Temporal answers; `reasons` says why not. */
export interface Readiness {
  ready: boolean;
  /** The worker's state (`RUNNING`, `STOPPING`...), or `STARTING` before it was created. */
  worker: string;
  temporal: 'reachable' | 'unreachable' | 'unchecked';
  reasons: string[];
}

export interface HealthServerOptions {
  host: string;
  /** 0 picks a free port; read it from {@link HealthServer.port}. */
  port: number;
  /** Served at `/metrics` in Prometheus' text format. */
  registry: Registry;
  readiness: () => Promise<Readiness>;
}

export interface HealthServer {
  port: number;
  /** `http://host:port`, with the port actually bound. */
  url: string;
  close(): Promise<void>;
}

/**
 * The worker's small HTTP server: `/healthz` answers 200 while the process serves requests,
 * `/readyz` 200 or 503 with a {@link Readiness} body, `/metrics` Escalator's metrics. Rejects when
 * the address cannot be bound.
 */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const server = createServer((request, response) => {
    route(options, request, response).catch((error: unknown) => send(response, 500, { error: String(error) }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    port,
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Scrapers keep connections alive; they must not hold the worker's exit.
        server.closeIdleConnections();
      }),
  };
}

async function route(options: HealthServerOptions, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = new URL(request.url ?? '/', 'http://worker').pathname;
  if (request.method !== 'GET' && request.method !== 'HEAD') return send(response, 405, { error: `${request.method} is not allowed; use GET` });
  if (path === '/healthz') return send(response, 200, { status: 'ok' });
  if (path === '/readyz') {
    const readiness = await options.readiness();
    return send(response, readiness.ready ? 200 : 503, readiness);
  }
  if (path === '/metrics') {
    const body = await options.registry.metrics();
    response.writeHead(200, { 'content-type': options.registry.contentType });
    response.end(body);
    return;
  }
  send(response, 404, { error: `no route ${path}; try /healthz, /readyz or /metrics` });
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  response.end(JSON.stringify(body));
}

/**
 * Readiness of a worker: it must be RUNNING and the Temporal server must answer a health check
 * within `timeoutMs`. Pass `undefined` while the worker is still being created.
 */
export async function workerReadiness(worker: Worker | undefined, connection: NativeConnection | undefined, timeoutMs = 2_000): Promise<Readiness> {
  const state = worker?.getState() ?? 'STARTING';
  const reasons: string[] = [];
  if (state !== 'RUNNING') reasons.push(`the worker is ${state}, not RUNNING`);
  let temporal: Readiness['temporal'] = 'unchecked';
  if (connection) {
    try {
      const { status } = await connection.withDeadline(Date.now() + timeoutMs, () => connection.healthService.check({}));
      // grpc.health.v1: 1 is SERVING; the server answers NOT_SERVING while it starts or stops.
      if (status === 1) temporal = 'reachable';
      else {
        temporal = 'unreachable';
        reasons.push(`the Temporal server answers health status ${status ?? 'UNKNOWN'}, not SERVING`);
      }
    } catch (error) {
      temporal = 'unreachable';
      reasons.push(`the Temporal server does not answer: ${error instanceof Error ? error.message : String(error)}`);
    }
  } else {
    reasons.push('not connected to the Temporal server yet');
  }
  return { ready: reasons.length === 0, worker: state, temporal, reasons };
}
