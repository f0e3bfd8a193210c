import type { FastifyReply } from 'fastify';
import { checkTokenFor, type ActionClaims, verifyActionToken } from '../../domain/action-tokens.js';
import type { EscalationView } from '../../domain/escalation.js';
import { DecisionRefusedError, EscalationNotFoundError } from '../errors.js';
import type { EscalatorClient } from '../escalator-client.js';
import { type ActionPage, actionFormSchema, actionPageHeaders, confirmationPage, refusalPage, resultPage } from './action-pages.js';
import { actionTokenSchema } from './action-token-format.js';

export interface ActionLinkOptions {
  /** The secret the worker signs email links with. */
  secret: string;
  /** Marks a token used; `replayed` when it was used before (the outcome store's ledger). */
  consume: (tokenId: string, expiresAt: Date) => Promise<'fresh' | 'replayed'>;
  used: (tokenId: string) => Promise<boolean>;
  recordRefusal?: (refusal: { escalationId: string; at: string; actor: string; code: string; message: string; channel: string }) => Promise<void>;
}

/**
 * Email action links: `GET /v1/actions/:token` shows a confirmation page and changes nothing (mail
 * scanners follow links); `POST` from that page decides, once. The token is the credential: signed,
 * expiring, single-use, bound to the reviewer, escalation, step and decision. Both answer a page,
 * whatever happens; the route table (routes-service.ts) serves them.
 */
export async function actionConfirmation(escalator: EscalatorClient, options: ActionLinkOptions | undefined, token: string): Promise<ActionPage> {
  // Without a secret no email carries links, and no link can be checked: every one is refused.
  if (!options) return refusalPage({ reason: 'malformed' });
  const checked = await checkedToken(escalator, options, token);
  if ('page' in checked) return checked.page;
  return confirmationPage({ subject: checked.view, reviewer: checked.claims.reviewer, decision: checked.claims.decision });
}

/** The confirmation page's form, posted: decides as the token's reviewer, and spends the token once the escalation accepted. */
export async function actionDecision(escalator: EscalatorClient, options: ActionLinkOptions | undefined, token: string, body: unknown): Promise<ActionPage> {
  if (!options) return refusalPage({ reason: 'malformed' });
  const checked = await checkedToken(escalator, options, token);
  if ('page' in checked) return checked.page;
  const { claims } = checked;
  // No body is an empty form; a JSON `null` is not a form at all.
  const form = actionFormSchema.safeParse(body === undefined ? {} : body);
  if (!form.success) return refusalPage({ reason: 'refused', code: 'CommentRequired', message: 'the form was not understood; open the link again' });
  try {
    // The update id is the token's: two posts of one link count once. The token is spent only
    // once the escalation accepted the decision, so a refusal (say, a missing comment) can be fixed.
    const after = await escalator.decide(
      claims.escalationId,
      { reviewer: claims.reviewer, decision: claims.decision, channel: 'email', ...(form.data.comment ? { comment: form.data.comment } : {}) },
      { updateId: `decision:${claims.reviewer}:action:${claims.tokenId}` },
    );
    await options.consume(claims.tokenId, claims.expiresAt);
    // The gate and change as read before deciding; where the escalation stands from the decision's answer.
    const subject = { ...checked.view, status: after.status, awaitedReviewers: after.awaitedReviewers, outcome: after.outcome };
    return resultPage({ subject, reviewer: claims.reviewer, decision: claims.decision });
  } catch (error) {
    if (error instanceof DecisionRefusedError) {
      await options.recordRefusal?.({ escalationId: claims.escalationId, at: new Date().toISOString(), actor: claims.reviewer, code: error.code, message: error.message, channel: 'email' });
      return refusalPage({ reason: 'refused', code: error.code, message: error.message });
    }
    if (error instanceof EscalationNotFoundError) return refusalPage({ reason: 'not-found' });
    throw error;
  }
}

async function checkedToken(escalator: EscalatorClient, options: ActionLinkOptions, token: string): Promise<{ claims: ActionClaims; view: EscalationView } | { page: ActionPage }> {
  // The shape the OpenAPI document gives a token: what does not have it is no token at all.
  if (!actionTokenSchema.safeParse(token).success) return { page: refusalPage({ reason: 'malformed' }) };
  const verified = await verifyActionToken(options.secret, token);
  if (!verified.ok) return { page: refusalPage({ reason: verified.reason }) };
  const { claims } = verified;
  if (await options.used(claims.tokenId)) return { page: refusalPage({ reason: 'replayed' }) };
  let view: EscalationView;
  try {
    view = await escalator.status(claims.escalationId);
  } catch (error) {
    if (error instanceof EscalationNotFoundError) return { page: refusalPage({ reason: 'not-found' }) };
    throw error;
  }
  if (view.status === 'ended') return { page: refusalPage({ reason: 'refused', code: 'EscalationEnded', message: 'the escalation has ended; decisions are no longer accepted' }) };
  const fit = checkTokenFor({ claims, escalationId: claims.escalationId, awaitedReviewers: view.awaitedReviewers, step: view.step });
  if (!fit.ok) return { page: refusalPage({ reason: 'foreign', why: fit.why }) };
  return { claims, view };
}

/** Answers an action page with its status and the headers that keep its token in the URL private. */
export function sendActionPage(reply: FastifyReply, page: ActionPage): FastifyReply {
  return reply.code(page.status).headers(actionPageHeaders).type('text/html; charset=utf-8').send(page.html);
}
