import type { SMTPServer } from 'smtp-server';

/**
 * smtp-server re-emits each connection's socket errors on the server, where an unheard 'error'
 * ends the process. A sender that dies mid-message (a worker killed by SIGKILL, as the fault tests
 * and a stack restart do) resets its connection: that is the sender's failure, so it is dropped;
 * any other error goes to `report`.
 */
export function tolerateSenderResets(server: SMTPServer, report: (error: Error) => void): void {
  server.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') report(error);
  });
}
