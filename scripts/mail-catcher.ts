import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { tolerateSenderResets } from './smtp-peer-errors.js';

/**
 * A loopback SMTP server for the local stack: every message is saved as an .eml file and announced
 * on stdout, so the walk-through can show what a reviewer receives. Not for production.
 */
export async function startMailCatcher(options: { port: number; dir: string; announce: (line: string) => void }): Promise<{ close(): Promise<void> }> {
  await mkdir(options.dir, { recursive: true });
  let count = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        const file = join(options.dir, `${Date.now()}-${++count}.eml`);
        Promise.all([simpleParser(raw), writeFile(file, raw)])
          .then(([mail]) => {
            options.announce(`mail to ${session.envelope.rcptTo.map((r) => r.address).join(', ')}: ${mail.subject ?? '(no subject)'} (${file})`);
            callback();
          })
          .catch(callback);
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  tolerateSenderResets(server, (error) => options.announce(`mail catcher: ${error.message}`));
  return { close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
