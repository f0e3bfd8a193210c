import type { EngineKind, SqlEngine } from './engine.js';

/**
 * One schema change. `sql` is a script written to run on both engines, or one script per engine
 * where their types differ. A migration is never edited once released: change the schema with a new one.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string | Record<EngineKind, string>;
}

// Timestamps are ISO 8601 UTC text (the store normalises them with toISOString), so text order is time
// order on both engines and values read back exactly as the workflow wrote them.
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'escalations and their timeline events',
    sql: `
      CREATE TABLE escalations (
        escalation_id  TEXT PRIMARY KEY,
        gate           TEXT NOT NULL,
        service        TEXT NOT NULL,
        repository     TEXT,
        severity       TEXT NOT NULL,
        model          TEXT,
        policy_version TEXT,
        started_at     TEXT NOT NULL,
        ended_at       TEXT,
        outcome        TEXT,
        reason         TEXT,
        depth          INTEGER NOT NULL DEFAULT 0,
        postmortem     BOOLEAN NOT NULL DEFAULT FALSE
      );
      CREATE INDEX escalations_by_scope ON escalations (gate, service, ended_at);

      CREATE TABLE escalation_events (
        escalation_id TEXT NOT NULL REFERENCES escalations (escalation_id),
        seq           INTEGER NOT NULL,
        at            TEXT NOT NULL,
        kind          TEXT NOT NULL,
        actor         TEXT,
        detail        TEXT NOT NULL,
        PRIMARY KEY (escalation_id, seq)
      );
    `,
  },
  {
    version: 2,
    name: 'decisions with response times, and who each open escalation awaits',
    sql: `
      CREATE TABLE decisions (
        escalation_id TEXT NOT NULL REFERENCES escalations (escalation_id),
        seq           INTEGER NOT NULL,
        reviewer      TEXT NOT NULL,
        decision      TEXT NOT NULL,
        channel       TEXT NOT NULL,
        comment       TEXT,
        step          INTEGER NOT NULL,
        asked_at      TEXT,
        decided_at    TEXT NOT NULL,
        response_ms   BIGINT,
        PRIMARY KEY (escalation_id, seq)
      );
      CREATE INDEX decisions_by_reviewer ON decisions (reviewer, decided_at);

      CREATE TABLE awaiting (
        escalation_id TEXT NOT NULL REFERENCES escalations (escalation_id),
        reviewer      TEXT NOT NULL,
        since         TEXT NOT NULL,
        PRIMARY KEY (escalation_id, reviewer)
      );
      CREATE INDEX awaiting_by_reviewer ON awaiting (reviewer);
    `,
  },
  {
    version: 3,
    name: 'refused decision attempts',
    // No foreign key: a refusal may name an escalation the store has not heard of yet, or none at all.
    sql: {
      sqlite: `
        CREATE TABLE refusals (
          id            INTEGER PRIMARY KEY,
          escalation_id TEXT NOT NULL,
          at            TEXT NOT NULL,
          actor         TEXT NOT NULL,
          code          TEXT NOT NULL,
          message       TEXT NOT NULL,
          channel       TEXT NOT NULL
        );
        CREATE INDEX refusals_by_escalation ON refusals (escalation_id, at);
      `,
      postgres: `
        CREATE TABLE refusals (
          id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          escalation_id TEXT NOT NULL,
          at            TEXT NOT NULL,
          actor         TEXT NOT NULL,
          code          TEXT NOT NULL,
          message       TEXT NOT NULL,
          channel       TEXT NOT NULL
        );
        CREATE INDEX refusals_by_escalation ON refusals (escalation_id, at);
      `,
    },
  },
  {
    version: 4,
    name: 'email action tokens already used',
    // Single use across shim replicas and restarts; rows are pruned once the token has expired.
    sql: `
      CREATE TABLE used_action_tokens (
        token_id   TEXT PRIMARY KEY,
        expires_at TEXT NOT NULL,
        used_at    TEXT NOT NULL
      );
      CREATE INDEX used_action_tokens_by_expiry ON used_action_tokens (expires_at);
    `,
  },
  {
    version: 5,
    name: 'CI webhook deliveries already taken',
    // GitHub and GitLab redeliver with the same delivery id; a replay is refused across shim replicas and restarts.
    sql: `
      CREATE TABLE webhook_deliveries (
        source      TEXT NOT NULL,
        delivery_id TEXT NOT NULL,
        received_at TEXT NOT NULL,
        PRIMARY KEY (source, delivery_id)
      );
      CREATE INDEX webhook_deliveries_by_time ON webhook_deliveries (received_at);
    `,
  },
  {
    version: 6,
    name: 'escalations by start, for metrics over a window',
    sql: `CREATE INDEX escalations_by_start ON escalations (started_at);`,
  },
  {
    version: 7,
    name: 'satisfaction ratings, and the change author to ask for one',
    // A row per person asked: asking inserts it (once, however often the outcome is recorded), rating
    // fills it in (once). The change author is kept from the policy snapshot on, since the outcome does
    // not carry it; no foreign key there, because the snapshot comes before the escalation's first row.
    sql: `
      CREATE TABLE ratings (
        escalation_id TEXT NOT NULL REFERENCES escalations (escalation_id),
        rater         TEXT NOT NULL,
        asked_at      TEXT NOT NULL,
        rating        INTEGER CHECK (rating BETWEEN 1 AND 5),
        comment       TEXT,
        rated_at      TEXT,
        PRIMARY KEY (escalation_id, rater)
      );

      CREATE TABLE change_authors (
        escalation_id TEXT PRIMARY KEY,
        author        TEXT NOT NULL
      );
    `,
  },
  {
    version: 8,
    name: 'the changed files of each escalation, for path expertise',
    // Kept from the policy snapshot on, like the author: Dynamic routing learns who reviews which paths from it.
    sql: `
      CREATE TABLE changed_files (
        escalation_id TEXT PRIMARY KEY,
        repository    TEXT NOT NULL,
        files         TEXT NOT NULL
      );
    `,
  },
  {
    version: 9,
    name: 'routing features per routed escalation, and the routing models fitted on them',
    // Features: one row per routed escalation, written by the routing activity (a retry overwrites it),
    // with every candidate's factor values: what learning fits on and what a model is measured on.
    // Models: one row per retraining (one per period, so a retried retraining finds its row); routing
    // uses the latest kept one. Who was asked and reassigned stays in escalation_events. The indexes
    // let routing read only the decisions since it last looked, and count a service's history.
    sql: `
      CREATE TABLE routing_features (
        escalation_id TEXT PRIMARY KEY,
        routed_at     TEXT NOT NULL,
        model         TEXT NOT NULL,
        factors       TEXT NOT NULL,
        candidates    TEXT NOT NULL
      );
      CREATE INDEX routing_features_by_time ON routing_features (routed_at);
      CREATE INDEX decisions_by_time ON decisions (decided_at);
      CREATE INDEX escalations_by_service ON escalations (service, ended_at);

      CREATE TABLE routing_models (
        version     INTEGER PRIMARY KEY,
        period_to   TEXT NOT NULL UNIQUE,
        fitted_at   TEXT NOT NULL,
        kept        INTEGER NOT NULL,
        weights     TEXT NOT NULL,
        report      TEXT NOT NULL
      );
    `,
  },
];

/**
 * Applies the migrations the database has not seen, in version order, in one transaction, and
 * records each in `schema_migrations`. Safe to run from several processes at once: they take turns,
 * and the later ones find nothing left to do. Versions recorded by newer code are left alone, so an
 * older worker keeps running during a rolling deploy. Resolves with the versions this call applied.
 */
export async function applyMigrations(engine: SqlEngine, list: readonly Migration[] = migrations): Promise<number[]> {
  return engine.transaction(
    async (tx) => {
      await tx.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
      const rows = await tx.query<{ version: number }>('SELECT version FROM schema_migrations');
      const seen = new Set(rows.map((row) => row.version));
      const applied: number[] = [];
      for (const migration of [...list].sort((a, b) => a.version - b.version)) {
        if (seen.has(migration.version)) continue;
        await tx.exec(typeof migration.sql === 'string' ? migration.sql : migration.sql[engine.kind]);
        await tx.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [migration.version, migration.name, new Date().toISOString()]);
        applied.push(migration.version);
      }
      return applied;
    },
    { lock: 'escalator.schema_migrations' },
  );
}

/** The highest migration version applied to the database; 0 before the first migration. */
export async function schemaVersion(engine: SqlEngine): Promise<number> {
  const [table] = await engine.query<{ present: number }>(
    engine.kind === 'sqlite'
      ? "SELECT COUNT(*) AS present FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
      : "SELECT COUNT(*) AS present FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'schema_migrations'",
  );
  if (!table?.present) return 0;
  const [row] = await engine.query<{ version: number | null }>('SELECT MAX(version) AS version FROM schema_migrations');
  return row?.version ?? 0;
}
