import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';

/** One request a fake ticket system received, and what it answered. */
export interface TicketSystemRequest {
  method: string;
  /** Without the query. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: unknown;
  status: number;
}

/** Which requests `failNext` fails: by method and path (without the query); unset matches any. */
export interface FailureMatch {
  method?: string;
  path?: string | RegExp;
  /** Process the request first, then answer 503: a success whose answer was lost on the way. */
  afterProcessing?: boolean;
}

export type Answer = { status: number; body?: unknown; headers?: Record<string, string> };

/**
 * The common part of the fake Jira and ServiceNow servers: loopback HTTP, basic auth checked,
 * JSON bodies parsed, every request recorded, and scripted 503s.
 */
export async function startTicketFakeServer(options: {
  user: string;
  secret: string;
  unauthenticated: Answer;
  badJson: Answer;
  route: (method: string, path: string, query: URLSearchParams, body: unknown) => Answer;
}) {
  const requests: TicketSystemRequest[] = [];
  const failures: Array<FailureMatch & { left: number }> = [];
  const expected = `Basic ${Buffer.from(`${options.user}:${options.secret}`).toString('base64')}`;

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://fake');
      const method = request.method ?? 'GET';
      const raw = Buffer.concat(chunks).toString('utf8');
      const record = (answer: Answer, body: unknown) => {
        requests.push({ method, path: url.pathname, query: url.searchParams, headers: request.headers, body, status: answer.status });
        reply(response, answer);
      };
      if (request.headers.authorization !== expected) return record(options.unauthenticated, raw);
      let body: unknown;
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        return record(options.badJson, raw);
      }
      const failure = failures.find((f) => f.left > 0 && (!f.method || f.method === method) && (!f.path || (typeof f.path === 'string' ? f.path === url.pathname : f.path.test(url.pathname))));
      if (failure) failure.left--;
      const unavailable: Answer = { status: 503, body: { message: 'service unavailable' }, headers: { 'retry-after': '1' } };
      if (failure && !failure.afterProcessing) return record(unavailable, body);
      const answer = options.route(method, url.pathname, url.searchParams, body);
      record(failure ? unavailable : answer, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    /** The next `count` requests that match are answered 503 (with `afterProcessing`, after they took effect). */
    failNext(count: number, match: FailureMatch = {}) {
      failures.push({ ...match, left: count });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function reply(response: ServerResponse, answer: Answer): void {
  const headers = { ...(answer.body === undefined ? {} : { 'content-type': 'application/json' }), ...answer.headers };
  response.writeHead(answer.status, headers).end(answer.body === undefined ? undefined : JSON.stringify(answer.body));
}
