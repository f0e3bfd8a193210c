import { createServer, type IncomingHttpHeaders } from 'node:http';

/** What one request to the rollback endpoint carried. */
export interface RollbackCall {
  idempotencyKey: string | undefined;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/**
 * A rollback service on loopback that honours `Idempotency-Key` the way payment APIs do: the first
 * request with a key performs the rollback, later ones with the same key get the first answer
 * without doing it again. `answers` scripts the first requests: a status, or `hang` to accept the
 * request and never answer (a service that stalls mid-rollback). Past the script it answers 200.
 */
export interface RollbackEndpoint {
  url: string;
  calls: RollbackCall[];
  /** Rollbacks actually performed: one per distinct key that reached the service. */
  performed(): number;
  close(): Promise<void>;
}

export async function startRollbackEndpoint(answers: Array<number | 'hang'> = []): Promise<RollbackEndpoint> {
  const calls: RollbackCall[] = [];
  const done = new Map<string, number>();
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const key = request.headers['idempotency-key'] as string | undefined;
      calls.push({ idempotencyKey: key, headers: request.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') });
      const scripted = answers[calls.length - 1] ?? 200;
      if (scripted === 'hang') {
        if (key && !done.has(key)) done.set(key, 200); // started rolling back; the answer never leaves
        return;
      }
      if (key && done.has(key)) {
        response.writeHead(done.get(key)!, { 'content-type': 'application/json', 'idempotent-replayed': 'true' }).end('{"ok":true}');
        return;
      }
      if (key && scripted < 300) done.set(key, scripted);
      response.writeHead(scripted, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: scripted < 300 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    performed: () => done.size,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
