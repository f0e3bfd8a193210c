import { createHash } from 'node:crypto';
import pg from 'pg';
import type { SqlEngine, SqlSession, SqlValue } from './engine.js';

const INT8_OID = 20;

/**
 * The outcome store's engine on PostgreSQL, through a small connection pool. Each transaction runs
 * on its own pooled connection, so concurrent calls do not wait for each other unless they share a lock.
 */
export async function openPostgresEngine(connectionString: string): Promise<SqlEngine> {
  const pool = new pg.Pool({
    connectionString,
    max: 4,
    // COUNT(*) and BIGINT columns arrive as strings by default; every value we keep fits a double.
    types: { getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === INT8_OID ? Number : pg.types.getTypeParser(oid, format))) as typeof pg.types.getTypeParser },
  });
  // An idle connection the server drops would otherwise crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  // Fail at open, not at the first activity, when the URL is wrong or the server is down.
  await pool.query('SELECT 1');

  return {
    kind: 'postgres',
    ...sessionOn(pool),
    async transaction(work, options = {}) {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        if (options.lock !== undefined) await client.query('SELECT pg_advisory_xact_lock($1)', [advisoryKey(options.lock)]);
        const result = await work(sessionOn(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch((rollbackError: unknown) => {
          broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
        });
        throw error;
      } finally {
        // A connection whose rollback failed is in an unknown state: destroy it instead of reusing it.
        client.release(broken);
      }
    },
    close: () => pool.end(),
  };
}

function sessionOn(connection: pg.Pool | pg.PoolClient): SqlSession {
  return {
    async query<Row>(sql: string, params: readonly SqlValue[] = []) {
      const result = await connection.query(numberedPlaceholders(sql), [...params]);
      return result.rows as Row[];
    },
    async run(sql, params = []) {
      const result = await connection.query(numberedPlaceholders(sql), [...params]);
      return result.rowCount ?? 0;
    },
    async exec(script) {
      // Without parameters pg uses the simple query protocol, which accepts several statements.
      await connection.query(script);
    },
  };
}

/** `?` placeholders, as the store writes them for both engines, become PostgreSQL's `$1, $2, …`; quoted text is left alone. */
export function numberedPlaceholders(sql: string): string {
  let count = 0;
  return sql.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|\?/g, (match) => (match === '?' ? `$${++count}` : match));
}

/** A stable signed 64-bit key for a lock name, as `pg_advisory_xact_lock(bigint)` wants. */
function advisoryKey(name: string): string {
  return createHash('sha256').update(name).digest().readBigInt64BE(0).toString();
}
