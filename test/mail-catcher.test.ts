import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startMailCatcher } from '../scripts/mail-catcher.js';
import { freePort } from './helpers/free-port.js';
import { startSmtpSink } from './helpers/smtp-sink.js';

/** Speaks SMTP up to the middle of a message, then resets the connection, as a sender killed mid-send does. */
async function dieMidMessage(port: number): Promise<void> {
  const socket: Socket = connect(port, '127.0.0.1');
  let said = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (said += chunk));
  const answered = async (code: string) => vi.waitFor(() => expect(said).toMatch(new RegExp(`^${code} `, 'm')), { timeout: 5_000 });
  await answered('220');
  socket.write('EHLO dying.example\r\n');
  await answered('250');
  for (const [line, code] of [['MAIL FROM:<escalator@example.com>', '250'], ['RCPT TO:<alice@example.com>', '250'], ['DATA', '354']] as const) {
    said = '';
    socket.write(`${line}\r\n`);
    await answered(code);
  }
  socket.write('Subject: half a message\r\n\r\nand then the sender');
  await new Promise((resolve) => setTimeout(resolve, 50));
  socket.resetAndDestroy();
}

const mail = (port: number, subject: string) =>
  createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true }).sendMail({ from: 'escalator@example.com', to: 'alice@example.com', subject, text: 'still here' });

/**
 * An SMTP server that does not survive a reset throws from its socket's 'error' event: vitest reports
 * that as an unhandled error and the run fails, whichever test is running then.
 */
describe('mail servers outliving a sender that dies mid-message', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((close) => close()));
  });

  it("the stack's mail catcher saves the next message and reports no error for the reset", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mail-catcher-'));
    const port = await freePort();
    const announced: string[] = [];
    const catcher = await startMailCatcher({ port, dir, announce: (line) => announced.push(line) });
    cleanups.push(() => catcher.close(), () => rm(dir, { recursive: true, force: true }));

    // Twice: a server that only survives its first connection error must fail here too.
    await dieMidMessage(port);
    await dieMidMessage(port);
    await mail(port, 'after the reset');

    const files = await readdir(dir);
    expect(files).toHaveLength(1);
    expect(await readFile(join(dir, files[0]!), 'utf8')).toContain('Subject: after the reset');
    expect(announced).toEqual([expect.stringContaining('mail to alice@example.com: after the reset')]);
  });

  it("the tests' SMTP sink does too", async () => {
    const sink = await startSmtpSink();
    cleanups.push(() => sink.close());
    await dieMidMessage(sink.port);
    await dieMidMessage(sink.port);
    await mail(sink.port, 'after the reset');
    const [received] = await sink.waitFor(() => true, 1, 5_000);
    expect(received!.mail.subject).toBe('after the reset');
    expect(sink.received).toHaveLength(1);
  });
});
