import type { ShimRoute } from './routes.js';
import { ciRoutes } from './routes-ci.js';
import { escalationRoutes } from './routes-escalations.js';
import { serviceRoutes } from './routes-service.js';

/**
 * Every route of the shim, in the order /openapi.json lists them. The shim serves exactly these
 * (holdRoutesToTable refuses to start otherwise) and its OpenAPI document describes exactly these.
 */
export const shimRoutes: readonly ShimRoute[] = [...escalationRoutes, ...serviceRoutes, ...ciRoutes];
