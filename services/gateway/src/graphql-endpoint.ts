import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApolloServer, HeaderMap, type ApolloServerOptionsWithGateway, type GraphQLRequestContext } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { GraphQLError, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import { ErrorCode, isCanopyError, type CanopyError } from '@canopy/schema';
import type { Authenticator } from './auth/index.js';
import type { GraphQLMetrics } from './observability/graphql-metrics.js';
import { CORRELATION_HEADER, correlationIdOf, inRequestScope } from './observability/request-scope.js';
import type { GraphQLSafety } from './safety/index.js';
import type { CallerRequest, RequestContext } from './request-context.js';
import { requestTarget } from './request-target.js';
import { subscriptionsOverWebSocketOnly } from './subscriptions/http-refusal.js';

/** How long stopping waits for running operations to finish. */
const DRAIN_TIMEOUT_MS = 10_000;

export type GraphQLHandler = ((request: IncomingMessage, response: ServerResponse) => void) & { stop(): Promise<void> };

/**
 * POST/GET /graphql through Apollo Server: the bearer token is checked
 * before anything runs, bodies over the limit are refused unread, the
 * request limits and the caller's rate are checked (safety/), and every
 * error leaves with a stable code from schema/ (a stack trace only in
 * development mode).
 */
export async function createGraphQLHandler(deps: {
  /** What executes operations: a schema served directly (a subgraph alone), or the gateway over the composed subgraphs. */
  executable: { schema: GraphQLSchema } | { gateway: ApolloServerOptionsWithGateway<RequestContext>['gateway'] };
  /** The context of an authenticated request. */
  context(request: CallerRequest): RequestContext;
  authenticator: Authenticator;
  logger: Logger;
  maxBodyBytes: number;
  /** Limits, rate limiting, and what production mode hides (safety/). */
  safety: GraphQLSafety;
  metrics?: GraphQLMetrics;
}): Promise<GraphQLHandler> {
  const server = new ApolloServer<RequestContext>({
    ...deps.executable,
    ...deps.safety.apolloOptions,
    formatError: (formatted, error) => formatError(formatted, error, deps.logger, { stackTraces: deps.safety.stackTraces }),
    plugins: [...deps.safety.apolloOptions.plugins, ...(deps.metrics ? [deps.metrics.plugin] : []), contextPerOperation(deps.context), mutationLogger(deps.logger), ApolloServerPluginInlineTraceDisabled(), subscriptionsOverWebSocketOnly()],
  });
  await server.start();

  const handler = (request: IncomingMessage, response: ServerResponse) => {
    // Every log line of the request carries its correlation id (observability/request-scope.ts), and so does the response.
    let correlationId: string;
    try {
      correlationId = correlationIdOf(request.headers[CORRELATION_HEADER]);
    } catch (error) {
      return refuse(response, 400, error as CanopyError, deps.metrics);
    }
    response.setHeader(CORRELATION_HEADER, correlationId);
    inRequestScope(correlationId, () => {
      const running = handle(request, response, correlationId).catch((error: unknown) => {
        deps.logger.error({ err: error }, 'graphql request failed');
        if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ errors: [{ message: 'Internal error', extensions: { code: ErrorCode.INTERNAL } }] }));
      });
      inFlight.add(running);
      void running.finally(() => inFlight.delete(running));
    });
  };
  // Operations still running (their client may have gone): stopping waits for them before what they use is closed.
  const inFlight = new Set<Promise<void>>();

  async function handle(request: IncomingMessage, response: ServerResponse, correlationId: string): Promise<void> {
    const body = await readBody(request, deps.maxBodyBytes);
    if (body === undefined) {
      response.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
      response.end(JSON.stringify({ errors: [{ message: `Request body over ${deps.maxBodyBytes} bytes.`, extensions: { code: ErrorCode.BAD_USER_INPUT, field: 'body' } }] }));
      request.destroy();
      return;
    }
    const headers = new HeaderMap();
    for (const [name, value] of Object.entries(request.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    let parsedBody: unknown = body;
    if ((headers.get('content-type') ?? '').includes('application/json') && body.length > 0) {
      try {
        parsedBody = JSON.parse(body);
      } catch {
        response.writeHead(400, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ errors: [{ message: 'The body is not valid JSON.', extensions: { code: ErrorCode.BAD_USER_INPUT, field: 'body' } }] }));
        return;
      }
    }
    const { search } = requestTarget(request.url);
    const overLimit = deps.safety.requestLimitError(parsedBody, search);
    if (overLimit) return refuse(response, 400, overLimit, deps.metrics);
    const result = await server.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: (request.method ?? 'GET').toUpperCase(), headers, search, body: parsedBody },
      context: async () => {
        const caller = await authenticate(deps.authenticator, request.headers.authorization);
        await deps.safety.admit(caller.userId, parsedBody);
        return deps.context({
          caller,
          correlationId,
          readAfter: readAfter(headers.get(READ_AFTER)),
          authorization: request.headers.authorization ?? '',
        });
      },
    });
    const responseHeaders: Record<string, string> = {};
    for (const [name, value] of result.headers) responseHeaders[name] = value;
    response.writeHead(result.status ?? 200, responseHeaders);
    if (result.body.kind === 'complete') {
      response.end(result.body.string);
    } else {
      for await (const chunk of result.body.asyncIterator) response.write(chunk);
      response.end();
    }
  }

  return Object.assign(handler, {
    async stop() {
      await Promise.race([Promise.allSettled([...inFlight]), new Promise((resolve) => setTimeout(resolve, DRAIN_TIMEOUT_MS).unref())]);
      await server.stop();
    },
  });
}

/** Answers a request refused before Apollo Server sees it. */
function refuse(response: ServerResponse, status: number, error: CanopyError, metrics: GraphQLMetrics | undefined): void {
  metrics?.refused(error.code);
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ errors: [{ message: error.message, extensions: { ...error.details, code: error.code } }] }));
}

async function authenticate(authenticator: Authenticator, authorization: string | undefined): Promise<{ userId: string }> {
  try {
    const caller = await authenticator.authenticate(authorization);
    return { userId: caller.userId };
  } catch (error) {
    if (!isCanopyError(error, ErrorCode.UNAUTHENTICATED)) throw error;
    const reason = error.details['reason'];
    throw new GraphQLError(error.message, {
      extensions: {
        code: error.code,
        ...error.details,
        http: {
          status: reason === 'jwks_unavailable' ? 503 : 401,
          headers: new HeaderMap([['www-authenticate', reason === 'missing_token' ? 'Bearer realm="canopy"' : 'Bearer realm="canopy", error="invalid_token"']]),
        },
      },
    });
  }
}

/** A log position (a mutation's `position`): the request's reads wait until the read models reflect it, as they do for the caller's own writes. */
const READ_AFTER = 'canopy-read-after';

function readAfter(value: string | undefined): bigint | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,19}$/.test(value.trim())) {
    throw new GraphQLError(`The ${READ_AFTER} header takes a log position (digits), got ${JSON.stringify(value.slice(0, 40))}.`, {
      extensions: { code: ErrorCode.BAD_USER_INPUT, field: READ_AFTER, http: { status: 400 } },
    });
  }
  return BigInt(value.trim());
}

/** Reads the body, or undefined as soon as it exceeds `limit` bytes. */
function readBody(request: IncomingMessage, limit: number): Promise<string | undefined> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        request.removeAllListeners('data');
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

/**
 * CanopyErrors keep their code and details, also from a subgraph (in
 * process: the CanopyError itself; remote: the code and details it
 * answered); Apollo's own codes pass; anything else is logged and masked as
 * INTERNAL. What the gateway adds (`serviceName`) is internal and dropped.
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown, logger: Logger, options: { stackTraces?: boolean } = {}): GraphQLFormattedError {
  const original = canopyErrorIn(error) ?? unwrapResolverError(error);
  if (isCanopyError(original)) {
    return { message: original.message, ...(formatted.path ? { path: formatted.path } : {}), extensions: { ...original.details, code: original.code } };
  }
  const code = formatted.extensions?.['code'];
  if (typeof code === 'string' && code !== 'INTERNAL_SERVER_ERROR' && code !== 'DOWNSTREAM_SERVICE_ERROR') {
    const { stacktrace: _stacktrace, serviceName: _serviceName, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, message: withoutEchoedValues(formatted.message.replace(/^Context creation failed: /, '')), extensions };
  }
  const status = error instanceof GraphQLError ? (error.extensions['http'] as { status?: number } | undefined)?.status : undefined;
  if (status !== undefined && status >= 400 && status < 500) {
    // A request Apollo Server refused without a code (a persisted query's hash that does not match it, an unknown APQ version).
    return { message: formatted.message, extensions: { code: 'BAD_REQUEST' } };
  }
  logger.error({ err: original }, 'unexpected error in a resolver');
  const stacktrace = options.stackTraces && original instanceof Error ? { stacktrace: original.stack?.split('\n') } : {};
  return { message: 'Internal error; it was logged.', ...(formatted.path ? { path: formatted.path } : {}), extensions: { code: ErrorCode.INTERNAL, ...stacktrace } };
}

/** The CanopyError behind an error, through the GraphQLErrors that wrap it (a resolver's, and the gateway's around a subgraph's), each holding the next as originalError. */
function canopyErrorIn(error: unknown): CanopyError | undefined {
  let current = error;
  for (let depth = 0; current instanceof Error && depth < 8; depth++) {
    if (isCanopyError(current)) return current;
    current = (current as GraphQLError).originalError;
  }
  return undefined;
}

/** The stable code an error leaves with (as formatError gives it). */
function errorCode(error: GraphQLError): string {
  const code = canopyErrorIn(error)?.code ?? error.extensions?.['code'];
  return typeof code === 'string' && code !== 'INTERNAL_SERVER_ERROR' && code !== 'DOWNSTREAM_SERVICE_ERROR' ? code : ErrorCode.INTERNAL;
}

/**
 * graphql-js prints a rejected variable's whole value (`Variable "$values" got invalid value { …, value: "…" }; …`),
 * which may be a secret: keep the variable's name and the reason only.
 */
function withoutEchoedValues(message: string): string {
  return message.replace(/^(Variable "\$[^"]+") got invalid value [\s\S]*; ([^;]*)$/, '$1 got an invalid value: $2');
}

/** One log line per mutation: who, which operation, how it ended. Never the variables: they may hold secret values. */
/**
 * The operations of a batch run concurrently on shallow copies of one
 * context: each gets its own read loaders here, so that one operation's
 * reads never batch with (nor wait for less than) another's writes.
 */
function contextPerOperation(contextFor: (request: CallerRequest) => RequestContext) {
  return {
    async requestDidStart({ contextValue, requestIsBatched }: GraphQLRequestContext<RequestContext>) {
      if (!requestIsBatched) return;
      const { caller, correlationId, readAfter, authorization } = contextValue;
      Object.assign(contextValue, contextFor({ caller, correlationId, readAfter, authorization }));
    },
  };
}

function mutationLogger(logger: Logger) {
  return {
    async requestDidStart() {
      return {
        async willSendResponse(context: GraphQLRequestContext<RequestContext>) {
          if (context.operation?.operation !== 'mutation') return;
          const errors = context.errors?.map(errorCode);
          logger.info({ user: context.contextValue.caller?.userId, operation: context.operationName, fields: context.operation.selectionSet.selections.length, errors }, 'mutation');
        },
      };
    },
  };
}
