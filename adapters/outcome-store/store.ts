import type { Decision, EscalationOutcome, OutcomeKind, TimelineEntry } from '../../domain/escalation.js';
import type { Ratings } from '../../domain/metrics/compute.js';
import { type EscalationFacts, metricEventKinds } from '../../domain/metrics/facts.js';
import type { EngineKind, SqlEngine, SqlSession, SqlValue } from './engine.js';
import { applyMigrations, schemaVersion } from './migrations.js';
import { openPostgresEngine } from './postgres.js';
import { reviewFacts, type DecisionFact } from './review-facts.js';
import type { RoutingExample } from '../../domain/routing-model/fit.js';
import { routingExample, type RoutingFeatures } from '../../domain/routing-model/examples.js';
import type { RoutingModel } from '../../domain/routing-model/model.js';
import type { RetrainingReport } from '../../domain/routing-model/retrain.js';
import { openSqliteEngine } from './sqlite.js';

/** A batch of timeline entries of one escalation, with what the store keeps about the escalation itself. */
export interface EscalationEvents {
  escalationId: string;
  gate: string;
  service: string;
  repository: string;
  severity: string;
  model: string;
  startedAt: string;
  policyVersion: string | null;
  /** The seq of `entries[0]` (its index in the escalation's timeline); entry i gets `fromSeq + i`. */
  fromSeq: number;
  entries: TimelineEntry[];
  /** Decisions taken so far (all or only the batch's); they supply the comments `decided` entries lack. */
  decisions: Decision[];
}

/** A refused decision attempt: who tried, through which channel, and the refusal's code and message. */
export interface RefusalInput {
  escalationId: string;
  at: string;
  actor: string;
  code: string;
  message: string;
  channel: string;
}

export interface StoredRefusal extends RefusalInput {
  id: number;
}

/** One stored timeline entry: `kind` is its `event`, `actor` its reviewer or `by`, `detail` the rest of its fields. */
export interface StoredEvent {
  seq: number;
  at: string;
  kind: string;
  actor: string | null;
  detail: unknown;
}

/** A decision with its response time: from the last assignment of that reviewer before it to the decision. */
export type StoredDecision = DecisionFact;

/** The `escalations` row: what was escalated, and once it has ended, how it ended. */
export interface EscalationRecord {
  escalationId: string;
  gate: string;
  service: string;
  /** Null when only the outcome was recorded (it does not carry the repository). */
  repository: string | null;
  severity: string;
  /** Null when the escalation ended before a policy was snapshotted. */
  model: string | null;
  policyVersion: string | null;
  startedAt: string;
  endedAt: string | null;
  outcome: OutcomeKind | null;
  reason: string | null;
  depth: number;
  postmortem: boolean;
}

/** A person's answer to a rating request; `at` is when they gave it. */
export interface RatingInput {
  escalationId: string;
  rater: string;
  /** 1 to 5. */
  rating: number;
  comment: string | null;
  at: string;
}

/** `not-asked`: nobody asked this person to rate this escalation, so there is nothing to record. */
export type RatingResult = 'recorded' | 'already-rated' | 'not-asked';

/** One person asked to rate one ended escalation; the rating fields are null until they answered. */
export interface RatingRequestRecord {
  escalationId: string;
  rater: string;
  askedAt: string;
  rating: number | null;
  comment: string | null;
  ratedAt: string | null;
}

/** One approval or rejection as routing learns it, with where it was given and what the change touched. */
export interface FedDecision {
  escalationId: string;
  reviewer: string;
  decision: 'approve' | 'reject';
  gate: string;
  service: string;
  /** `<repository>/<file>`; empty when the escalation's changed files were not kept. */
  paths: string[];
  /** Epoch ms of `decidedAt`. */
  at: number;
  decidedAt: string;
  responseMs: number | null;
}

export interface ResponseStats {
  /** Decisions the reviewer took in scope. */
  decisions: number;
  /** Median milliseconds from being asked to deciding, over the decisions whose assignment is known; null if none. */
  medianResponseMs: number | null;
}

/**
 * Every escalation's timeline, decisions and outcome, in SQL. All writes are idempotent, so an
 * activity may retry any of them. Timestamps are stored and returned as ISO 8601 UTC with milliseconds.
 * Call `migrate()` once before anything else.
 */
export interface OutcomeStore {
  readonly engine: EngineKind;
  /** Brings the schema up to date; safe to call from several processes at once. */
  migrate(): Promise<void>;
  /** The highest migration version applied to the database; 0 before `migrate()`. */
  schemaVersion(): Promise<number>;
  /**
   * Stores a batch of timeline entries (each seq once, however often the call is retried), creates
   * or refreshes the escalation's row, and derives its decisions and awaited reviewers from the
   * timeline stored so far, all in one transaction. A seq already stored keeps its first entry: this
   * is the live view, which `recordOutcome` replaces with the escalation's final timeline.
   */
  recordEvents(input: EscalationEvents): Promise<void>;
  /**
   * Records how the escalation ended and replaces the stored timeline with the outcome's
   * (`outcome.timeline[i]` is seq i); a repeated call changes nothing, and a later call (a later
   * workflow-task attempt, the one that lasts) wins. Stops counting the escalation as awaiting anyone.
   */
  recordOutcome(outcome: EscalationOutcome): Promise<void>;
  /** Appends a refused decision attempt. Not deduplicated: each call is one attempt. */
  recordRefusal(refusal: RefusalInput): Promise<void>;
  /** Marks an email action token used: `fresh` the first time, `replayed` ever after (until it expired and was pruned). */
  consumeActionToken(tokenId: string, expiresAt: Date, now?: Date): Promise<'fresh' | 'replayed'>;
  /** Whether an email action token was used already. */
  actionTokenUsed(tokenId: string): Promise<boolean>;
  /** Whether a webhook delivery (by its source, `github` or `gitlab`, and delivery id) was taken already. */
  deliveryTaken(source: string, deliveryId: string): Promise<boolean>;
  /**
   * Marks a webhook delivery taken once it was acted on: `fresh` the first time, `replayed` after.
   * Deliveries older than 30 days are pruned: GitHub offers redelivery for 3 days.
   */
  takeDelivery(source: string, deliveryId: string, now?: Date): Promise<'fresh' | 'replayed'>;
  /**
   * Per reviewer asked about (every one gets an entry): their decision count and median response
   * time, optionally only for one gate and/or service and for decisions taken at or after `since`.
   */
  responseStats(reviewers: string[], options?: { gate?: string; service?: string; since?: string }): Promise<Record<string, ResponseStats>>;
  /** Per reviewer asked about: how many open escalations await them now. */
  currentLoad(reviewers: string[]): Promise<Record<string, number>>;
  /**
   * How many escalations have ended in the scope (all when empty): too few means no history to route
   * on yet. With `upTo`, counting stops there (routing only asks whether there are enough).
   */
  historySize(scope: { gate?: string; service?: string }, upTo?: number): Promise<number>;
  /** The stored timeline in seq order; empty for an unknown escalation. */
  timeline(escalationId: string): Promise<StoredEvent[]>;
  /** The stored decisions in seq order; empty for an unknown escalation. */
  decisions(escalationId: string): Promise<StoredDecision[]>;
  /** The refused attempts in time order. */
  refusals(escalationId: string): Promise<StoredRefusal[]>;
  escalation(escalationId: string): Promise<EscalationRecord | undefined>;
  /** The escalations raised in [from, to) (ISO 8601), with the timeline entries metrics read: two queries, whatever the count. */
  metricFacts(range: { from: string; to: string }): Promise<EscalationFacts[]>;
  /** Keeps the change's author as the failure named it (a login, email or handle); the first call for an escalation wins. */
  recordChangeAuthor(escalationId: string, author: string): Promise<void>;
  /** Keeps the files an escalation's change touched (first write wins), for path expertise. */
  recordChangedFiles(escalationId: string, repository: string, files: readonly string[]): Promise<void>;
  /**
   * Every approval or rejection decided at or after `after` (ISO 8601; all when null), oldest first,
   * with its gate, service, response time and the change's paths (`<repository>/<file>`, so two
   * repositories' `src/` never mix). Routing reads it incrementally.
   */
  decisionFeed(after: string | null): Promise<FedDecision[]>;
  /** Keeps what routing saw for one escalation (a retried routing overwrites it). */
  recordRoutingFeatures(features: RoutingFeatures): Promise<void>;
  /** The escalations routed in [from, to) with who turned out right, as learning reads them, oldest first. */
  routingExamples(range: { from: string; to: string }): Promise<RoutingExample[]>;
  /**
   * Keeps a retraining's report, numbering its model `fit-<n>`; a second report for the same period
   * (a retried retraining) is not kept and the first is returned.
   */
  saveRetraining(report: RetrainingReport): Promise<RetrainingReport>;
  /** The model routing uses: the latest one a retraining kept; undefined before any was. */
  currentRoutingModel(): Promise<RoutingModel | undefined>;
  /** The latest retrainings, newest first. */
  retrainings(limit: number): Promise<RetrainingReport[]>;
  /** The change author kept by `recordChangeAuthor`; undefined for escalations started before it was kept. */
  changeAuthor(escalationId: string): Promise<string | undefined>;
  /**
   * Marks people as asked to rate an ended escalation (recorded already) at `at`, and resolves with
   * those not asked before, in the order given: a retried or repeated call asks nobody twice.
   */
  askForRatings(escalationId: string, raters: readonly string[], at: string): Promise<string[]>;
  /**
   * Records a person's 1–5 rating and optional comment, once: `already-rated` when they answered
   * before (whichever of their links they used), `not-asked` when they were never asked. Atomic: of
   * two concurrent calls for one person, exactly one is `recorded`.
   */
  recordRating(rating: RatingInput): Promise<RatingResult>;
  /** One person's rating request for an escalation, answered or not; undefined when they were not asked. */
  ratingRequest(escalationId: string, rater: string): Promise<RatingRequestRecord | undefined>;
  /** Who was asked and what they rated, for the escalations raised in [from, to) (ISO 8601), as the metrics report reads them. */
  ratings(range: { from: string; to: string }): Promise<Ratings>;
  close(): Promise<void>;
}

/**
 * Opens the outcome store on PostgreSQL when `databaseUrl` is a `postgres://` or `postgresql://`
 * URL (the server must be reachable), otherwise on the SQLite `sqliteFile` (created, with its parent
 * directory, if missing). Any other non-empty `databaseUrl` is a configuration mistake and throws.
 */
export async function openOutcomeStore(options: { databaseUrl?: string; sqliteFile: string }): Promise<OutcomeStore> {
  const url = options.databaseUrl?.trim();
  if (!url) return outcomeStoreOn(await openSqliteEngine(options.sqliteFile));
  if (!/^postgres(ql)?:\/\//i.test(url)) throw new Error(`the outcome store's database URL must start with postgres:// or postgresql:// (got ${url.split(':')[0]}:)`);
  return outcomeStoreOn(await openPostgresEngine(url));
}

function outcomeStoreOn(engine: SqlEngine): OutcomeStore {
  return {
    engine: engine.kind,

    async migrate() {
      await applyMigrations(engine);
    },

    schemaVersion: () => schemaVersion(engine),

    recordEvents: (input) =>
      engine.transaction(
        async (tx) => {
          await tx.run(
            `INSERT INTO escalations (escalation_id, gate, service, repository, severity, model, policy_version, started_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (escalation_id) DO UPDATE SET
               gate = excluded.gate, service = excluded.service, repository = excluded.repository, severity = excluded.severity,
               model = excluded.model, policy_version = COALESCE(excluded.policy_version, escalations.policy_version)`,
            [input.escalationId, input.gate, input.service, input.repository, input.severity, input.model, input.policyVersion, instant(input.startedAt)],
          );
          await storeEntries(tx, input.escalationId, input.fromSeq, input.entries);
          await refreshReviewState(tx, input.escalationId, input.decisions);
        },
        { lock: escalationLock(input.escalationId) },
      ),

    recordOutcome: (outcome) =>
      engine.transaction(
        async (tx) => {
          await tx.run(
            `INSERT INTO escalations (escalation_id, gate, service, severity, model, policy_version, started_at, ended_at, outcome, reason, depth, postmortem)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (escalation_id) DO UPDATE SET
               ended_at = excluded.ended_at, outcome = excluded.outcome, reason = excluded.reason, depth = excluded.depth,
               postmortem = excluded.postmortem, policy_version = COALESCE(escalations.policy_version, excluded.policy_version)`,
            [
              outcome.escalationId,
              outcome.gate,
              outcome.service,
              outcome.severity,
              // Outcomes recorded before the model was part of them (replayed histories) still have the snapshot.
              outcome.model ?? snapshottedModel(outcome.timeline),
              outcome.policyVersion,
              instant(outcome.startedAt),
              instant(outcome.endedAt),
              outcome.outcome,
              outcome.reason,
              outcome.depth,
              outcome.postmortem,
            ],
          );
          // The outcome's timeline is the workflow's result. Entries written while the escalation ran,
          // and an outcome from a workflow-task attempt that failed after this local activity ran, may
          // differ in order: a replayed task can interleave update handlers and activity results
          // differently. The last call is the durable attempt's, so it replaces them.
          await tx.run('DELETE FROM decisions WHERE escalation_id = ?', [outcome.escalationId]);
          await tx.run('DELETE FROM escalation_events WHERE escalation_id = ?', [outcome.escalationId]);
          await storeEntries(tx, outcome.escalationId, 0, outcome.timeline);
          await refreshReviewState(tx, outcome.escalationId, outcome.decisions);
        },
        { lock: escalationLock(outcome.escalationId) },
      ),

    async consumeActionToken(tokenId, expiresAt, now = new Date()) {
      await engine.run('DELETE FROM used_action_tokens WHERE expires_at < ?', [now.toISOString()]);
      const inserted = await engine.run('INSERT INTO used_action_tokens (token_id, expires_at, used_at) VALUES (?, ?, ?) ON CONFLICT (token_id) DO NOTHING', [
        tokenId,
        expiresAt.toISOString(),
        now.toISOString(),
      ]);
      return inserted === 1 ? 'fresh' : 'replayed';
    },

    async actionTokenUsed(tokenId) {
      const rows = await engine.query<{ token_id: string }>('SELECT token_id FROM used_action_tokens WHERE token_id = ?', [tokenId]);
      return rows.length > 0;
    },

    async deliveryTaken(source, deliveryId) {
      const rows = await engine.query<{ delivery_id: string }>('SELECT delivery_id FROM webhook_deliveries WHERE source = ? AND delivery_id = ?', [source, deliveryId]);
      return rows.length > 0;
    },

    async takeDelivery(source, deliveryId, now = new Date()) {
      await engine.run('DELETE FROM webhook_deliveries WHERE received_at < ?', [new Date(now.getTime() - 30 * 86_400_000).toISOString()]);
      const inserted = await engine.run('INSERT INTO webhook_deliveries (source, delivery_id, received_at) VALUES (?, ?, ?) ON CONFLICT (source, delivery_id) DO NOTHING', [source, deliveryId, now.toISOString()]);
      return inserted > 0 ? 'fresh' : 'replayed';
    },

    async recordRefusal(refusal) {
      await engine.run('INSERT INTO refusals (escalation_id, at, actor, code, message, channel) VALUES (?, ?, ?, ?, ?, ?)', [
        refusal.escalationId,
        instant(refusal.at),
        refusal.actor,
        refusal.code,
        refusal.message,
        refusal.channel,
      ]);
    },

    async responseStats(reviewers, options = {}) {
      const stats: Record<string, ResponseStats> = {};
      const wanted = [...new Set(reviewers)];
      if (wanted.length === 0) return stats;
      const filters = whereAll([
        [`d.reviewer IN (${placeholders(wanted)})`, wanted],
        ['e.gate = ?', options.gate],
        ['e.service = ?', options.service],
        ['d.decided_at >= ?', options.since === undefined ? undefined : instant(options.since)],
      ]);
      const rows = await engine.query<{ reviewer: string; response_ms: number | null }>(
        `SELECT d.reviewer, d.response_ms FROM decisions d JOIN escalations e ON e.escalation_id = d.escalation_id ${filters.sql}`,
        filters.params,
      );
      for (const reviewer of wanted) {
        const mine = rows.filter((row) => row.reviewer === reviewer);
        stats[reviewer] = { decisions: mine.length, medianResponseMs: median(mine.flatMap((row) => (row.response_ms === null ? [] : [row.response_ms]))) };
      }
      return stats;
    },

    async currentLoad(reviewers) {
      const wanted = [...new Set(reviewers)];
      const load: Record<string, number> = Object.fromEntries(wanted.map((reviewer) => [reviewer, 0]));
      if (wanted.length === 0) return load;
      const rows = await engine.query<{ reviewer: string; n: number }>(
        `SELECT reviewer, COUNT(*) AS n FROM awaiting WHERE reviewer IN (${placeholders(wanted)}) GROUP BY reviewer`,
        wanted,
      );
      for (const row of rows) load[row.reviewer] = row.n;
      return load;
    },

    async historySize(scope, upTo) {
      const filters = whereAll([
        ['ended_at IS NOT NULL', []],
        ['gate = ?', scope.gate],
        ['service = ?', scope.service],
      ]);
      const [row] =
        upTo === undefined
          ? await engine.query<{ n: number }>(`SELECT COUNT(*) AS n FROM escalations ${filters.sql}`, filters.params)
          : await engine.query<{ n: number }>(`SELECT COUNT(*) AS n FROM (SELECT 1 FROM escalations ${filters.sql} LIMIT ?) AS enough`, [...filters.params, upTo]);
      return Number(row?.n ?? 0);
    },

    async timeline(escalationId) {
      const rows = await engine.query<EventRow>('SELECT seq, at, kind, actor, detail FROM escalation_events WHERE escalation_id = ? ORDER BY seq', [escalationId]);
      return rows.map((row) => ({ seq: row.seq, at: row.at, kind: row.kind, actor: row.actor, detail: JSON.parse(row.detail) as unknown }));
    },

    async decisions(escalationId) {
      const rows = await engine.query<DecisionRow>(
        'SELECT seq, reviewer, decision, channel, comment, step, asked_at, decided_at, response_ms FROM decisions WHERE escalation_id = ? ORDER BY seq',
        [escalationId],
      );
      return rows.map((row) => ({
        seq: row.seq,
        reviewer: row.reviewer,
        decision: row.decision as StoredDecision['decision'],
        channel: row.channel as StoredDecision['channel'],
        comment: row.comment,
        step: row.step,
        askedAt: row.asked_at,
        decidedAt: row.decided_at,
        responseMs: row.response_ms,
      }));
    },

    async refusals(escalationId) {
      const rows = await engine.query<{ id: number; escalation_id: string; at: string; actor: string; code: string; message: string; channel: string }>(
        'SELECT id, escalation_id, at, actor, code, message, channel FROM refusals WHERE escalation_id = ? ORDER BY at, id',
        [escalationId],
      );
      return rows.map(({ escalation_id, ...rest }) => ({ escalationId: escalation_id, ...rest }));
    },

    async escalation(escalationId) {
      const [row] = await engine.query<EscalationRow>('SELECT * FROM escalations WHERE escalation_id = ?', [escalationId]);
      if (!row) return undefined;
      return {
        escalationId: row.escalation_id,
        gate: row.gate,
        service: row.service,
        repository: row.repository,
        severity: row.severity,
        model: row.model,
        policyVersion: row.policy_version,
        startedAt: row.started_at,
        endedAt: row.ended_at,
        outcome: row.outcome as OutcomeKind | null,
        reason: row.reason,
        depth: row.depth,
        // SQLite has no boolean type and answers 0/1.
        postmortem: Boolean(row.postmortem),
      };
    },

    async metricFacts({ from, to }) {
      const bounds = [instant(from), instant(to)];
      const rows = await engine.query<EscalationRow>('SELECT * FROM escalations WHERE started_at >= ? AND started_at < ? ORDER BY started_at, escalation_id', bounds);
      const kinds = metricEventKinds.map(() => '?').join(', ');
      const events = await engine.query<EventRow & { escalation_id: string }>(
        `SELECT e.escalation_id, e.seq, e.at, e.kind, e.actor, e.detail FROM escalation_events e JOIN escalations x ON x.escalation_id = e.escalation_id
         WHERE x.started_at >= ? AND x.started_at < ? AND e.kind IN (${kinds}) ORDER BY e.escalation_id, e.seq`,
        [...bounds, ...metricEventKinds],
      );
      const timelines = new Map<string, TimelineEntry[]>();
      for (const row of events) {
        const timeline = timelines.get(row.escalation_id) ?? [];
        timeline.push({ at: row.at, event: row.kind, ...(JSON.parse(row.detail) as object) } as TimelineEntry);
        timelines.set(row.escalation_id, timeline);
      }
      return rows.map((row) => ({
        escalationId: row.escalation_id,
        gate: row.gate,
        service: row.service,
        model: row.model,
        startedAt: row.started_at,
        endedAt: row.ended_at,
        outcome: row.outcome as OutcomeKind | null,
        timeline: timelines.get(row.escalation_id) ?? [],
      }));
    },

    async recordChangeAuthor(escalationId, author) {
      await engine.run('INSERT INTO change_authors (escalation_id, author) VALUES (?, ?) ON CONFLICT (escalation_id) DO NOTHING', [escalationId, author]);
    },

    async recordChangedFiles(escalationId, repository, files) {
      await engine.run('INSERT INTO changed_files (escalation_id, repository, files) VALUES (?, ?, ?) ON CONFLICT (escalation_id) DO NOTHING', [escalationId, repository, JSON.stringify(files)]);
    },

    async decisionFeed(after) {
      const rows = await engine.query<{ escalation_id: string; reviewer: string; decision: string; decided_at: string; response_ms: number | null; gate: string; service: string; repository: string | null; files: string | null }>(
        `SELECT d.escalation_id, d.reviewer, d.decision, d.decided_at, d.response_ms, e.gate, e.service, c.repository, c.files
         FROM decisions d JOIN escalations e ON e.escalation_id = d.escalation_id LEFT JOIN changed_files c ON c.escalation_id = d.escalation_id
         WHERE d.decision IN ('approve', 'reject') AND d.decided_at >= ? ORDER BY d.decided_at, d.escalation_id, d.seq`,
        [after ?? ''],
      );
      return rows.map((row) => ({
        escalationId: row.escalation_id,
        reviewer: row.reviewer,
        decision: row.decision as FedDecision['decision'],
        gate: row.gate,
        service: row.service,
        paths: row.files === null ? [] : (JSON.parse(row.files) as string[]).map((file) => `${row.repository}/${file.replace(/^(\.?\/)+/, '')}`),
        at: Date.parse(row.decided_at),
        decidedAt: row.decided_at,
        responseMs: row.response_ms,
      }));
    },

    async recordRoutingFeatures(features) {
      await engine.run(
        `INSERT INTO routing_features (escalation_id, routed_at, model, factors, candidates) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (escalation_id) DO UPDATE SET routed_at = excluded.routed_at, model = excluded.model, factors = excluded.factors, candidates = excluded.candidates`,
        [features.escalationId, instant(features.routedAt), features.model, JSON.stringify(features.factors), JSON.stringify(features.candidates)],
      );
    },

    async routingExamples({ from, to }) {
      const bounds = [instant(from), instant(to)];
      const rows = await engine.query<{ escalation_id: string; routed_at: string; model: string; factors: string; candidates: string }>(
        'SELECT escalation_id, routed_at, model, factors, candidates FROM routing_features WHERE routed_at >= ? AND routed_at < ? ORDER BY routed_at, escalation_id',
        bounds,
      );
      const deciders = await engine.query<{ escalation_id: string; reviewer: string }>(
        `SELECT d.escalation_id, d.reviewer FROM decisions d JOIN routing_features f ON f.escalation_id = d.escalation_id
         WHERE f.routed_at >= ? AND f.routed_at < ? AND d.decision IN ('approve', 'reject')`,
        bounds,
      );
      const reassigned = await engine.query<{ escalation_id: string; detail: string }>(
        `SELECT e.escalation_id, e.detail FROM escalation_events e JOIN routing_features f ON f.escalation_id = e.escalation_id
         WHERE f.routed_at >= ? AND f.routed_at < ? AND e.kind = 'reassigned'`,
        bounds,
      );
      const byEscalation = <T>(list: T[], id: (item: T) => string, value: (item: T) => string) => {
        const map = new Map<string, string[]>();
        for (const item of list) map.set(id(item), [...(map.get(id(item)) ?? []), value(item)]);
        return map;
      };
      const decided = byEscalation(deciders, (row) => row.escalation_id, (row) => row.reviewer);
      const targets = byEscalation(reassigned, (row) => row.escalation_id, (row) => (JSON.parse(row.detail) as { to: string }).to);
      return rows.map((row) =>
        routingExample(
          { escalationId: row.escalation_id, routedAt: row.routed_at, model: row.model, factors: JSON.parse(row.factors) as string[], candidates: JSON.parse(row.candidates) as Record<string, number[]> },
          decided.get(row.escalation_id) ?? [],
          targets.get(row.escalation_id) ?? [],
        ),
      );
    },

    saveRetraining: (report) =>
      engine.transaction(
        async (tx) => {
          const [stored] = await tx.query<{ report: string }>('SELECT report FROM routing_models WHERE period_to = ?', [instant(report.period.to)]);
          if (stored) return JSON.parse(stored.report) as RetrainingReport;
          const [last] = await tx.query<{ version: number | null }>('SELECT MAX(version) AS version FROM routing_models');
          const version = (last?.version ?? 0) + 1;
          const numbered: RetrainingReport = { ...report, candidate: { ...report.candidate, version: `fit-${version}` } };
          await tx.run('INSERT INTO routing_models (version, period_to, fitted_at, kept, weights, report) VALUES (?, ?, ?, ?, ?, ?)', [
            version,
            instant(report.period.to),
            instant(report.at),
            numbered.kept === 'candidate' ? 1 : 0,
            JSON.stringify(numbered.candidate.weights),
            JSON.stringify(numbered),
          ]);
          return numbered;
        },
        { lock: 'escalator.routing_models' },
      ),

    async currentRoutingModel() {
      const [row] = await engine.query<{ report: string }>('SELECT report FROM routing_models WHERE kept = 1 ORDER BY version DESC LIMIT 1');
      return row ? (JSON.parse(row.report) as RetrainingReport).candidate : undefined;
    },

    async retrainings(limit) {
      const rows = await engine.query<{ report: string }>('SELECT report FROM routing_models ORDER BY version DESC LIMIT ?', [limit]);
      return rows.map((row) => JSON.parse(row.report) as RetrainingReport);
    },

    async changeAuthor(escalationId) {
      const [row] = await engine.query<{ author: string }>('SELECT author FROM change_authors WHERE escalation_id = ?', [escalationId]);
      return row?.author;
    },

    askForRatings: (escalationId, raters, at) =>
      engine.transaction(async (tx) => {
        const asked: string[] = [];
        for (const rater of new Set(raters)) {
          const inserted = await tx.run('INSERT INTO ratings (escalation_id, rater, asked_at) VALUES (?, ?, ?) ON CONFLICT (escalation_id, rater) DO NOTHING', [escalationId, rater, instant(at)]);
          if (inserted === 1) asked.push(rater);
        }
        return asked;
      }),

    async recordRating({ escalationId, rater, rating, comment, at }) {
      // Only an unanswered request takes the rating: the row is the single-use ledger of all the person's links.
      const updated = await engine.run('UPDATE ratings SET rating = ?, comment = ?, rated_at = ? WHERE escalation_id = ? AND rater = ? AND rating IS NULL', [
        rating,
        comment,
        instant(at),
        escalationId,
        rater,
      ]);
      if (updated === 1) return 'recorded';
      const [row] = await engine.query<{ rater: string }>('SELECT rater FROM ratings WHERE escalation_id = ? AND rater = ?', [escalationId, rater]);
      return row ? 'already-rated' : 'not-asked';
    },

    async ratingRequest(escalationId, rater) {
      const [row] = await engine.query<{ asked_at: string; rating: number | null; comment: string | null; rated_at: string | null }>(
        'SELECT asked_at, rating, comment, rated_at FROM ratings WHERE escalation_id = ? AND rater = ?',
        [escalationId, rater],
      );
      return row ? { escalationId, rater, askedAt: row.asked_at, rating: row.rating, comment: row.comment, ratedAt: row.rated_at } : undefined;
    },

    async ratings({ from, to }) {
      const rows = await engine.query<{ escalation_id: string; rating: number | null }>(
        `SELECT r.escalation_id, r.rating FROM ratings r JOIN escalations e ON e.escalation_id = r.escalation_id
         WHERE e.started_at >= ? AND e.started_at < ? ORDER BY r.escalation_id, r.rater`,
        [instant(from), instant(to)],
      );
      const asked = new Map<string, number>();
      const given = new Map<string, number[]>();
      for (const row of rows) {
        asked.set(row.escalation_id, (asked.get(row.escalation_id) ?? 0) + 1);
        if (row.rating !== null) given.set(row.escalation_id, [...(given.get(row.escalation_id) ?? []), row.rating]);
      }
      return { asked, given };
    },

    close: () => engine.close(),
  };
}

interface EventRow {
  seq: number;
  at: string;
  kind: string;
  actor: string | null;
  detail: string;
}

interface DecisionRow {
  seq: number;
  reviewer: string;
  decision: string;
  channel: string;
  comment: string | null;
  step: number;
  asked_at: string | null;
  decided_at: string;
  response_ms: number | null;
}

interface EscalationRow {
  escalation_id: string;
  gate: string;
  service: string;
  repository: string | null;
  severity: string;
  model: string | null;
  policy_version: string | null;
  started_at: string;
  ended_at: string | null;
  outcome: string | null;
  reason: string | null;
  depth: number;
  postmortem: boolean | number;
}

/** PostgreSQL serialises the writes of one escalation; SQLite serialises all writes anyway. */
function escalationLock(escalationId: string): string {
  return `escalator.escalation:${escalationId}`;
}

async function storeEntries(tx: SqlSession, escalationId: string, fromSeq: number, entries: readonly TimelineEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const stored = await tx.query<{ seq: number; at: string; kind: string }>(
    'SELECT seq, at, kind FROM escalation_events WHERE escalation_id = ? AND seq >= ? AND seq < ?',
    [escalationId, fromSeq, fromSeq + entries.length],
  );
  const storedBySeq = new Map(stored.map((row) => [row.seq, row]));
  for (const [index, entry] of entries.entries()) {
    const seq = fromSeq + index;
    const { at, event, ...detail } = entry;
    const offered = { kind: event, at: instant(at) };
    // First write wins while the escalation runs: a retried or replayed call may offer the same seq
    // with another time or, after a replay, another entry; the outcome's timeline settles it.
    if (storedBySeq.has(seq)) continue;
    await tx.run('INSERT INTO escalation_events (escalation_id, seq, at, kind, actor, detail) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (escalation_id, seq) DO NOTHING', [
      escalationId,
      seq,
      offered.at,
      offered.kind,
      actorOf(entry),
      JSON.stringify(detail),
    ]);
  }
}

/**
 * Brings `decisions`, `awaiting` and the open escalation's depth in line with the whole stored
 * timeline, writing only what differs, so a retried call changes nothing.
 */
async function refreshReviewState(tx: SqlSession, escalationId: string, decisions: readonly Decision[]): Promise<void> {
  const events = await tx.query<EventRow>('SELECT seq, at, kind, actor, detail FROM escalation_events WHERE escalation_id = ? ORDER BY seq', [escalationId]);
  const facts = reviewFacts(
    events.map((row) => ({ seq: row.seq, entry: { at: row.at, event: row.kind, ...(JSON.parse(row.detail) as object) } as TimelineEntry })),
    decisions,
  );
  const [escalation] = await tx.query<{ ended_at: string | null; depth: number }>('SELECT ended_at, depth FROM escalations WHERE escalation_id = ?', [escalationId]);
  const open = escalation?.ended_at === null;

  await storeDecisions(tx, escalationId, facts.decisions);
  await replaceAwaiting(tx, escalationId, open ? facts.awaiting : []);
  if (open && facts.depth !== null && facts.depth !== escalation.depth) {
    await tx.run('UPDATE escalations SET depth = ? WHERE escalation_id = ?', [facts.depth, escalationId]);
  }
}

async function storeDecisions(tx: SqlSession, escalationId: string, facts: readonly DecisionFact[]): Promise<void> {
  const stored = await tx.query<{ seq: number; asked_at: string | null; comment: string | null }>('SELECT seq, asked_at, comment FROM decisions WHERE escalation_id = ?', [escalationId]);
  const storedBySeq = new Map(stored.map((row) => [row.seq, row]));
  for (const fact of facts) {
    const existing = storedBySeq.get(fact.seq);
    if (!existing) {
      await tx.run(
        `INSERT INTO decisions (escalation_id, seq, reviewer, decision, channel, comment, step, asked_at, decided_at, response_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (escalation_id, seq) DO NOTHING`,
        [escalationId, fact.seq, fact.reviewer, fact.decision, fact.channel, fact.comment, fact.step, fact.askedAt, fact.decidedAt, fact.responseMs],
      );
    } else if ((existing.asked_at === null && fact.askedAt !== null) || (existing.comment === null && fact.comment !== null)) {
      // An earlier batch lacked the assignment (out of order) or the decision's comment; fill in, never overwrite.
      await tx.run('UPDATE decisions SET asked_at = COALESCE(asked_at, ?), response_ms = COALESCE(response_ms, ?), comment = COALESCE(comment, ?) WHERE escalation_id = ? AND seq = ?', [
        fact.askedAt,
        fact.responseMs,
        fact.comment,
        escalationId,
        fact.seq,
      ]);
    }
  }
}

async function replaceAwaiting(tx: SqlSession, escalationId: string, wanted: ReadonlyArray<{ reviewer: string; since: string }>): Promise<void> {
  const current = await tx.query<{ reviewer: string; since: string }>('SELECT reviewer, since FROM awaiting WHERE escalation_id = ?', [escalationId]);
  const key = (rows: ReadonlyArray<{ reviewer: string; since: string }>) => JSON.stringify(rows.map((row) => [row.reviewer, row.since]).sort());
  if (key(current) === key(wanted)) return;
  await tx.run('DELETE FROM awaiting WHERE escalation_id = ?', [escalationId]);
  for (const { reviewer, since } of wanted) {
    await tx.run('INSERT INTO awaiting (escalation_id, reviewer, since) VALUES (?, ?, ?)', [escalationId, reviewer, since]);
  }
}

function actorOf(entry: TimelineEntry): string | null {
  if ('reviewer' in entry) return entry.reviewer;
  if ('by' in entry) return entry.by;
  return null;
}

function snapshottedModel(timeline: readonly TimelineEntry[]): string | null {
  for (const entry of timeline) if (entry.event === 'policy-snapshot') return entry.model;
  return null;
}

/** One spelling per instant (ISO 8601 UTC with milliseconds), so stored times compare correctly as text. */
function instant(value: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new RangeError(`not a timestamp: ${JSON.stringify(value)}`);
  return new Date(ms).toISOString();
}

/** A WHERE clause of the conditions whose value is given (an array binds several, or none); undefined ones are left out. */
function whereAll(conditions: ReadonlyArray<[sql: string, value: SqlValue | readonly SqlValue[] | undefined]>): { sql: string; params: SqlValue[] } {
  const kept = conditions.filter(([, value]) => value !== undefined);
  return {
    sql: kept.length ? `WHERE ${kept.map(([sql]) => sql).join(' AND ')}` : '',
    params: kept.flatMap(([, value]) => (Array.isArray(value) ? value : [value as SqlValue])),
  };
}

function placeholders(values: readonly unknown[]): string {
  return values.map(() => '?').join(', ');
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
