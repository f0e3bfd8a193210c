import { randomUUID } from 'node:crypto';
import pg from 'pg';

/** A new, empty database on the test run's PostgreSQL server, so a test starts from no schema at all. */
export async function createDatabase(serverUrl: string): Promise<string> {
  const name = `outcomes_${randomUUID().replaceAll('-', '')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
