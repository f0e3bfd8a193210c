import { mkdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { sleep } from './process-helpers.js';

/**
 * An exclusive lock on a directory, for builds that concurrent processes (two test files, CI and a
 * developer) must do once: mkdir is atomic, and the owner keeps the directory's mtime fresh, so a lock
 * whose owner died (same host, pid gone) or stopped refreshing it is taken over.
 */

/** A lock whose owner has not refreshed it for this long is considered abandoned. */
const LOCK_STALE_MS = 2 * 60_000;
const LOCK_HEARTBEAT_MS = 10_000;

interface LockOwner {
  pid: number;
  hostname: string;
  startedAt: string;
}

/** Runs `fn` holding the lock `lockDir`; `what` names what is built, for the "waiting" line. */
export async function withBuildLock<T>(lockDir: string, what: string, log: (msg: string) => void, fn: () => Promise<T>): Promise<T> {
  let lastNotice = 0;
  for (;;) {
    try {
      await mkdir(lockDir);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = await readLockOwner(lockDir);
    if (await isLockStale(lockDir, owner)) {
      log(`removing stale lock ${lockDir}${owner ? ` (pid ${owner.pid} on ${owner.hostname})` : ''}`);
      await rm(lockDir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() - lastNotice > 30_000) {
      lastNotice = Date.now();
      log(`waiting for another build of ${what}${owner ? ` (pid ${owner.pid} on ${owner.hostname})` : ''} to finish`);
    }
    await sleep(1000);
  }

  const owner: LockOwner = { pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString() };
  await writeFile(join(lockDir, 'owner.json'), JSON.stringify(owner));
  const heartbeat = setInterval(() => {
    const now = new Date();
    utimes(lockDir, now, now).catch(() => undefined);
  }, LOCK_HEARTBEAT_MS);
  heartbeat.unref();
  try {
    return await fn();
  } finally {
    clearInterval(heartbeat);
    await rm(lockDir, { recursive: true, force: true });
  }
}

async function readLockOwner(lockDir: string): Promise<LockOwner | undefined> {
  try {
    return JSON.parse(await readFile(join(lockDir, 'owner.json'), 'utf8')) as LockOwner;
  } catch {
    return undefined; // not written yet, or the lock was just released
  }
}

async function isLockStale(lockDir: string, owner: LockOwner | undefined): Promise<boolean> {
  if (owner && owner.hostname === hostname() && !isPidAlive(owner.pid)) return true;
  try {
    return Date.now() - (await stat(lockDir)).mtimeMs > LOCK_STALE_MS;
  } catch {
    return false; // released meanwhile; the next mkdir will tell
  }
}

function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
