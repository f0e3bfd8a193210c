/** A value bound to a `?` placeholder. Booleans are stored as the engine's own boolean (SQLite: 0/1). */
export type SqlValue = string | number | boolean | null;

/**
 * Statements on one connection. SQL is written once for both engines with `?` placeholders; the
 * PostgreSQL adapter numbers them. Integers come back as numbers on both engines.
 */
export interface SqlSession {
  query<Row>(sql: string, params?: readonly SqlValue[]): Promise<Row[]>;
  /** Runs one statement and resolves with the number of rows it inserted, updated or deleted. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
}

export type EngineKind = 'sqlite' | 'postgres';

/** The outcome store's view of a database: the same few operations on SQLite and PostgreSQL. */
export interface SqlEngine extends SqlSession {
  readonly kind: EngineKind;
  /**
   * Runs `work` in one write transaction, committed when it resolves and rolled back when it throws.
   * Transactions holding the same `lock` name never overlap, across processes too (PostgreSQL: an
   * advisory transaction lock; SQLite: every write transaction starts with `BEGIN IMMEDIATE`, which
   * already serialises them). `work` must use the session it is given, never the engine itself: the
   * SQLite engine runs one operation at a time, so calling it from inside would wait forever.
   */
  transaction<T>(work: (tx: SqlSession) => Promise<T>, options?: { lock?: string }): Promise<T>;
  close(): Promise<void>;
}
