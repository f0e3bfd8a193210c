import { createServer } from 'node:net';

/**
 * A TCP port free on `host` right now, for a child process that must be told its port in advance
 * (the SDK's Prometheus exporter cannot report a port 0 back). Another process may take it first.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
