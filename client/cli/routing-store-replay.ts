import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRoutingRetrainer } from '../../adapters/routing/retrainer.js';
import { createRouter } from '../../adapters/routing/store-router.js';
import { openOutcomeStore, type OutcomeStore } from '../../adapters/outcome-store/store.js';
import type { TimelineEntry } from '../../domain/escalation.js';
import type { RoutingFactor } from '../../domain/policy.js';
import { rankingAccuracy } from '../../domain/routing-replay/metrics.js';
import type { RankerResult } from '../../domain/routing-replay/replay.js';
import type { ReviewedChange } from '../../domain/routing-replay/review-history.js';
import type { RetrainingReport } from '../../domain/routing-model/retrain.js';

/** How the store replay routes and retrains. */
export interface StoreReplayOptions {
  /** Changes submitted before this (epoch ms) are routed and learned from but not scored. */
  from?: number;
  /** Load spreading as the policy's `spreadLoad.within`; absent: the best candidate is asked. */
  spreadWithin?: number;
  /** Retraining runs every this many days of the history's time, as the Schedule does (default 7). */
  retrainEveryDays?: number;
  /** Days of routed escalations each fit learns from (default 182). */
  trainingDays?: number;
  /** The factors routing uses (default: expertise and recency, the best of the four on the Android history). */
  routeBy?: RoutingFactor[];
  /** Decided escalations a period needs before a fitted model may replace the current one (default 20). */
  minEscalations?: number;
}

/** One ranking's result through the store, with every retraining it ran. */
export interface StoreReplayResult extends RankerResult {
  retrainings: RetrainingReport[];
}

const DAY_MS = 86_400_000;
const GATE = 'code-review';

/**
 * Replays a review history through Escalator's own routing path: a fresh outcome store (SQLite in a
 * temporary directory), the routing activity (`createRouter`) and the retraining activity on the
 * Schedule's interval. Each change becomes an escalation in its project's service, routed when it
 * was submitted among everyone who approved something before, its routed reviewer awaited until the
 * change closed; each approval becomes a decision at its grant time. The store only ever holds what
 * was known at the moment, so nothing leaks: approvals at the very moment of a submission are
 * recorded after its routing, as in `replayReviews`.
 */
export async function replayThroughStore(history: readonly ReviewedChange[], options: StoreReplayOptions = {}): Promise<StoreReplayResult> {
  const dir = await mkdtemp(join(tmpdir(), 'escalator-replay-'));
  const store = await openOutcomeStore({ sqliteFile: join(dir, 'outcomes.sqlite') });
  try {
    await store.migrate();
    return await replay(store, history, options);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

type Step =
  | { kind: 'route'; at: number; change: ReviewedChange }
  | { kind: 'approve'; at: number; change: ReviewedChange; reviewer: string }
  | { kind: 'close'; at: number; change: ReviewedChange }
  | { kind: 'retrain'; at: number };

// At one instant: routing first (an approval at the submission is not known to it), then approvals, closes, retraining.
const order: Record<Step['kind'], number> = { route: 0, approve: 1, close: 2, retrain: 3 };

async function replay(store: OutcomeStore, history: readonly ReviewedChange[], options: StoreReplayOptions): Promise<StoreReplayResult> {
  const started = performance.now();
  const from = options.from ?? Number.NEGATIVE_INFINITY;
  const routeBy = options.routeBy ?? ['expertise', 'recency'];
  const router = createRouter(store);
  const retrain = createRoutingRetrainer({
    store,
    periodDays: options.retrainEveryDays ?? 7,
    trainingDays: options.trainingDays ?? 182,
    ...(options.minEscalations === undefined ? {} : { minEscalations: options.minEscalations }),
  });
  const steps: Step[] = [];
  for (const change of history) {
    steps.push({ kind: 'route', at: change.submittedAt, change }, { kind: 'close', at: Math.max(change.closedAt, change.submittedAt), change });
    for (const approval of change.approvals) steps.push({ kind: 'approve', at: approval.at, change, reviewer: approval.reviewer });
  }
  const first = Math.min(...history.map((change) => change.submittedAt));
  const last = Math.max(...steps.map((step) => step.at));
  for (let at = first + (options.retrainEveryDays ?? 7) * DAY_MS; at <= last; at += (options.retrainEveryDays ?? 7) * DAY_MS) steps.push({ kind: 'retrain', at });
  steps.sort((a, b) => a.at - b.at || order[a.kind] - order[b.kind]);

  const everyone = new Set(history.flatMap((change) => change.approvals.map((approval) => approval.reviewer)));
  const seen = new Set<string>();
  const candidates: string[] = [];
  const nextSeq = new Map<string, number>();
  const ranks: Array<number | null> = [];
  const firsts: Array<string | undefined> = [];
  const retrainings: RetrainingReport[] = [];
  const iso = (ms: number) => new Date(ms).toISOString();
  const idOf = (change: ReviewedChange) => `replay-${change.id}`;

  const record = async (change: ReviewedChange, entries: TimelineEntry[], decisions: Parameters<OutcomeStore['recordEvents']>[0]['decisions'] = []) => {
    const escalationId = idOf(change);
    let fromSeq = nextSeq.get(escalationId);
    if (fromSeq === undefined) {
      // The escalation's first row, as the workflow's first events would make it.
      await store.recordChangedFiles(escalationId, change.project, change.files);
      entries = [{ at: iso(change.submittedAt), event: 'raised', gate: GATE, service: serviceOf(change), severity: 'medium' } as TimelineEntry, ...entries];
      fromSeq = 0;
    }
    await store.recordEvents({
      escalationId,
      gate: GATE,
      service: serviceOf(change),
      repository: change.project,
      severity: 'medium',
      model: 'dynamic',
      startedAt: iso(change.submittedAt),
      policyVersion: null,
      fromSeq,
      entries,
      decisions,
    });
    nextSeq.set(escalationId, fromSeq + entries.length);
  };

  for (const step of steps) {
    if (step.kind === 'retrain') {
      retrainings.push(await retrain({ at: iso(step.at) }));
    } else if (step.kind === 'approve') {
      const at = iso(step.at);
      await record(step.change, [{ at, event: 'decided', reviewer: step.reviewer, decision: 'approve', channel: 'http', step: 0 } as TimelineEntry], [
        { reviewer: step.reviewer, decision: 'approve', channel: 'http', at, step: 0, stage: { kind: 'primary' } },
      ]);
      if (!seen.has(step.reviewer)) {
        seen.add(step.reviewer);
        candidates.push(step.reviewer);
      }
    } else if (step.kind === 'close') {
      await record(step.change, [{ at: iso(step.at), event: 'ended', outcome: 'passed', reason: 'change closed' } as TimelineEntry]);
    } else if (candidates.length > 0) {
      const { change } = step;
      const at = iso(change.submittedAt);
      await record(change, []);
      const decision = await router({
        escalationId: idOf(change),
        at,
        failure: {
          gate: { name: GATE, kind: 'review' },
          service: serviceOf(change),
          repository: change.project,
          severity: 'medium',
          change: { sha: '0000000', author: 'unknown-author', title: change.id, url: 'https://example.invalid/', changedFiles: change.files },
          pipelineRun: { id: change.id, url: 'https://example.invalid/' },
          occurredAt: at,
          hotfix: false,
          rollback: false,
          idempotencyKey: `replay-${change.id}`,
        },
        plan: {
          gateKey: GATE,
          candidates: [...candidates],
          routeBy,
          pick: 1,
          codeowners: null,
          coldStart: { model: 'sequential', minHistory: 0 },
          people: {},
          facts: {},
          ...(options.spreadWithin === undefined ? {} : { spreadLoad: { within: options.spreadWithin } }),
        },
      });
      await record(change, [
        { at, event: 'routed', chosen: decision.chosen, scores: [], coldStart: false, reason: decision.reason, ...(decision.model ? { model: decision.model } : {}) } as TimelineEntry,
        { at, event: 'assigned', step: 0, stage: { kind: 'primary' }, reviewers: decision.chosen, deadline: iso(change.closedAt), depth: 0 } as TimelineEntry,
      ]);
      if (change.submittedAt >= from) {
        const truth = new Set(change.approvals.map((approval) => approval.reviewer));
        const hit = decision.ranked.findIndex((person) => truth.has(person));
        ranks.push(hit < 0 ? null : hit + 1);
        firsts.push(decision.ranked[0]);
      }
    }
  }
  const name = options.spreadWithin === undefined ? 'escalator (store, fitted)' : `escalator (spread within ${Math.round(options.spreadWithin * 100)}%)`;
  return { ranker: name, accuracy: rankingAccuracy(ranks, firsts, everyone), elapsedMs: performance.now() - started, retrainings };
}

/** A Gerrit project as an Escalator service name (a slug). */
function serviceOf(change: ReviewedChange): string {
  return change.project.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^-+|-+$/g, '') || 'project';
}
