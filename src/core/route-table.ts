import FindMyWay from 'find-my-way';
import type { FastifyInstance } from 'fastify';

type Method = FindMyWay.HTTPMethod;

/** What the server routes, by method: answers which methods a path has when the request's own has no route. */
export interface RouteTable {
  /**
   * The methods with a route for `url` (its query ignored), sorted. OPTIONS is never listed: CORS preflights have
   * catch-all routes, which say nothing about a path. `skip(pattern)` leaves out routes by their pattern, e.g. a
   * catch-all that would match the path only as a parameter value.
   */
  allowed(url: string, skip?: (pattern: string) => boolean): string[];
}

declare module 'fastify' {
  interface FastifyInstance {
    routeTable: RouteTable;
  }
}

/**
 * Mirrors every route registered from now on into a router of our own (Fastify's matches a request, never a path
 * against all methods), and decorates the app with it as `routeTable`. The not-found handlers ask it, so that a
 * path that exists under other methods is a 405 with `Allow` instead of a 404.
 */
export function trackRoutes(app: FastifyInstance, options: { maxParamLength: number }): void {
  const router = FindMyWay({ maxParamLength: options.maxParamLength });
  const methods = new Set<Method>();
  app.addHook('onRoute', (route) => {
    for (const method of ([] as string[]).concat(route.method)) {
      if (method === 'OPTIONS') continue; // CORS preflights have catch-all routes, which say nothing about a path
      try {
        router.on(method as Method, route.url, () => undefined, route.url);
        methods.add(method as Method);
      } catch {
        // Fastify has already accepted the route; a path our router cannot mirror only loses its 405.
      }
    }
  });
  const table: RouteTable = {
    allowed(url, skip) {
      const found: string[] = [];
      for (const method of methods) {
        let match: ReturnType<typeof router.find>;
        try {
          match = router.find(method, url);
        } catch {
          return []; // a URL Fastify's router took but ours cannot read: no route to name, a 404
        }
        if (match && !(skip && skip(match.store as string))) found.push(method);
      }
      return found.sort();
    },
  };
  app.decorate('routeTable', table);
}
