import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { tolerateSenderResets } from '../../scripts/smtp-peer-errors.js';

export interface ReceivedMail {
  envelopeTo: string[];
  mail: ParsedMail;
}

/** A real SMTP server on loopback that keeps every message it accepts. */
export interface SmtpSink {
  port: number;
  url: string;
  received: ReceivedMail[];
  /** Resolves once `count` messages matching `predicate` arrived, or rejects after `timeoutMs`. */
  waitFor(predicate: (mail: ReceivedMail) => boolean, count?: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

/**
 * `refuseFirst`: answer that many messages with a temporary 451, as a busy relay does.
 * `refuseFirstTo`: the same, per recipient address: its first n messages get a 451.
 * `holdFirst`: never answer that many messages (after refused ones), as a relay that hangs does;
 * `held` counts them as they arrive.
 */
export async function startSmtpSink(options: { refuseFirst?: number; holdFirst?: number; refuseFirstTo?: Record<string, number> } = {}): Promise<SmtpSink & { refused: number; held: number }> {
  const refusalsLeft = new Map(Object.entries(options.refuseFirstTo ?? {}));
  const received: ReceivedMail[] = [];
  let refused = 0;
  let held = 0;
  const waiters = new Set<() => void>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const recipient = session.envelope.rcptTo.map((r) => r.address).find((address) => (refusalsLeft.get(address) ?? 0) > 0);
      if (recipient !== undefined || refused < (options.refuseFirst ?? 0)) {
        if (recipient !== undefined) refusalsLeft.set(recipient, refusalsLeft.get(recipient)! - 1);
        refused++;
        stream.resume();
        stream.on('end', () => callback(Object.assign(new Error('try again later'), { responseCode: 451 })));
        return;
      }
      if (held < (options.holdFirst ?? 0)) {
        held++;
        stream.resume();
        return; // no answer: the sender waits until it gives up or dies
      }
      simpleParser(stream)
        .then((mail) => {
          received.push({ envelopeTo: session.envelope.rcptTo.map((r) => r.address), mail });
          waiters.forEach((wake) => wake());
          callback();
        })
        .catch(callback);
    },
  });
  tolerateSenderResets(server, (error) => console.error('smtp sink:', error));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as { port: number };
  return {
    get refused() {
      return refused;
    },
    get held() {
      return held;
    },
    port,
    url: `smtp://127.0.0.1:${port}`,
    received,
    waitFor(predicate, count = 1, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const matching = received.filter(predicate);
          if (matching.length >= count) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(matching);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`expected ${count} matching mail(s) within ${timeoutMs} ms, got ${received.filter(predicate).length} of ${received.length}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
