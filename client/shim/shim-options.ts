import type { MetricsQuery } from '../../domain/metrics/query.js';
import type { MetricsReport } from '../../domain/metrics/report.js';
import type { EscalatorClient } from '../escalator-client.js';
import type { ActionLinkOptions } from './action-routes.js';
import type { CiWebhookOptions } from './ci-webhooks.js';
import type { DashboardOptions } from './routes-dashboard.js';
import type { ShimMetrics } from './metrics.js';
import type { RatingLinkOptions } from './routes-ratings.js';
import type { ShimRoute } from './routes.js';
import type { SlackInteractionOptions } from './slack-interactions.js';
import type { SsoVerifier } from './sso.js';
import type { TokenRegistry } from './tokens.js';

/** What the HTTP shim is built with: its clients, credentials, optional channels and routes. */
export interface ShimOptions {
  escalator: EscalatorClient;
  tokens: TokenRegistry;
  /** Answers /healthz: resolves when Temporal is reachable. */
  checkTemporal: () => Promise<void>;
  /** SSO: bearer JWTs verified against the identity provider's JWKS, besides the static tokens. */
  sso?: SsoVerifier;
  /** Requests per minute per identity (per address before authentication); default 300. */
  rateLimitPerMinute?: number;
  /** Slack's Approve/Reject/Acknowledge buttons; without them the route answers 404. */
  slack?: SlackInteractionOptions;
  /** The per-gate metrics report (GET /v1/metrics/gates, /dashboard); without it those answer 404. */
  gateMetrics?: (query: MetricsQuery) => Promise<MetricsReport>;
  /** The dashboard's link secret and Temporal UI; without it dashboard links are refused (bearer tokens still open it). */
  dashboard?: DashboardOptions;
  /** GitHub's and GitLab's webhooks; without them their routes answer 404. */
  ciWebhooks?: CiWebhookOptions;
  /** Email action links (secret and single-use ledger); without them every link is refused. */
  actions?: ActionLinkOptions;
  /** Rating links sent after an escalation ended (secret and the store that holds the requests); without them every link is refused. */
  ratings?: RatingLinkOptions;
  /** Counts requests and refusals for /metrics; a private registry when omitted. */
  metrics?: ShimMetrics;
  /** Keeps refused attempts (who, what, why) in the outcome store; refusals never reach workflow history. */
  recordRefusal?: (refusal: { escalationId: string; at: string; actor: string; code: string; message: string; channel: string }) => Promise<void>;
  logger?: boolean;
  /** The routes to serve and document; the shim's own table (routes-table.ts) when omitted. */
  routes?: readonly ShimRoute[];
}
