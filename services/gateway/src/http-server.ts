import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { EventStore } from '@canopy/eventstore';
import { requestTarget } from './request-target.js';

/**
 * GraphQL, health and metrics over HTTP. `/healthz` answers 200 only when the log
 * answers, so a load balancer stops sending traffic to a process cut off from
 * its log.
 */
export function createHttpServer(deps: {
  store: EventStore;
  metrics: Registry;
  logger: Logger;
  logDescription: string;
  graphql: (request: IncomingMessage, response: ServerResponse) => void;
}): Server {
  return createServer((request, response) => {
    const { path } = requestTarget(request.url);
    if (path === '/graphql') return deps.graphql(request, response);
    const send = (status: number, body: string, type = 'application/json') => {
      response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      response.end(body);
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') return send(405, JSON.stringify({ error: 'method not allowed' }));
    if (path === '/healthz') {
      deps.store.headPosition().then(
        (head) => send(200, JSON.stringify({ status: 'ok', log: { store: deps.logDescription, headPosition: (head ?? 0n).toString() } })),
        (error: unknown) => {
          deps.logger.warn({ err: error }, 'health check: the log does not answer');
          send(503, JSON.stringify({ status: 'unavailable', log: { store: deps.logDescription, error: 'the event log does not answer' } }));
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
    send(404, JSON.stringify({ error: 'not found', routes: ['/graphql', '/healthz', '/metrics'] }));
  });
}
