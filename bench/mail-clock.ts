import { SMTPServer } from 'smtp-server';
import { tolerateSenderResets } from '../scripts/smtp-peer-errors.js';

/**
 * An SMTP server on loopback that keeps only when the first message of each escalation was
 * accepted (by its X-Escalation-Id header): no parsing and no stored mail, so it adds little to the
 * RSS of the worker it shares a process with.
 */
export interface MailClock {
  url: string;
  accepted: number;
  /** Resolves with the time (epoch ms) the first mail of `escalationId` was accepted. */
  firstMail(escalationId: string): Promise<number>;
  close(): Promise<void>;
}

export async function startMailClock(): Promise<MailClock> {
  const firstAt = new Map<string, number>();
  const waiting = new Map<string, Array<(at: number) => void>>();
  let accepted = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      let head = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        if (!head.includes('\r\n\r\n')) head += chunk;
      });
      stream.on('end', () => {
        const at = Date.now();
        accepted++;
        const id = /^X-Escalation-Id:\s*(\S+)/im.exec(head.replace(/\r\n[ \t]+/g, ' '))?.[1];
        if (id !== undefined && !firstAt.has(id)) {
          firstAt.set(id, at);
          waiting.get(id)?.forEach((wake) => wake(at));
          waiting.delete(id);
        }
        callback();
      });
    },
  });
  tolerateSenderResets(server, (error) => process.stderr.write(`mail clock: ${error.message}\n`));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as { port: number };
  return {
    url: `smtp://127.0.0.1:${port}`,
    get accepted() {
      return accepted;
    },
    firstMail(escalationId) {
      const at = firstAt.get(escalationId);
      if (at !== undefined) return Promise.resolve(at);
      return new Promise((resolve) => waiting.set(escalationId, [...(waiting.get(escalationId) ?? []), resolve]));
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
