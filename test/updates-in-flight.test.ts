import { describe, expect, it } from 'vitest';
import { UpdatesInFlight } from '../client/updates-in-flight.js';

/** A send that stays in flight until the test lets it finish. */
function gate<T>(value: T) {
  let release!: () => void;
  let fail!: (error: Error) => void;
  const done = new Promise<T>((resolve, reject) => {
    release = () => resolve(value);
    fail = reject;
  });
  return { send: () => done, release, fail };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('updates in flight per escalation', () => {
  it('keeps at most the limit of one escalation in flight and starts the waiting ones first come, first served', async () => {
    const limit = new UpdatesInFlight(2);
    const sends = [0, 1, 2, 3].map((i) => gate(i));
    const started: number[] = [];
    const results = sends.map((s, i) => limit.run('esc-1', () => (started.push(i), s.send())));
    await settle();
    expect(started).toEqual([0, 1]);
    expect(limit.load('esc-1')).toEqual({ running: 2, waiting: 2 });

    sends[1]!.release();
    await settle();
    expect(started).toEqual([0, 1, 2]);
    sends[0]!.release();
    await settle();
    expect(started).toEqual([0, 1, 2, 3]);
    sends[2]!.release();
    sends[3]!.release();
    expect(await Promise.all(results)).toEqual([0, 1, 2, 3]);
    expect(limit.load('esc-1')).toEqual({ running: 0, waiting: 0 });
  });

  it('never holds one escalation back for another', async () => {
    const limit = new UpdatesInFlight(1);
    const busy = gate('a');
    const first = limit.run('esc-a', busy.send);
    expect(await limit.run('esc-b', async () => 'b')).toBe('b');
    busy.release();
    expect(await first).toBe('a');
  });

  it('frees the place of a send that failed, and passes its error to its caller only', async () => {
    const limit = new UpdatesInFlight(1);
    const failing = gate('never');
    const failed = limit.run('esc-1', failing.send);
    const next = limit.run('esc-1', async () => 'next');
    failing.fail(new Error('refused'));
    await expect(failed).rejects.toThrow('refused');
    expect(await next).toBe('next');
    expect(limit.load('esc-1')).toEqual({ running: 0, waiting: 0 });
  });

  it('refuses a limit that is not a whole number of at least one', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => new UpdatesInFlight(bad)).toThrow(RangeError);
  });
});
