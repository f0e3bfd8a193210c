import { z } from 'zod';
import { decisionKinds, type DecisionKind } from './escalation.js';
import { type LinkSecret, signToken, verifyToken } from './signed-tokens.js';

/** What an email action link lets its holder do: one decision, by one reviewer, on one step of one escalation. */
export interface ActionGrant {
  reviewer: string;
  escalationId: string;
  /** The step (sequential) or assignment number the reviewer was asked on; the link is foreign once it moves on. */
  step: number;
  decision: DecisionKind;
}

/** A verified action token's contents. */
export interface ActionClaims extends ActionGrant {
  /** Unique per token: the key of the single-use ledger and a good idempotency key for the decision. */
  tokenId: string;
  issuedAt: Date;
  expiresAt: Date;
}

export type ActionTokenFailure = 'expired' | 'tampered' | 'malformed';

export type ActionTokenVerification = { ok: true; claims: ActionClaims } | { ok: false; reason: ActionTokenFailure };

/** The HMAC secret that signs action links (and rating and dashboard links): at least 32 bytes. */
export type ActionSecret = LinkSecret;

// A dedicated `typ` keeps action tokens and any other JWT signed with the same secret from standing in for each other.
const actionTokens = { typ: 'escalator-action+jwt', secretName: 'action-link' };

const payloadSchema = z.object({
  jti: z.string().min(1).max(100),
  sub: z.string().min(1).max(200),
  esc: z.string().min(1).max(300),
  step: z.number().int().min(0),
  dec: z.enum(decisionKinds),
  iat: z.number().int(),
  exp: z.number().int(),
});

/**
 * Signs an action token for `grant`, valid for `ttlSeconds` from `now` (default: the current time).
 * Each call makes a new token with its own `tokenId`. Throws when the secret is shorter than 32 bytes.
 */
export async function createActionToken(secret: ActionSecret, grant: ActionGrant, options: { ttlSeconds: number; now?: Date }): Promise<string> {
  return signToken(secret, actionTokens, { subject: grant.reviewer, ttlSeconds: options.ttlSeconds, claims: { esc: grant.escalationId, step: grant.step, dec: grant.decision }, withId: true, ...(options.now ? { now: options.now } : {}) });
}

/**
 * Checks an action token's signature and expiry at `now` (default: the current time). It says
 * nothing about whether the token was used before (see `UsedTokenLedger`) or still fits the
 * escalation (see `checkTokenFor`). `tampered`: the signature does not match (a changed payload or
 * signature, or another secret); `malformed`: not an action token at all (cut off, not a JWT, wrong type).
 * Expiry is exact: a token is expired from its `expiresAt` second on.
 */
export async function verifyActionToken(secret: ActionSecret, token: string, options: { now?: Date } = {}): Promise<ActionTokenVerification> {
  const verified = await verifyToken(secret, actionTokens, token, { requiredClaims: ['jti', 'sub', 'iat', 'exp'], ...(options.now ? { now: options.now } : {}) });
  if (!verified.ok) return { ok: false, reason: verified.reason === 'foreign' ? 'malformed' : verified.reason };
  const claims = payloadSchema.safeParse(verified.payload);
  if (!claims.success) return { ok: false, reason: 'malformed' };
  const { jti, sub, esc, step, dec, iat, exp } = claims.data;
  return { ok: true, claims: { tokenId: jti, reviewer: sub, escalationId: esc, step, decision: dec, issuedAt: new Date(iat * 1000), expiresAt: new Date(exp * 1000) } };
}

/** The link a reviewer follows: `<publicUrl>/v1/actions/<token>`, keeping any path prefix of `publicUrl`. */
export function actionUrl(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/v1/actions/${encodeURIComponent(token)}`;
}

export type TokenFit = { ok: true } | { ok: false; reason: 'foreign'; why: string };

/**
 * Whether a verified token applies to the escalation as it stands: the same escalation, the step
 * it is at now, and a reviewer it still awaits. `step` is the escalation view's (null while it is
 * not waiting on a step). An ended escalation awaits nobody, so every token of it is foreign.
 */
export function checkTokenFor(input: { claims: ActionClaims; escalationId: string; awaitedReviewers: readonly string[]; step: number | null }): TokenFit {
  const { claims } = input;
  if (claims.escalationId !== input.escalationId) {
    return { ok: false, reason: 'foreign', why: `this link belongs to escalation ${claims.escalationId}, not ${input.escalationId}` };
  }
  if (claims.step !== input.step) {
    const now = input.step === null ? 'is not waiting on a step' : `has moved on to step ${input.step + 1}`;
    return { ok: false, reason: 'foreign', why: `this link was for step ${claims.step + 1}; the escalation ${now}` };
  }
  if (!input.awaitedReviewers.includes(claims.reviewer)) {
    return { ok: false, reason: 'foreign', why: `the escalation no longer awaits a decision from ${claims.reviewer}` };
  }
  return { ok: true };
}

/**
 * Remembers which action tokens were used, so that each works once. `consume` is atomic: of two
 * concurrent calls with the same id, exactly one gets `fresh`. An entry may be forgotten after
 * `expiresAt`, when the token no longer verifies anyway.
 *
 * A SQL implementation needs one table (the same DDL runs on SQLite and PostgreSQL):
 *
 *     CREATE TABLE used_action_tokens (
 *       token_id   TEXT PRIMARY KEY,
 *       expires_at TEXT NOT NULL,  -- ISO 8601 UTC, like every timestamp of the store
 *       used_at    TEXT NOT NULL
 *     );
 *     CREATE INDEX used_action_tokens_by_expiry ON used_action_tokens (expires_at);
 *
 * consume: `INSERT INTO used_action_tokens (token_id, expires_at, used_at) VALUES (?, ?, ?)
 * ON CONFLICT (token_id) DO NOTHING`; 1 row inserted is `fresh`, 0 is `replayed`.
 * Pruning: `DELETE FROM used_action_tokens WHERE expires_at < ?` with the current time.
 */
export interface UsedTokenLedger {
  consume(tokenId: string, expiresAt: Date): Promise<'fresh' | 'replayed'>;
}

/**
 * A `UsedTokenLedger` in this process's memory: right for one shim and for tests. Several shim
 * replicas need a shared (SQL) ledger, and a restart forgets what was used.
 */
export class InMemoryUsedTokenLedger implements UsedTokenLedger {
  private readonly used = new Map<string, number>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  async consume(tokenId: string, expiresAt: Date): Promise<'fresh' | 'replayed'> {
    const now = this.now().getTime();
    for (const [id, expiry] of this.used) if (expiry < now) this.used.delete(id);
    if (this.used.has(tokenId)) return 'replayed';
    this.used.set(tokenId, expiresAt.getTime());
    return 'fresh';
  }

  /** How many used tokens are remembered (expired ones are dropped on the next `consume`). */
  get size(): number {
    return this.used.size;
  }
}

