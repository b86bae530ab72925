import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApolloServer, HeaderMap, type GraphQLRequestContext } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import { randomUUID } from 'node:crypto';
import { ErrorCode, isCanopyError } from '@canopy/schema';
import type { ReadModelConsistency, WorkspaceReads, WorkspacesContext, WorkspacesService } from '@canopy/workspaces';
import type { Authenticator } from './auth/index.js';
import { requestTarget } from './request-target.js';

export type GraphQLHandler = ((request: IncomingMessage, response: ServerResponse) => void) & { stop(): Promise<void> };

/**
 * POST/GET /graphql through Apollo Server: the bearer token is checked
 * before anything runs, bodies over the limit are refused unread, and
 * every error leaves with a stable code from schema/ (never a stack trace).
 */
export async function createGraphQLHandler(deps: {
  schema: GraphQLSchema;
  service: WorkspacesService;
  readsFor(userId: string, readAfter?: bigint): WorkspaceReads;
  consistency: ReadModelConsistency;
  authenticator: Authenticator;
  logger: Logger;
  maxBodyBytes: number;
}): Promise<GraphQLHandler> {
  const server = new ApolloServer<WorkspacesContext>({
    schema: deps.schema,
    csrfPrevention: true,
    includeStacktraceInErrorResponses: false,
    formatError: (formatted, error) => formatError(formatted, error, deps.logger),
    plugins: [mutationLogger(deps.logger)],
  });
  await server.start();

  const handler = (request: IncomingMessage, response: ServerResponse) => {
    handle(request, response).catch((error: unknown) => {
      deps.logger.error({ err: error }, 'graphql request failed');
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ errors: [{ message: 'Internal error', extensions: { code: ErrorCode.INTERNAL } }] }));
    });
  };

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
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
    const result = await server.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: (request.method ?? 'GET').toUpperCase(), headers, search: requestTarget(request.url).search, body: parsedBody },
      context: async () => {
        const caller = await authenticate(deps.authenticator, request.headers.authorization);
        return {
          caller,
          commands: deps.service.commands,
          reads: deps.readsFor(caller.userId, readAfter(headers.get(READ_AFTER))),
          consistency: deps.consistency,
          correlationId: headers.get('x-correlation-id') ?? randomUUID(),
        };
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

  return Object.assign(handler, { stop: () => server.stop() });
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

/** CanopyErrors keep their code and details; Apollo's own codes pass; anything else is logged and masked as INTERNAL. */
export function formatError(formatted: GraphQLFormattedError, error: unknown, logger: Logger): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  if (isCanopyError(original)) {
    return { message: original.message, ...(formatted.path ? { path: formatted.path } : {}), extensions: { ...original.details, code: original.code } };
  }
  const code = formatted.extensions?.['code'];
  if (typeof code === 'string' && code !== 'INTERNAL_SERVER_ERROR') {
    const { stacktrace: _stacktrace, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, message: withoutEchoedValues(formatted.message.replace(/^Context creation failed: /, '')), extensions };
  }
  logger.error({ err: original }, 'unexpected error in a resolver');
  return { message: 'Internal error; it was logged.', ...(formatted.path ? { path: formatted.path } : {}), extensions: { code: ErrorCode.INTERNAL } };
}

/**
 * graphql-js prints a rejected variable's whole value (`Variable "$values" got invalid value { …, value: "…" }; …`),
 * which may be a secret: keep the variable's name and the reason only.
 */
function withoutEchoedValues(message: string): string {
  return message.replace(/^(Variable "\$[^"]+") got invalid value [\s\S]*; ([^;]*)$/, '$1 got an invalid value: $2');
}

/** One log line per mutation: who, which operation, how it ended. Never the variables: they may hold secret values. */
function mutationLogger(logger: Logger) {
  return {
    async requestDidStart() {
      return {
        async willSendResponse(context: GraphQLRequestContext<WorkspacesContext>) {
          if (context.operation?.operation !== 'mutation') return;
          const errors = context.errors?.map((e) => (isCanopyError(unwrapResolverError(e)) ? (unwrapResolverError(e) as { code: string }).code : 'INTERNAL'));
          logger.info({ user: context.contextValue.caller?.userId, operation: context.operationName, fields: context.operation.selectionSet.selections.length, errors }, 'mutation');
        },
      };
    },
  };
}
