import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { checkRunAction, deploymentAction, workflowRunAction } from '../../adapters/github-gate-failures.js';
import { gitHubEventSchemas, verifyGitHubSignature } from '../../adapters/github-webhooks.js';
import { gitLabActions } from '../../adapters/gitlab-gate-failures.js';
import { gitLabEventSchema, objectKindOfEvent, verifyGitLabToken } from '../../adapters/gitlab-webhooks.js';
import type { DeliveryResult } from '../../domain/api-responses.js';
import { fieldErrors } from '../../domain/field-errors.js';
import type { Integrations } from '../../domain/integrations.js';
import type { PipelineEventAction } from '../../domain/pipeline-link.js';
import { EscalationNotFoundError, InvalidInputError } from '../errors.js';
import type { EscalatorClient } from '../escalator-client.js';
import { HttpError } from './http-error.js';

/** The GitHub App's and GitLab's webhook settings, and where delivery ids are kept. */
export interface CiWebhookOptions {
  github?: { webhookSecret: string; apiUrl: string };
  gitlab?: { webhookToken: string };
  /** The policy's `integrations`, as it stands now. */
  integrations: () => Integrations;
  deliveries: { taken(source: string, deliveryId: string): Promise<boolean>; take(source: string, deliveryId: string): Promise<'fresh' | 'replayed'> };
  recordRefusal?: (refusal: { escalationId: string; at: string; actor: string; code: string; message: string; channel: string }) => Promise<void>;
}

/** How a delivery names itself: GitHub's GUID, GitLab's event UUID. Bounded: it is stored. */
const deliveryId = z.string().regex(/^[A-Za-z0-9-]{1,100}$/, 'letters, digits and - only, at most 100');

/**
 * GitHub's and GitLab's webhook receivers. The credential is the delivery's signature (GitHub:
 * HMAC-SHA256 of the raw body under the app's webhook secret) or secret token (GitLab), checked
 * before anything is read; a delivery id seen before is refused as a replay. A delivery that no
 * `integrations` entry names is answered and ignored. Refusals are recorded like a refused decision.
 */
export function registerCiWebhooks(app: FastifyInstance, escalator: EscalatorClient, options: CiWebhookOptions | undefined): void {
  app.register(async (scope) => {
    // The signature covers the bytes as sent: this scope keeps the body as text.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => done(null, body));

    scope.post('/v1/github/webhooks', async (request, reply) => {
      const github = options?.github;
      if (!options || !github) throw new HttpError(404, 'NotFound', 'GitHub webhooks are not configured on this shim');
      const raw = rawBodyOf(request);
      const delivery = header(request, 'x-github-delivery');
      const refuse = refuser(options, 'github', delivery);
      const signature = verifyGitHubSignature(github.webhookSecret, raw, header(request, 'x-hub-signature-256'));
      if (!signature.valid) throw await refuse(401, 'Unauthenticated', `GitHub delivery signature refused: ${signature.reason}`);
      const id = deliveryIdOf(delivery, 'headers.x-github-delivery');
      const event = header(request, 'x-github-event') ?? '';
      if (!Object.hasOwn(gitHubEventSchemas, event)) return reply.code(204).send();
      if (await options.deliveries.taken('github', id)) throw await refuse(409, 'DeliveryReplayed', `GitHub delivery ${id} was taken already`);
      const payload = jsonOf(raw);
      const actions = gitHubActions(event as keyof typeof gitHubEventSchemas, payload, options.integrations(), github.apiUrl);
      return answer(reply, escalator, options, 'github', id, actions);
    });

    scope.post('/v1/gitlab/webhooks', async (request, reply) => {
      const gitlab = options?.gitlab;
      if (!options || !gitlab) throw new HttpError(404, 'NotFound', 'GitLab webhooks are not configured on this shim');
      const delivery = header(request, 'x-gitlab-event-uuid');
      const refuse = refuser(options, 'gitlab', delivery);
      const token = verifyGitLabToken(gitlab.webhookToken, header(request, 'x-gitlab-token'));
      if (!token.valid) throw await refuse(401, 'Unauthenticated', `GitLab delivery token refused: ${token.reason}`);
      const event = header(request, 'x-gitlab-event') ?? '';
      if (!Object.hasOwn(objectKindOfEvent, event)) return reply.code(204).send();
      // GitLab sends the UUID from 15.x on; without one, the escalation's idempotency key still counts a redelivery once.
      const id = delivery === undefined ? undefined : deliveryIdOf(delivery, 'headers.x-gitlab-event-uuid');
      if (id !== undefined && (await options.deliveries.taken('gitlab', id))) throw await refuse(409, 'DeliveryReplayed', `GitLab delivery ${id} was taken already`);
      const parsed = gitLabEventSchema.safeParse(jsonOf(rawBodyOf(request)));
      if (!parsed.success) throw new HttpError(400, 'InvalidInput', `not a GitLab ${event} payload`, fieldErrors(parsed.error));
      if (parsed.data.object_kind !== objectKindOfEvent[event as keyof typeof objectKindOfEvent]) {
        throw new HttpError(400, 'InvalidInput', `X-Gitlab-Event is ${event} but object_kind is ${parsed.data.object_kind}`, [{ path: 'object_kind', message: 'does not match X-Gitlab-Event' }]);
      }
      return answer(reply, escalator, options, 'gitlab', id, gitLabActions(parsed.data, options.integrations(), new Date()));
    });
  });
}

function gitHubActions(event: keyof typeof gitHubEventSchemas, payload: unknown, integrations: Integrations, apiUrl: string): PipelineEventAction[] {
  // An action Escalator does not act on is ignored before the payload's shape is held to account.
  const action = (payload as { action?: unknown } | null)?.action;
  const acted = { deployment_protection_rule: ['requested'], check_run: ['completed'], workflow_run: ['completed'] }[event];
  if (typeof action === 'string' && !acted.includes(action)) return [{ kind: 'ignore', reason: `${event} ${action}` }];
  const parsed = gitHubEventSchemas[event].safeParse(payload);
  if (!parsed.success) throw new HttpError(400, 'InvalidInput', `not a GitHub ${event} payload`, fieldErrors(parsed.error));
  const now = new Date();
  if (event === 'deployment_protection_rule') return [deploymentAction(parsed.data as z.output<(typeof gitHubEventSchemas)['deployment_protection_rule']>, integrations, apiUrl, now)];
  if (event === 'check_run') return [checkRunAction(parsed.data as z.output<(typeof gitHubEventSchemas)['check_run']>, integrations, now)];
  return [workflowRunAction(parsed.data as z.output<(typeof gitHubEventSchemas)['workflow_run']>, integrations, now)];
}

/** Carries out what the delivery means, then takes its id: a delivery that failed half way can be redelivered. */
async function answer(reply: FastifyReply, escalator: EscalatorClient, options: CiWebhookOptions, source: string, id: string | undefined, actions: PipelineEventAction[]) {
  const results: DeliveryResult[] = [];
  for (const action of actions) results.push(await carryOut(escalator, action));
  if (id !== undefined) await options.deliveries.take(source, id);
  return reply.code(200).send({ delivery: id ?? null, results });
}

async function carryOut(escalator: EscalatorClient, action: PipelineEventAction): Promise<DeliveryResult> {
  if (action.kind === 'ignore') return { kind: 'ignored', escalationId: null, reason: action.reason };
  if (action.kind === 'recover') {
    try {
      await escalator.reportRecovered(action.escalationId, action.pipelineRunId);
      return { kind: 'recovered', escalationId: action.escalationId, reason: null };
    } catch (error) {
      if (error instanceof EscalationNotFoundError) return { kind: 'ignored', escalationId: null, reason: 'green, and no escalation of this check on this commit to recover' };
      throw error;
    }
  }
  try {
    const raised = await escalator.raise(action.failure, action.pipeline ? { pipeline: action.pipeline } : {});
    return { kind: raised.started ? 'started' : 'attached', escalationId: raised.escalationId, reason: null };
  } catch (error) {
    // The event held something a gate failure cannot (a malformed URL, say): say which field.
    if (error instanceof InvalidInputError) throw new HttpError(400, 'InvalidInput', `the delivery does not make a valid gate failure: ${error.message}`, error.fields);
    throw error;
  }
}

/** Refusals are recorded as refused decisions are: who (the source), what (the delivery), why. */
function refuser(options: CiWebhookOptions, source: string, delivery: string | undefined) {
  return async (status: number, code: string, message: string): Promise<HttpError> => {
    const subject = `delivery:${source}:${(delivery ?? 'unnamed').slice(0, 100)}`;
    await options.recordRefusal?.({ escalationId: subject, at: new Date().toISOString(), actor: source, code, message, channel: source });
    return new HttpError(status, code, message);
  };
}

function rawBodyOf(request: FastifyRequest): string {
  return typeof request.body === 'string' ? request.body : '';
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function deliveryIdOf(value: string | undefined, path: string): string {
  const parsed = deliveryId.safeParse(value);
  if (!parsed.success) throw new HttpError(400, 'InvalidInput', `${path} must name the delivery`, [{ path, message: parsed.error.issues[0]?.message ?? 'invalid' }]);
  return parsed.data;
}

function jsonOf(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw new HttpError(400, 'InvalidInput', 'the delivery body is not JSON', [{ path: '(root)', message: 'not JSON' }]);
  }
}
