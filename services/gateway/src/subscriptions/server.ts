import { once } from 'node:events';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { GraphQLError, type ExecutionArgs, type ExecutionResult, type GraphQLFormattedError } from 'graphql';
import type { FormattedExecutionResult } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import type { Logger } from 'pino';
import { WebSocket, WebSocketServer } from 'ws';
import { EventLog, type EventStore, type RecordedEvent } from '@canopy/eventstore';
import { canopyEventRegistry, ErrorCode, isCanopyError } from '@canopy/schema';
import type { Authenticator } from '../auth/index.js';
import { formatError } from '../graphql-endpoint.js';
import type { SubscriptionGuard } from '../safety/index.js';
import { correlationIdOf } from '../observability/request-scope.js';
import { CloseReason, SubscriptionCloseCode } from './close-codes.js';
import { createEventFeed } from './feed.js';
import { EventHub } from './hub.js';
import { relay, Upstream } from './relay.js';
import { SubscriptionExecution, type SubscriptionRequest } from './subscription-execution.js';
import { route, routingTable, type SubscriptionRoute } from './routing.js';
import { TurnWrites } from './turn-writes.js';

export interface SubscriptionLimits {
  /** Events one subscription may hold for its client; beyond, the client is a slow consumer. */
  queueEvents: number;
  /** Unsent bytes one connection may hold; beyond, the client is a slow consumer. */
  bufferBytes: number;
  /** Interval of the server's pings, and how long a pong may take before the socket is dropped; 0: no pings. */
  keepAliveMs: number;
  /** Subscriptions one connection may hold open at once. */
  perConnection: number;
  /** Largest message a client may send, in bytes. */
  maxMessageBytes: number;
}

export interface SubscriptionStats {
  /** Open sockets. */
  connections: number;
  /** Open subscriptions. */
  subscriptions: number;
  /** Subscriptions listening to the log (in this process): from then on, every event appended reaches them. */
  listening: number;
  /** Subscriptions that ever started listening to the log (in this process). */
  followed: number;
  /** The longest any subscription's queue has been (never above `queueEvents`). */
  maxQueued: number;
  /** Connections closed because their client did not keep up. */
  slowConsumerCloses: number;
}

export interface SubscriptionServer {
  stats(): SubscriptionStats;
  /** Closes every socket (1001), then stops the hub. */
  close(): Promise<void>;
}

export interface SubscriptionServerDeps {
  /** The node:http server GraphQL is served on: subscriptions share its port. */
  server: Server;
  /** Default `/graphql`, the same path as HTTP. */
  path?: string;
  /** The log, when a subgraph runs in this process (its subscriptions follow it). */
  store: EventStore | undefined;
  authenticator: Authenticator;
  /** The subgraphs whose Subscription fields are served here: executed in process, or relayed to the subgraph's own endpoint. */
  routes: readonly SubscriptionRoute[];
  limits: SubscriptionLimits;
  logger: Logger;
  /** Called with +1 when a subscription opens and -1 when it ends (a gauge of open subscriptions). */
  onSubscriptionsChanged?(delta: number): void;
  /** The HTTP endpoint's limits and rate, applied to every subscribe message (safety/). */
  guard?: SubscriptionGuard;
}

/** How long a closing socket may take to finish the close handshake before it is dropped (a slow consumer's socket is full of unread data). */
const CLOSE_HANDSHAKE_MS = 5000;
/** How long `close` waits for clients to answer the close frame before dropping them. */
const STOP_GRACE_MS = 1000;

interface Session {
  socket: WebSocket;
  /** The TCP connection under the WebSocket. */
  connection: Socket;
  userId: string;
  /** What the connection authenticated with: remote subgraphs get it, to authenticate the caller themselves. */
  authorization: string;
  /** Connections to remote subgraphs, by subgraph, opened at their first subscription. */
  upstreams: Map<string, Upstream>;
  correlationId: string;
  /** Subscription ids open on this connection. */
  active: Set<string>;
  feeds: Set<{ close(): void }>;
  /** Cancels the close at the token's expiry. */
  expiry: (() => void) | undefined;
  closing: boolean;
}

/**
 * GraphQL subscriptions over graphql-ws (the `graphql-transport-ws`
 * protocol), on the HTTP server's port and path. Each connection is
 * authenticated once, from its `connection_init` payload, and closed when
 * its token expires; each subscription is routed to the subgraph that owns
 * its field and executed there, in process, with `subscribe`, on events
 * from the process's one shared log subscription (the hub).
 */
export async function attachSubscriptions(deps: SubscriptionServerDeps): Promise<SubscriptionServer> {
  const { limits, logger } = deps;
  const table = routingTable(deps.routes);
  const store = deps.store;
  const eventLog = store && new EventLog(store, canopyEventRegistry());
  const upcast = (event: RecordedEvent) => eventLog!.upcast(event);
  const hub = store && (await EventHub.start(store, { upcast, logger }));
  if (!hub && deps.routes.some((r) => !('url' in r))) throw new Error('Subscriptions of an in-process subgraph need its log.');
  const wss = new WebSocketServer({ server: deps.server, path: deps.path ?? '/graphql', maxPayload: limits.maxMessageBytes, ...({ closeTimeout: CLOSE_HANDSHAKE_MS } as object) });
  const counters = { subscriptions: 0, maxQueued: 0, slowConsumerCloses: 0 };
  // What each subscription executed in process asked for, by its context.
  const requests = new WeakMap<object, SubscriptionRequest>();
  const execution = new SubscriptionExecution();
  const turnWrites = new TurnWrites();
  const opened = (session: Session, id: string) => {
    session.active.add(id);
    counters.subscriptions += 1;
    deps.onSubscriptionsChanged?.(1);
  };
  const ended = (session: Session, id: string) => {
    if (!session.active.delete(id)) return;
    counters.subscriptions -= 1;
    deps.onSubscriptionsChanged?.(-1);
  };

  const slowConsumer = (session: Session, id: string) => {
    if (session.closing) return;
    session.closing = true;
    counters.slowConsumerCloses += 1;
    logger.warn({ user: session.userId, subscription: id, bufferedBytes: session.socket.bufferedAmount, limits: { queueEvents: limits.queueEvents, bufferBytes: limits.bufferBytes } }, 'closing the connection of a subscriber that does not keep up');
    for (const feed of [...session.feeds]) feed.close();
    session.socket.close(SubscriptionCloseCode.SLOW_CONSUMER, CloseReason.SLOW_CONSUMER);
  };

  const format = (error: GraphQLError): GraphQLFormattedError => {
    const original = error.originalError ?? undefined;
    const formatted = error.toJSON();
    // graphql-js's own request errors (validation, variables) carry no code of their own.
    if (original === undefined && typeof formatted.extensions?.['code'] !== 'string') {
      return formatError({ ...formatted, extensions: { ...formatted.extensions, code: ErrorCode.BAD_USER_INPUT } }, error, logger);
    }
    return formatError(formatted, original ?? error, logger);
  };

  const disposable = useServer<Record<string, unknown>, { session: Session }>(
    {
      isProd: true,
      async onConnect(ctx) {
        const { socket, request } = ctx.extra;
        let caller;
        const authorization = authorizationOf(ctx.connectionParams);
        try {
          caller = await deps.authenticator.authenticate(authorization);
        } catch (error) {
          if (isCanopyError(error, ErrorCode.UNAUTHENTICATED)) {
            const reason = String(error.details['reason'] ?? 'invalid_token');
            logger.info({ reason }, 'subscription connection refused');
            if (reason === 'jwks_unavailable') socket.close(SubscriptionCloseCode.TRY_AGAIN_LATER, reason);
            else socket.close(SubscriptionCloseCode.UNAUTHORIZED, `Unauthorized: ${reason}`);
          } else {
            logger.error({ err: error }, 'authenticating a subscription connection failed');
            socket.close(1011, 'Internal server error');
          }
          return false;
        }
        const session: Session = {
          socket,
          connection: request.socket,
          userId: caller.userId,
          authorization: authorization ?? '',
          upstreams: new Map(),
          correlationId: correlationOf(ctx.connectionParams),
          active: new Set(),
          feeds: new Set(),
          expiry: undefined,
          closing: false,
        };
        if (caller.expiresAt) session.expiry = runAt(caller.expiresAt, () => socket.close(SubscriptionCloseCode.UNAUTHORIZED, CloseReason.TOKEN_EXPIRED));
        ctx.extra.session = session;
        return caller.expiresAt ? { userId: caller.userId, expiresAt: caller.expiresAt.toISOString() } : { userId: caller.userId };
      },

      async onSubscribe(ctx, id, payload): Promise<ExecutionArgs | readonly GraphQLError[]> {
        const session = ctx.extra.session!;
        const guard = deps.guard;
        if (guard) {
          try {
            await guard.admit(session.userId);
          } catch (error) {
            if (!(error instanceof GraphQLError)) throw error;
            // The HTTP status and headers are for POST /graphql; over WebSocket the code and retryAfterSeconds say it.
            const { http: _http, ...extensions } = error.extensions;
            return [new GraphQLError(error.message, { extensions })];
          }
        }
        if (session.active.size >= limits.perConnection) {
          return [
            requestError(`This connection already holds ${limits.perConnection} subscriptions, the most one may: complete some, or open another connection.`, ErrorCode.TOO_MANY_SUBSCRIPTIONS, {
              limit: limits.perConnection,
            }),
          ];
        }
        const routed = route(table, payload.query, payload.operationName, guard ? { maxTokens: guard.maxTokens, rules: guard.validationRules } : undefined);
        if ('errors' in routed) return guard ? routed.errors.map((error) => withMessage(error, guard.message(error.message))) : routed.errors;
        const bounds = {
          maxQueued: limits.queueEvents,
          onSlowConsumer: () => slowConsumer(session, id),
          onQueued: (length: number) => {
            turnWrites.hold(session.connection);
            if (length > counters.maxQueued) counters.maxQueued = length;
          },
          track: (feed: { close(): void }) => {
            session.feeds.add(feed);
            return () => session.feeds.delete(feed);
          },
        };
        const target = routed.route;
        let contextValue: unknown;
        if ('url' in target) {
          let upstream = session.upstreams.get(target.subgraph);
          if (!upstream) {
            upstream = new Upstream(target.url, { authorization: session.authorization, 'x-correlation-id': session.correlationId });
            session.upstreams.set(target.subgraph, upstream);
          }
          contextValue = new Relayed(relay(upstream.connection, payload, { subgraph: target.subgraph, ...bounds }));
        } else {
          const events = createEventFeed({ hub: hub!, store: store!, upcast, congested: () => session.socket.bufferedAmount > limits.bufferBytes, ...bounds });
          contextValue = target.context({ userId: session.userId, correlationId: session.correlationId, events });
        }
        opened(session, id);
        if (!('url' in target)) requests.set(contextValue as object, { query: payload.query, operationName: payload.operationName, variables: payload.variables, shared: target.sharedResults ?? false });
        return {
          schema: target.schema,
          document: routed.document,
          operationName: payload.operationName ?? null,
          variableValues: payload.variables ?? null,
          contextValue,
        };
      },

      // A relayed subscription is already running on its subgraph: its results pass through as they come.
      subscribe: (args) => {
        if (args.contextValue instanceof Relayed) return args.contextValue.results as AsyncIterable<ExecutionResult>;
        return execution.subscribe(args, requests.get(args.contextValue as object)!);
      },

      onNext(_ctx, _id, _payload, _args, result) {
        if (!result.errors) return undefined;
        // A remote subgraph's errors arrive formatted already.
        return { ...result, errors: result.errors.map((error) => (error instanceof GraphQLError ? format(error) : (error as GraphQLFormattedError))) };
      },

      onError(_ctx, _id, _payload, errors) {
        return errors.map(format);
      },

      onComplete(ctx, id) {
        const session = ctx.extra.session;
        if (session) ended(session, id);
      },

      onClose(ctx) {
        const session = ctx.extra.session;
        if (!session) return;
        session.closing = true;
        session.expiry?.();
        for (const feed of [...session.feeds]) feed.close();
        for (const upstream of session.upstreams.values()) upstream.close();
        for (const id of [...session.active]) ended(session, id);
      },
    },
    wss,
    limits.keepAliveMs,
  );

  return {
    stats: () => ({ connections: wss.clients.size, subscriptions: counters.subscriptions, listening: hub?.listening ?? 0, followed: hub?.listened ?? 0, maxQueued: counters.maxQueued, slowConsumerCloses: counters.slowConsumerCloses }),
    async close() {
      const clients = [...wss.clients];
      for (const client of clients) client.close(SubscriptionCloseCode.GOING_AWAY, CloseReason.SERVER_STOPPING);
      const closed = Promise.all(clients.map((client) => (client.readyState === WebSocket.CLOSED ? undefined : once(client, 'close'))));
      await Promise.race([closed, sleep(STOP_GRACE_MS)]);
      for (const client of wss.clients) client.terminate();
      await disposable.dispose();
      await hub?.stop();
    },
  };
}

/** The connection's credentials: `authorization` ("Bearer <token>", as the HTTP header) or `token` (the token alone). */
function authorizationOf(params: Readonly<Record<string, unknown>> | undefined): string | undefined {
  const authorization = params?.['authorization'] ?? params?.['Authorization'];
  if (typeof authorization === 'string') return authorization;
  const token = params?.['token'];
  return typeof token === 'string' && token !== '' ? `Bearer ${token}` : undefined;
}

/** The connection's correlation id: `x-correlation-id` from its init payload when valid, else a new one. */
function correlationOf(params: Readonly<Record<string, unknown>> | undefined): string {
  const value = params?.['x-correlation-id'];
  try {
    return correlationIdOf(typeof value === 'string' ? value : undefined);
  } catch {
    return correlationIdOf(undefined);
  }
}

/** Runs `action` at `when`; returns the cancelling function. (A timer waits at most ~24.8 days: longer waits are chained.) */
function runAt(when: Date, action: () => void): () => void {
  let timer: NodeJS.Timeout;
  const arm = () => {
    const delay = Math.max(0, when.getTime() - Date.now());
    timer = (delay > MAX_TIMER_MS ? setTimeout(arm, MAX_TIMER_MS) : setTimeout(action, delay)).unref();
  };
  arm();
  return () => clearTimeout(timer);
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/** The context of a relayed subscription: what `subscribe` returns instead of executing. */
class Relayed {
  constructor(readonly results: AsyncIterableIterator<FormattedExecutionResult>) {}
}

function withMessage(error: GraphQLError, message: string): GraphQLError {
  if (message === error.message) return error;
  return new GraphQLError(message, { nodes: error.nodes, originalError: error.originalError, extensions: error.extensions });
}

function requestError(message: string, code: string, details: Record<string, unknown>): GraphQLError {
  return new GraphQLError(message, { extensions: { ...details, code } });
}
