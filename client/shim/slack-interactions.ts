import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { decisionActionIds, parseDecisionButtonValue, verifySlackRequest } from '../../adapters/slack-interaction.js';
import { escalationIdSchema } from '../../domain/request-bodies.js';
import { DecisionRefusedError, EscalationNotFoundError } from '../errors.js';
import type { EscalatorClient } from '../escalator-client.js';
import { HttpError } from './http-error.js';

export interface SlackInteractionOptions {
  signingSecret: string;
  /** The policy person behind a Slack user id, or undefined for someone the policy does not know. */
  personFor: (slackUserId: string) => string | undefined;
  recordRefusal?: (refusal: { escalationId: string; at: string; actor: string; code: string; message: string; channel: string }) => Promise<void>;
}

/**
 * The body of Slack's interactivity requests (application/x-www-form-urlencoded): a single field,
 * `payload`, holding the interaction as JSON.
 */
export const slackInteractionFormSchema = z.object({
  payload: z.string().min(1).describe('The interaction as JSON; for a button click, a `block_actions` payload with `user.id` and `actions[0]`'),
});

interface BlockActionsPayload {
  type: string;
  user?: { id?: string };
  actions?: Array<{ action_id?: string; value?: string; action_ts?: string }>;
}

/**
 * Slack's interactivity endpoint for the Approve, Reject and Acknowledge buttons. The request
 * signature (v0, HMAC-SHA256 over `v0:timestamp:body`, at most 5 minutes old) is the credential;
 * the reviewer is the Slack user mapped to a policy person. Slack retries a click it got no answer
 * to; the update id is the action's own timestamp, so a retry counts once.
 */
export function registerSlackInteractions(app: FastifyInstance, escalator: EscalatorClient, options: SlackInteractionOptions | undefined): void {
  app.register(async (slack) => {
    // The signature covers the raw body, so this scope keeps it as text.
    slack.removeAllContentTypeParsers();
    slack.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => done(null, body));

    slack.post('/v1/slack/interactions', async (request) => {
      if (!options) throw new HttpError(404, 'NotFound', 'Slack interactivity is not configured on this shim');
      const rawBody = typeof request.body === 'string' ? request.body : '';
      const check = verifySlackRequest(options.signingSecret, request.headers, rawBody);
      if (!check.valid) throw new HttpError(401, 'Unauthenticated', `Slack request signature refused: ${check.reason}`);
      const payload = parsePayload(rawBody);
      const action = payload.actions?.[0];
      // Strings only: JSON.parse would read an array holding the right text as that text.
      const target = typeof action?.value === 'string' ? parseDecisionButtonValue(action.value) : null;
      if (payload.type !== 'block_actions' || typeof action?.action_id !== 'string' || !action.action_id || !target) throw new HttpError(400, 'InvalidInput', 'not an Escalator button action', [{ path: 'payload.actions[0]', message: 'expected an Escalator button' }]);
      const person = options.personFor(payload.user?.id ?? '');
      if (!person) return ephemeral(`Your Slack account (${payload.user?.id ?? 'unknown'}) is not a person in Escalator's policy; nothing was recorded.`);
      // A button names an escalation by id; one that cannot be an id must not reach Temporal, which
      // answers an empty or over-long workflow id with an error that would become a 500.
      if (!escalationIdSchema.safeParse(target.escalationId).success) return ephemeral(`No escalation ${target.escalationId.slice(0, 200)}.`);
      const updateId = `slack:${person}:${action.action_ts ?? ''}:${action.action_id}`;
      try {
        if (action.action_id === decisionActionIds.acknowledge) {
          await escalator.acknowledge(target.escalationId, { reviewer: person, channel: 'slack' }, { updateId });
          return ephemeral(`Acknowledged: ${target.escalationId} knows you are on it.`);
        }
        const decision = action.action_id === decisionActionIds.approve ? 'approve' : action.action_id === decisionActionIds.reject ? 'reject' : undefined;
        if (!decision) throw new HttpError(400, 'InvalidInput', `unknown action ${action.action_id}`, [{ path: 'payload.actions[0].action_id', message: 'unknown' }]);
        const view = await escalator.decide(target.escalationId, { reviewer: person, decision, channel: 'slack' }, { updateId });
        return ephemeral(`Recorded: you ${decision === 'approve' ? 'approved' : 'rejected'}. ${view.outcome ? `The escalation ended: ${view.outcome.outcome}.` : `Now waiting for ${view.awaitedReviewers.join(', ') || 'nobody'}.`}`);
      } catch (error) {
        if (error instanceof DecisionRefusedError) {
          await options.recordRefusal?.({ escalationId: target.escalationId, at: new Date().toISOString(), actor: person, code: error.code, message: error.message, channel: 'slack' });
          return ephemeral(`Not recorded (${error.code}): ${error.message}.`);
        }
        if (error instanceof EscalationNotFoundError) return ephemeral(`No escalation ${target.escalationId}.`);
        throw error;
      }
    });
  });
}

function parsePayload(rawBody: string): BlockActionsPayload {
  const form = slackInteractionFormSchema.safeParse({ payload: new URLSearchParams(rawBody).get('payload') ?? undefined });
  try {
    const parsed: unknown = form.success ? JSON.parse(form.data.payload) : undefined;
    if (parsed && typeof parsed === 'object') return parsed as BlockActionsPayload;
  } catch {
    // answered below
  }
  throw new HttpError(400, 'InvalidInput', 'the form field payload must hold Slack interaction JSON', [{ path: 'payload', message: 'not JSON' }]);
}

/** Slack shows this to the clicking user only, and leaves the message itself to chat.update. */
function ephemeral(text: string) {
  return { response_type: 'ephemeral', replace_original: false, text };
}
