import { ApolloGateway, RemoteGraphQLDataSource, type GraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { execute, isScalarType, isSpecifiedScalarType, parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import type { GatewayInterface } from '@apollo/server-gateway-interface';
import type { Logger } from 'pino';
import { CanopyError, ErrorCode } from '@canopy/schema';
import { composeSupergraph } from '@canopy/schema/graphql';
import { DEFAULT_SUBGRAPH_PORTS, type SubgraphName } from './config.js';
import type { HealthAnswer } from './http-server.js';
import type { RequestContext } from './request-context.js';
import { withSingleSubgraphShortcut } from './single-subgraph.js';

/**
 * Where a subgraph answers when served alone with its defaults (`canopy
 * subgraph <name>`): the URL written into the committed supergraph
 * (`schema/graphql/supergraph.graphql`), which routers override per
 * deployment.
 */
export const DEFAULT_SUBGRAPH_URLS: Readonly<Record<SubgraphName, string>> = {
  workspaces: `http://127.0.0.1:${DEFAULT_SUBGRAPH_PORTS.workspaces}/graphql`,
  backups: `http://127.0.0.1:${DEFAULT_SUBGRAPH_PORTS.backups}/graphql`,
  workloads: `http://127.0.0.1:${DEFAULT_SUBGRAPH_PORTS.workloads}/graphql`,
  cost: `http://127.0.0.1:${DEFAULT_SUBGRAPH_PORTS.cost}/graphql`,
};

export interface SubgraphPlacement {
  name: SubgraphName;
  /** Its schema, built in this process (its SDL is what is composed). */
  schema: GraphQLSchema;
  sdl: string;
  /** Served behind this URL; in this process when undefined. */
  url: string | undefined;
  /** In process: its resolvers' context, from the request's (default: the request's as is). */
  contextOf?(request: RequestContext): unknown;
}

/**
 * The supergraph, composed once at start from the subgraphs' SDL (a
 * composition conflict stops the start), served by Apollo Gateway: its
 * query planner plans each operation once (plans are cached) and sends each
 * subgraph its part. An in-process subgraph is executed directly on its
 * schema, with the request's context as is (no network hop, no
 * serialization of the context); a remote one gets the caller's
 * Authorization, correlation id and `canopy-read-after` headers and
 * authenticates the caller again. Operations one in-process subgraph
 * answers whole skip planning (single-subgraph.ts).
 */
export function createSupergraphGateway(subgraphs: readonly SubgraphPlacement[], logger: Logger): GatewayInterface {
  const { supergraphSdl } = composeSupergraph(subgraphs.map((s) => ({ name: s.name, url: s.url ?? DEFAULT_SUBGRAPH_URLS[s.name], sdl: s.sdl })));
  const placements = new Map<string, SubgraphPlacement>(subgraphs.map((s) => [s.name, s]));
  const gateway = new ApolloGateway({
    supergraphSdl,
    logger: logger.child({ component: 'federation' }),
    buildService({ name }) {
      const placement = placements.get(name);
      if (!placement) throw new Error(`The supergraph names a subgraph "${name}" this gateway does not know.`);
      return placement.url === undefined ? new InProcessDataSource(placement.schema, placement.contextOf ?? ((request) => request)) : new ForwardingDataSource(name, placement.url, logger);
    },
  });
  gateway.onSchemaLoadOrUpdate(({ apiSchema }) => adoptScalars(apiSchema, subgraphs));
  return withSingleSubgraphShortcut(
    gateway,
    subgraphs.filter((s) => s.url === undefined).map((s) => ({ ...s, contextOf: s.contextOf ?? ((request: RequestContext) => request) })),
  );
}

/**
 * A supergraph knows custom scalars (DateTime, JSON) by name only and would
 * accept any value for them, leaving a bad one to fail inside the subgraph
 * as an internal error. Giving the API schema the subgraphs' own parsing
 * makes the gateway refuse it up front, as a single server does: a bad
 * variable is BAD_USER_INPUT (HTTP 400), a bad literal
 * GRAPHQL_VALIDATION_FAILED.
 */
function adoptScalars(apiSchema: GraphQLSchema, subgraphs: readonly SubgraphPlacement[]): void {
  for (const type of Object.values(apiSchema.getTypeMap())) {
    if (!isScalarType(type) || isSpecifiedScalarType(type)) continue;
    const own = subgraphs.map((s) => s.schema.getType(type.name)).find(isScalarType);
    if (!own) continue;
    type.parseValue = own.parseValue;
    type.parseLiteral = own.parseLiteral;
  }
}

type SubgraphResponse = Awaited<ReturnType<GraphQLDataSource['process']>>;

/**
 * A subgraph in this process, executed on its schema with the request's
 * context. Like Apollo's LocalGraphQLDataSource, but it executes the
 * operation document of the (cached) query plan as is, validated once,
 * instead of printing, parsing and validating it again on every request.
 */
class InProcessDataSource implements GraphQLDataSource<RequestContext> {
  private readonly validated = new WeakSet<DocumentNode>();

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly contextOf: (request: RequestContext) => unknown,
  ) {}

  async process(options: GraphQLDataSourceProcessOptions<RequestContext>): Promise<SubgraphResponse> {
    const { request } = options;
    const document = ('incomingRequestContext' in options ? options.document : undefined) ?? parse(request.query ?? '');
    if (!this.validated.has(document)) {
      const errors = validate(this.schema, document);
      if (errors.length > 0) return { errors } as SubgraphResponse;
      this.validated.add(document);
    }
    const result = await execute({ schema: this.schema, document, variableValues: request.variables, operationName: request.operationName, contextValue: this.contextOf(options.context as RequestContext) });
    return result as SubgraphResponse;
  }
}

/** A remote subgraph, sent the caller's credentials; any failure to get an answer is SUBGRAPH_UNAVAILABLE (and logged), never a transport error's details. */
class ForwardingDataSource extends RemoteGraphQLDataSource<RequestContext> {
  constructor(
    private readonly subgraph: string,
    url: string,
    private readonly logger: Logger,
  ) {
    super({ url });
  }

  override willSendRequest(options: GraphQLDataSourceProcessOptions<RequestContext>): void {
    if (!('incomingRequestContext' in options)) return;
    const headers = options.request.http?.headers;
    if (!headers) return;
    headers.set('authorization', options.context.authorization);
    headers.set('x-correlation-id', options.context.correlationId);
    if (options.context.readAfter !== undefined) headers.set('canopy-read-after', options.context.readAfter.toString());
  }

  override async process(options: GraphQLDataSourceProcessOptions<RequestContext>) {
    try {
      return await super.process(options);
    } catch (error) {
      const status = (error as { extensions?: { response?: { status?: unknown } } }).extensions?.response?.status;
      this.logger.warn({ subgraph: this.subgraph, url: this.url, status, err: error }, 'a subgraph did not answer');
      throw new CanopyError(ErrorCode.SUBGRAPH_UNAVAILABLE, `The ${this.subgraph} service did not answer; retry later.`, {
        subgraph: this.subgraph,
        ...(typeof status === 'number' ? { status } : {}),
      });
    }
  }
}

/**
 * `/healthz` of a gateway whose subgraphs all run elsewhere: each
 * subgraph's own `/healthz` (next to its GraphQL endpoint). 200 while every
 * one answers 200 (`degraded` if one of them is), 503 naming those that do not.
 */
export async function remoteSubgraphsHealth(remotes: readonly { name: string; url: string }[]): Promise<HealthAnswer> {
  const subgraphs = await Promise.all(
    remotes.map(async ({ name, url }) => {
      try {
        const response = await fetch(new URL('/healthz', url), { signal: AbortSignal.timeout(2000) });
        const body = (await response.json().catch(() => ({}))) as { status?: unknown };
        const status = response.ok ? (body.status === 'degraded' ? 'degraded' : 'ok') : 'unavailable';
        return { name, status };
      } catch {
        return { name, status: 'unavailable' };
      }
    }),
  );
  const unavailable = subgraphs.some((s) => s.status === 'unavailable');
  const status = unavailable ? 'unavailable' : subgraphs.some((s) => s.status === 'degraded') ? 'degraded' : 'ok';
  return { status: unavailable ? 503 : 200, body: { status, subgraphs } };
}
