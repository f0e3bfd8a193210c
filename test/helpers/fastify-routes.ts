import type { FastifyInstance } from 'fastify';

/** Every method and path Fastify routes, from its route tree; the HEAD routes Fastify adds to each GET are left out. */
export function registeredRoutes(app: FastifyInstance): string[] {
  return routeTree(app)
    .filter(({ method }) => method !== 'HEAD')
    .map(({ method, path }) => `${method} ${path}`)
    .sort();
}

/** Every path Fastify routes (`{param}` for a parameter), with all the methods it serves there, HEAD included, sorted. */
export function servedMethodsByPath(app: FastifyInstance): Map<string, string[]> {
  const byPath = new Map<string, string[]>();
  for (const { method, path } of routeTree(app)) byPath.set(path, [...(byPath.get(path) ?? []), method].sort());
  return byPath;
}

function routeTree(app: FastifyInstance): Array<{ method: string; path: string }> {
  const routes: Array<{ method: string; path: string }> = [];
  const prefixes: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^((?:│ {3}| {4})*)[├└]── (\S+)(?: \(([^)]*)\))?$/.exec(line);
    if (!match) continue;
    prefixes.length = match[1]!.length / 4;
    prefixes.push(match[2]!);
    for (const method of match[3]?.split(', ') ?? []) routes.push({ method, path: prefixes.join('').replace(/:(\w+)/g, '{$1}') });
  }
  return routes;
}
