import { z } from 'zod';
import { deliveryAnswerSchema, type ErrorCode } from '../../domain/api-responses.js';
import { registerCiWebhooks } from './ci-webhooks.js';
import { defineRoute, type ShimRoute } from './routes.js';

/** A GitHub App's webhook delivery: the event's payload as GitHub documents it. */
export const gitHubDeliverySchema = z.looseObject({ action: z.string().optional() });

/** A GitLab webhook delivery: the event's payload as GitLab documents it. */
export const gitLabDeliverySchema = z.looseObject({ object_kind: z.string() });

const refusals: Partial<Record<number, ErrorCode[]>> = { 400: ['InvalidInput'], 401: ['Unauthenticated'], 404: ['NotFound'], 409: ['DeliveryReplayed'], 500: ['Internal'] };

/** What GitHub and GitLab call: their credential is the delivery's signature or token, not a bearer token. */
export const ciRoutes: readonly ShimRoute[] = [
  defineRoute({
    method: 'POST',
    url: '/v1/github/webhooks',
    operationId: 'gitHubWebhook',
    tag: 'Service',
    summary: 'GitHub App webhook: deployment protection rules, check runs, workflow runs',
    description: [
      "Set as the GitHub App's webhook URL, with its webhook secret. Acted on:",
      '- `deployment_protection_rule` (`requested`): an environment with the app as a custom protection rule starts an escalation of the gate `integrations.github.deployments` names; its outcome approves or rejects the deployment through the event\'s `deployment_callback_url`.',
      '- `check_run` and `workflow_run` (`completed`) of a check `integrations.github.checks` names: a failure raises its gate failure, a success on the same commit recovers it.',
      'While an escalation waits, a check run `Escalator: <gate>` on the commit says what it waits for. Other events are answered 204; a delivery for a repository no entry names is answered 200 and ignored.',
    ].join('\n'),
    access: 'public',
    headers: ['GitHubSignature', 'GitHubEvent', 'GitHubDelivery'],
    body: { schema: gitHubDeliverySchema, required: true, parse: false },
    answers: {
      200: { description: 'Taken: what the delivery started, attached to, recovered or ignored.', schema: deliveryAnswerSchema },
      204: { description: 'An event Escalator does not act on (`ping`, `push`, …).' },
    },
    refusals,
    reasons: {
      InvalidInput: 'the body is not the event\'s payload, or `X-GitHub-Delivery` is missing; `details` names the field',
      Unauthenticated: 'the `X-Hub-Signature-256` signature is missing or wrong: a forged or altered delivery',
      NotFound: 'GitHub webhooks are not configured on this shim',
      DeliveryReplayed: 'a delivery with this `X-GitHub-Delivery` was taken already: a replay changes nothing',
    },
    // Its module keeps the raw body in a scope of its own: the signature covers the bytes as sent.
    register: (app, { options }) => registerCiWebhooks(app, options.escalator, options.ciWebhooks),
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/gitlab/webhooks',
    operationId: 'gitLabWebhook',
    tag: 'Service',
    summary: 'GitLab webhook: jobs and deployments waiting for approval',
    description: [
      "Set as a project's or group's webhook URL with its secret token, for job and pipeline events. Acted on:",
      '- a Job Hook of a job `integrations.gitlab.jobs` names: failed raises its gate failure, a success on the same commit recovers it;',
      '- a Pipeline Hook showing a deploy job parked on a protected environment `integrations.gitlab.deployments` names: starts an escalation whose outcome approves or rejects the deployment (Deployments API, as the configured approver).',
      'While an escalation waits, a commit status `escalator: <gate>` says what it waits for. Other events are answered 204.',
    ].join('\n'),
    access: 'public',
    headers: ['GitLabToken', 'GitLabEvent', 'GitLabEventUuid'],
    body: { schema: gitLabDeliverySchema, required: true, parse: false },
    answers: {
      200: { description: 'Taken: what the delivery started, attached to, recovered or ignored.', schema: deliveryAnswerSchema },
      204: { description: 'An event Escalator does not read (`Push Hook`, …).' },
    },
    refusals,
    reasons: {
      InvalidInput: "the body is not the event's payload, or its `object_kind` does not match `X-Gitlab-Event`; `details` names the field",
      Unauthenticated: 'the `X-Gitlab-Token` is missing or wrong',
      NotFound: 'GitLab webhooks are not configured on this shim',
      DeliveryReplayed: 'a delivery with this `X-Gitlab-Event-UUID` was taken already: a replay changes nothing',
    },
    // Registered with the GitHub route, in the same raw-body scope.
    register: () => undefined,
  }),
];
