import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { EventStore } from '@canopy/eventstore';
import type { ProjectionHealth } from '@canopy/projections';
import type { Asset } from './explorer/graphiql.js';
import { requestTarget } from './request-target.js';

/**
 * GraphQL, health and metrics over HTTP. `/healthz` answers 200 only when the log
 * answers, so a load balancer stops sending traffic to a process cut off from
 * its log; it lists each projector with its status, lag and error.
 */
export function createHttpServer(deps: {
  /** `/healthz`: the log and the projectors (`logHealth`) when the workspaces subgraph runs here, the remote subgraphs otherwise. */
  health(): Promise<HealthAnswer>;
  /** `/readyz`: 200 when this process can serve traffic, 503 with the reasons otherwise (observability/readiness.ts). */
  readiness(): Promise<HealthAnswer>;
  /** The explorer's files under /graphiql/ (development mode only). */
  explorer?: { asset(path: string): Promise<Asset | undefined> };
  metrics: Registry;
  logger: Logger;
  graphql: (request: IncomingMessage, response: ServerResponse) => void;
}): Server {
  return createServer((request, response) => {
    const { path } = requestTarget(request.url);
    if (path === '/graphql') return deps.graphql(request, response);
    const send = (status: number, body: string | Buffer, type = 'application/json', cache = 'no-store') => {
      response.writeHead(status, { 'content-type': type, 'cache-control': cache, 'x-content-type-options': 'nosniff' });
      response.end(body);
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') return send(405, JSON.stringify({ error: 'method not allowed' }));
    if (path === '/healthz') {
      deps.health().then(({ status, body }) => send(status, JSON.stringify(body)));
      return;
    }
    if (path === '/readyz') {
      deps.readiness().then(({ status, body }) => send(status, JSON.stringify(body)));
      return;
    }
    if (deps.explorer && path.startsWith('/graphiql/')) {
      deps.explorer.asset(path).then(
        (asset) => (asset ? send(200, asset.body, asset.contentType, 'public, max-age=3600') : send(404, JSON.stringify({ error: 'not found' }))),
        (error: unknown) => {
          deps.logger.error({ err: error, path }, 'could not read an explorer file');
          send(500, JSON.stringify({ error: 'could not read the file' }));
        },
      );
      return;
    }
    if (path === '/metrics') {
      deps.metrics.metrics().then(
        (text) => send(200, text, deps.metrics.contentType),
        (error: unknown) => send(500, JSON.stringify({ error: String(error) })),
      );
      return;
    }
    send(404, JSON.stringify({ error: 'not found', routes: ['/graphql', '/healthz', '/readyz', '/metrics'] }));
  });
}

export interface HealthAnswer {
  status: number;
  body: unknown;
}

/**
 * `ok`, or `degraded` (still 200: the other read models serve) when a
 * projector stopped on a poison event; 503 when the log does not answer.
 */
export async function logHealth(deps: {
  store: EventStore;
  projections: { health(): Promise<ProjectionHealth[]> };
  logger: Logger;
  logDescription: string;
  /** Whether this process runs the cluster work, when it can. */
  clusterWork?: () => unknown;
}): Promise<HealthAnswer> {
  const projections = (await deps.projections.health()).map((p) => ({
    name: p.name,
    version: p.version,
    active: p.active,
    status: p.status,
    position: (p.position ?? 0n).toString(),
    lag: p.lag.toString(),
    ...(p.error ? { error: p.error } : {}),
  }));
  const clusterWork = deps.clusterWork ? { clusterWork: deps.clusterWork() } : {};
  try {
    const head = await deps.store.headPosition();
    const status = projections.some((p) => p.status === 'failed') ? 'degraded' : 'ok';
    return { status: 200, body: { status, log: { store: deps.logDescription, headPosition: (head ?? 0n).toString() }, projections, ...clusterWork } };
  } catch (error) {
    deps.logger.warn({ err: error }, 'health check: the log does not answer');
    return { status: 503, body: { status: 'unavailable', log: { store: deps.logDescription, error: 'the event log does not answer' }, projections, ...clusterWork } };
  }
}
