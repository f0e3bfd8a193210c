import { createServer, type Server, type Socket, connect } from 'node:net';

/** A TCP proxy in front of a server, whose link a test can cut and restore: a network drop. */
export interface TcpProxy {
  /** host:port to connect to instead of the target. */
  address: string;
  /** Drops every open connection and refuses new ones until `restore`. */
  cut(): Promise<void>;
  /** Accepts connections again, on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const [host, port] = splitAddress(target);
  const sockets = new Set<Socket>();
  const serve = (): Server =>
    createServer((client) => {
      const upstream = connect(port, host);
      sockets.add(client).add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream).pipe(client);
    });
  let server = serve();
  const listen = (listenPort: number) => new Promise<void>((resolve, reject) => server.once('error', reject).listen(listenPort, '127.0.0.1', () => resolve()));
  await listen(0);
  const proxyPort = (server.address() as { port: number }).port;
  const stop = async () => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    address: `127.0.0.1:${proxyPort}`,
    cut: stop,
    async restore() {
      server = serve();
      await listen(proxyPort);
    },
    close: () => (server.listening ? stop() : Promise.resolve()),
  };
}

function splitAddress(address: string): [string, number] {
  const at = address.lastIndexOf(':');
  return [address.slice(0, at), Number(address.slice(at + 1))];
}
