import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply } from 'fastify';
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
 * expiring, single-use, bound to the reviewer, escalation, step and decision.
 */
export function registerActionRoutes(app: FastifyInstance, escalator: EscalatorClient, options: ActionLinkOptions | undefined): void {
  // A scope of their own: the form parser must not reach the JSON routes, where a form-encoded
  // `decision=approve` would otherwise decide.
  app.register(async (actions) => registerActionScope(actions, escalator, options));
}

function registerActionScope(app: FastifyInstance, escalator: EscalatorClient, options: ActionLinkOptions | undefined): void {
  // The confirmation page posts a form, and nothing else is a decision: JSON or text is refused (415).
  app.removeAllContentTypeParsers();
  app.register(formbody);
  // Without a secret no email carries links, and no link can be checked: every one is refused.
  const disabled = refusalPage({ reason: 'malformed' });

  app.get('/v1/actions/:token', async (request, reply) => {
    if (!options) return send(reply, disabled);
    const checked = await checkedToken(escalator, options, (request.params as { token: string }).token);
    if ('page' in checked) return send(reply, checked.page);
    return send(reply, confirmationPage({ subject: checked.view, reviewer: checked.claims.reviewer, decision: checked.claims.decision }));
  });

  app.post('/v1/actions/:token', async (request, reply) => {
    if (!options) return send(reply, disabled);
    const checked = await checkedToken(escalator, options, (request.params as { token: string }).token);
    if ('page' in checked) return send(reply, checked.page);
    const { claims } = checked;
    // No body is an empty form; a JSON `null` is not a form at all.
    const form = actionFormSchema.safeParse(request.body === undefined ? {} : request.body);
    if (!form.success) return send(reply, refusalPage({ reason: 'refused', code: 'CommentRequired', message: 'the form was not understood; open the link again' }));
    try {
      // The update id is the token's: two posts of one link count once. The token is spent only
      // once the escalation accepted the decision, so a refusal (say, a missing comment) can be fixed.
      const view = await escalator.decide(
        claims.escalationId,
        { reviewer: claims.reviewer, decision: claims.decision, channel: 'email', ...(form.data.comment ? { comment: form.data.comment } : {}) },
        { updateId: `decision:${claims.reviewer}:action:${claims.tokenId}` },
      );
      await options.consume(claims.tokenId, claims.expiresAt);
      return send(reply, resultPage({ subject: view, reviewer: claims.reviewer, decision: claims.decision }));
    } catch (error) {
      if (error instanceof DecisionRefusedError) {
        await options.recordRefusal?.({ escalationId: claims.escalationId, at: new Date().toISOString(), actor: claims.reviewer, code: error.code, message: error.message, channel: 'email' });
        return send(reply, refusalPage({ reason: 'refused', code: error.code, message: error.message }));
      }
      if (error instanceof EscalationNotFoundError) return send(reply, refusalPage({ reason: 'not-found' }));
      throw error;
    }
  });
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

function send(reply: FastifyReply, page: ActionPage): FastifyReply {
  return reply.code(page.status).headers(actionPageHeaders).type('text/html; charset=utf-8').send(page.html);
}
