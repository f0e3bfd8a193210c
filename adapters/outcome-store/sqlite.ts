import { realpathSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { SqlEngine, SqlSession, SqlValue } from './engine.js';

/** How long a statement waits for another process's write transaction before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 10_000;

/**
 * The outcome store's engine on a SQLite file (created with its parent directory), in WAL mode so
 * readers never wait for the writer. Safe to open several times on the same file, in one process or many.
 */
export async function openSqliteEngine(file: string): Promise<SqlEngine> {
  await mkdir(dirname(resolve(file)), { recursive: true });
  const db = new Database(file);
  try {
    // Before journal_mode: switching a fresh file to WAL takes a lock another opener may hold.
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
  } catch (error) {
    db.close();
    throw error;
  }
  const inTurn = turnsFor(realpathSync(file));

  const session: SqlSession = {
    query: async <Row>(sql: string, params: readonly SqlValue[] = []) => db.prepare(sql).all(...bindable(params)) as Row[],
    run: async (sql, params = []) => db.prepare(sql).run(...bindable(params)).changes,
    exec: async (script) => void db.exec(script),
  };

  return {
    kind: 'sqlite',
    query: (sql, params) => inTurn(() => session.query(sql, params)),
    run: (sql, params) => inTurn(() => session.run(sql, params)),
    exec: (script) => inTurn(() => session.exec(script)),
    transaction: (work) =>
      inTurn(async () => {
        // IMMEDIATE takes the write lock up front: a deferred transaction that reads and then writes
        // fails with SQLITE_BUSY_SNAPSHOT when another process wrote in between, and busy_timeout cannot help.
        db.exec('BEGIN IMMEDIATE');
        try {
          const result = await work(session);
          db.exec('COMMIT');
          return result;
        } catch (error) {
          if (db.inTransaction) db.exec('ROLLBACK');
          throw error;
        }
      }),
    close: () => inTurn(async () => void db.close()),
  };
}

function bindable(params: readonly SqlValue[]): Array<string | number | null> {
  return params.map((value) => (typeof value === 'boolean' ? Number(value) : value));
}

const queues = new Map<string, Promise<unknown>>();

/**
 * One operation at a time per database file in this process. better-sqlite3 is synchronous: a
 * second connection's `BEGIN IMMEDIATE` would block the event loop in busy_timeout while the first
 * connection's transaction waits on that same loop to commit. Other processes are kept out by SQLite's lock.
 */
function turnsFor(file: string) {
  return function inTurn<T>(operation: () => Promise<T>): Promise<T> {
    const result = (queues.get(file) ?? Promise.resolve()).then(operation);
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    queues.set(file, settled);
    void settled.then(() => {
      if (queues.get(file) === settled) queues.delete(file);
    });
    return result;
  };
}
