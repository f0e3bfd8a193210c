import type { ShimRoute } from './routes.js';
import { ciRoutes } from './routes-ci.js';
import { dashboardRoutes } from './routes-dashboard.js';
import { escalationRoutes } from './routes-escalations.js';
import { metricsRoutes } from './routes-metrics.js';
import { ratingRoutes } from './routes-ratings.js';
import { serviceRoutes } from './routes-service.js';

/**
 * Every route of the shim, in the order /openapi.json lists them. The shim serves exactly these
 * (holdRoutesToTable refuses to start otherwise) and its OpenAPI document describes exactly these.
 */
export const shimRoutes: readonly ShimRoute[] = [...escalationRoutes, ...metricsRoutes, ...serviceRoutes, ...ratingRoutes, ...ciRoutes, ...dashboardRoutes];
