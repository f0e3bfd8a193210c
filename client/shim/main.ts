import { Client, Connection } from '@temporalio/client';
import { openOutcomeStore } from '../../adapters/outcome-store/store.js';
import { createGateMetrics } from '../../adapters/gate-metrics.js';
import { PolicySource } from '../../adapters/policy-source.js';
import { EscalatorClient } from '../escalator-client.js';
import { buildShim } from './app.js';
import { createShimMetrics } from './metrics.js';
import { createSsoVerifier } from './sso.js';
import { shimConfigFrom } from './config.js';
import { TokenRegistry } from './tokens.js';

async function main(): Promise<void> {
  const config = shimConfigFrom(process.env);
  const tokens = TokenRegistry.fromFile(config.ESCALATOR_TOKENS_FILE);
  const policy = new PolicySource(config.ESCALATOR_POLICY_FILE);
  const store = await openOutcomeStore({ sqliteFile: config.ESCALATOR_OUTCOMES_FILE, ...(config.ESCALATOR_OUTCOMES_DATABASE_URL ? { databaseUrl: config.ESCALATOR_OUTCOMES_DATABASE_URL } : {}) });
  await store.migrate();
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  const app = buildShim({
    escalator: new EscalatorClient(client, config.ESCALATOR_TASK_QUEUE),
    tokens,
    checkTemporal: async () => void (await connection.healthService.check({})),
    recordRefusal: (refusal) => store.recordRefusal(refusal),
    metrics: createShimMetrics(),
    gateMetrics: createGateMetrics({ store, policy: () => policy.current().policy, ratings: (range) => store.ratings(range) }),
    // Dashboard links are signed with the email action links' secret, under an audience of their own.
    dashboard: { ...(config.ESCALATOR_ACTION_SECRET ? { linkSecret: config.ESCALATOR_ACTION_SECRET } : {}), temporalUi: { url: config.ESCALATOR_UI_URL, namespace: config.TEMPORAL_NAMESPACE } },
    rateLimitPerMinute: config.ESCALATOR_RATE_LIMIT_PER_MINUTE,
    ...(config.ESCALATOR_SLACK_SIGNING_SECRET
      ? {
          slack: {
            signingSecret: config.ESCALATOR_SLACK_SIGNING_SECRET,
            // Read per click, so people added to the policy map without a restart.
            personFor: (slackUserId: string) => policy.personWithSlackId(slackUserId),
            recordRefusal: (refusal: Parameters<typeof store.recordRefusal>[0]) => store.recordRefusal(refusal),
          },
        }
      : {}),
    ...(config.ESCALATOR_SSO_JWKS_URL && config.ESCALATOR_SSO_ISSUER && config.ESCALATOR_SSO_AUDIENCE
      ? {
          sso: createSsoVerifier({
            jwksUrl: config.ESCALATOR_SSO_JWKS_URL,
            issuer: config.ESCALATOR_SSO_ISSUER,
            audience: config.ESCALATOR_SSO_AUDIENCE,
            identityClaim: config.ESCALATOR_SSO_IDENTITY_CLAIM,
          }),
        }
      : {}),
    ...(config.ESCALATOR_ACTION_SECRET
      ? {
          actions: {
            secret: config.ESCALATOR_ACTION_SECRET,
            consume: (tokenId: string, expiresAt: Date) => store.consumeActionToken(tokenId, expiresAt),
            used: (tokenId: string) => store.actionTokenUsed(tokenId),
            recordRefusal: (refusal: Parameters<typeof store.recordRefusal>[0]) => store.recordRefusal(refusal),
          },
          // Rating links are signed with the same secret, under a token type of their own.
          ratings: { secret: config.ESCALATOR_ACTION_SECRET, store },
        }
      : {}),
    ...(config.ESCALATOR_GITHUB_WEBHOOK_SECRET || config.ESCALATOR_GITLAB_WEBHOOK_TOKEN
      ? {
          ciWebhooks: {
            ...(config.ESCALATOR_GITHUB_WEBHOOK_SECRET ? { github: { webhookSecret: config.ESCALATOR_GITHUB_WEBHOOK_SECRET, apiUrl: config.ESCALATOR_GITHUB_API_URL } } : {}),
            ...(config.ESCALATOR_GITLAB_WEBHOOK_TOKEN ? { gitlab: { webhookToken: config.ESCALATOR_GITLAB_WEBHOOK_TOKEN } } : {}),
            // Read per delivery, so a policy edit maps new repositories without a restart.
            integrations: () => policy.current().policy.integrations,
            deliveries: { taken: (source: string, id: string) => store.deliveryTaken(source, id), take: (source: string, id: string) => store.takeDelivery(source, id) },
            recordRefusal: (refusal: Parameters<typeof store.recordRefusal>[0]) => store.recordRefusal(refusal),
          },
        }
      : {}),
    logger: true,
  });
  const shutdown = async () => {
    await app.close();
    await connection.close();
    await store.close();
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  await app.listen({ host: config.ESCALATOR_SHIM_HOST, port: config.ESCALATOR_SHIM_PORT });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
