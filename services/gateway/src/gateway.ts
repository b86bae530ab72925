import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import type { EventStore } from '@canopy/eventstore';
import type { ProjectionRunner } from '@canopy/projections';
import { buildBackupsSubgraph } from '@canopy/backups';
import { buildWorkloadsSubgraph } from '@canopy/workloads';
import { buildCostSubgraph } from '@canopy/cost-api';
import { buildWorkspacesSubgraph, subgraphSdl } from '@canopy/workspaces';
import { createAuthenticator, resolveAuthConfig, type AuthConfig } from './auth/index.js';
import type { Config, SubgraphName } from './config.js';
import { createGraphQLHandler } from './graphql-endpoint.js';
import { createHttpServer } from './http-server.js';
import { lockDataDir } from './data-dir-lock.js';
import { createMetrics } from './metrics.js';
import { devTokenMinter } from './explorer/dev-token.js';
import { createGraphiQL } from './explorer/graphiql.js';
import { createGraphQLMetrics } from './observability/graphql-metrics.js';
import { withRequestScope } from './observability/request-scope.js';
import { createGraphQLSafety } from './safety/index.js';
import { attachSubscriptions, workspacesSubscriptionRoute, type SubscriptionRoute, type SubscriptionServer } from './subscriptions/index.js';
import type { ClusterAccess } from './clusters.js';
import type { CallerRequest, RequestContext } from './request-context.js';
import { createSupergraphGateway, remoteSubgraphsHealth, type SubgraphPlacement } from './supergraph.js';
import { openWorkspacesBackend, type WorkspacesBackend } from './workspaces-backend.js';

export { DEV_MASTER_KEY_FILE } from './workspaces-backend.js';

export interface RunningGateway {
  url: string;
  /** The log and the read models' runner, when the workspaces subgraph runs in this process (absent when it is remote). */
  store: EventStore | undefined;
  projections: ProjectionRunner | undefined;
  /** The clusters this process reaches, and the simulated ones it runs (with the backend here). */
  clusters: ClusterAccess | undefined;
  /** GraphQL subscriptions over WebSocket on /graphql. */
  subscriptions: SubscriptionServer;
  stop(): Promise<void>;
}

/** What a process serves on /graphql: the composed API (the gateway), or one subgraph alone. */
export type Serving = { kind: 'gateway' } | { kind: 'subgraph'; name: SubgraphName };

/**
 * Serves the composed GraphQL API, health and metrics. The workspaces
 * subgraph runs in this process (the log and the key store open, the read
 * models projected, the workspaces folded) unless
 * CANOPY_SUBGRAPH_WORKSPACES_URL names where it runs; `stop` closes it all.
 */
export async function startGateway(config: Config, logger: Logger = pino({ level: config.logLevel })): Promise<RunningGateway> {
  return startServing(config, logger, { kind: 'gateway' });
}

export async function startServing(config: Config, logger: Logger, serving: Serving): Promise<RunningGateway> {
  const authConfig = await resolveAuthConfig(config.auth);
  if (authConfig.kind === 'hs256' && authConfig.source === 'dev-file') {
    logger.warn(
      { devSecretFile: authConfig.devFile },
      'AUTHENTICATION USES A DEVELOPMENT SECRET generated in the data directory: anyone who can read that file can mint tokens. ' +
        'Set CANOPY_JWT_SECRET (32 bytes or more) or CANOPY_JWKS_URL for any shared or production deployment. Mint a token: npx canopy token --user <id>',
    );
  }
  const backendHere = serving.kind === 'subgraph' || config.subgraphs.workspaces.url === undefined;
  const releaseDataDir = backendHere && config.embeddedDatabases ? await lockDataDir(config.dataDir) : async () => {};
  try {
    return await serve(config, logger, authConfig, releaseDataDir, serving, backendHere);
  } catch (error) {
    await releaseDataDir();
    throw error;
  }
}

async function serve(config: Config, baseLogger: Logger, authConfig: AuthConfig, releaseDataDir: () => Promise<void>, serving: Serving, backendHere: boolean): Promise<RunningGateway> {
  const logger = withRequestScope(baseLogger);
  const backend = backendHere ? await openWorkspacesBackend(config, logger) : undefined;
  const placements = await subgraphPlacements(config, backend);
  const remotes = serving.kind === 'gateway' ? placements.flatMap((p) => (p.url === undefined ? [] : [{ name: p.name, url: p.url }])) : [];
  const metrics = backend?.metrics ?? createMetrics();
  const graphqlMetrics = createGraphQLMetrics(metrics);
  const explorer = config.mode === 'development' ? createGraphiQL({ endpoint: '/graphql', token: devTokenMinter(authConfig, config.devUser) }) : undefined;
  if (explorer) {
    logger.warn(
      { devUser: config.devUser },
      'DEVELOPMENT MODE (CANOPY_MODE=development): GraphiQL at /graphql hands a token for the development user to anyone who can reach this port; introspection, field suggestions and stack traces are on. Never use it for a shared or production deployment.',
    );
  }
  const authenticator = createAuthenticator(authConfig);
  const safety = createGraphQLSafety({ mode: config.mode, limits: config.limits, rateLimit: config.rateLimit, ...(explorer ? { landingPage: explorer.plugin } : {}) });
  const graphql = await createGraphQLHandler({
    executable:
      serving.kind === 'subgraph' ? { schema: placementOf(placements, serving.name).schema } : { gateway: createSupergraphGateway(placements, logger) },
    context: requestContextOf(serving, placements, backend),
    authenticator,
    logger,
    maxBodyBytes: config.maxBodyBytes,
    safety,
    metrics: graphqlMetrics,
  });

  const server = createHttpServer({
    health: backend ? backend.health : () => remoteSubgraphsHealth(remotes),
    // With every subgraph remote, ready means they answer.
    readiness: backend ? backend.readiness : () => remoteSubgraphsHealth(remotes),
    ...(explorer ? { explorer } : {}),
    metrics,
    logger,
    graphql,
  });
  // Subscriptions on the same port and path (subscriptions/): executed here when the subgraph runs here, else relayed to it.
  const subscriptions = await attachSubscriptions({
    server,
    store: backend?.store,
    authenticator,
    logger,
    limits: config.subscriptions,
    guard: safety.subscriptions,
    onSubscriptionsChanged: (delta) => (delta > 0 ? graphqlMetrics.subscriptionOpened() : graphqlMetrics.subscriptionClosed()),
    routes: subscriptionRoutes(serving.kind === 'subgraph' ? placements.filter((p) => p.name === serving.name) : placements, backend),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host}:${port}`;
  const serves = serving.kind === 'subgraph' ? `the ${serving.name} subgraph` : 'the composed API';
  const subgraphs = serving.kind === 'gateway' ? Object.fromEntries(placements.map((p) => [p.name, p.url ?? 'in-process'])) : undefined;
  logger.info({ url, serves, subgraphs, graphql: `${url}/graphql`, health: `${url}/healthz`, metrics: `${url}/metrics` }, 'canopy listening');
  return {
    url,
    store: backend?.store,
    projections: backend?.projections,
    clusters: backend?.clusters,
    subscriptions,
    async stop() {
      await subscriptions.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await graphql.stop();
      await backend?.close();
      await releaseDataDir();
      logger.info('canopy stopped');
    },
  };
}

/** A subgraph's placement, with how its resolvers' context comes from the request's. */
type Placement = SubgraphPlacement & { contextOf(request: RequestContext): unknown };

/**
 * Where each subgraph runs: in this process when the backend is here (its
 * URL unset), else at its URL. Without the backend and without a URL, the
 * backups and workloads subgraphs are left out of the composition (they
 * need the process that runs the log, the read models and the workspaces).
 */
async function subgraphPlacements(config: Config, backend: WorkspacesBackend | undefined): Promise<Placement[]> {
  const workspaces = await buildWorkspacesSubgraph();
  const placements: Placement[] = [
    { name: 'workspaces', schema: workspaces, sdl: subgraphSdl(workspaces), url: config.subgraphs.workspaces.url, contextOf: (request) => request },
  ];
  const extensions = [
    { name: 'backups' as const, schema: await buildBackupsSubgraph(), contextOf: (request: RequestContext) => request.backups },
    { name: 'workloads' as const, schema: await buildWorkloadsSubgraph(), contextOf: (request: RequestContext) => request.workloads },
    { name: 'cost' as const, schema: await buildCostSubgraph(), contextOf: (request: RequestContext) => request.cost },
  ];
  for (const extension of extensions) {
    const url = config.subgraphs[extension.name].url;
    if (url !== undefined || backend) placements.push({ ...extension, sdl: subgraphSdl(extension.schema), url });
  }
  return placements;
}

function placementOf<P extends { name: string }>(placements: readonly P[], name: SubgraphName): P {
  const placement = placements.find((p) => p.name === name);
  if (!placement) throw new Error(`The ${name} subgraph is not served by this process.`);
  return placement;
}

/** The subscription fields of each subgraph: executed here when it runs here, relayed to its URL otherwise. */
function subscriptionRoutes(placements: readonly SubgraphPlacement[], backend: WorkspacesBackend | undefined): SubscriptionRoute[] {
  return placements.filter((placement) => placement.schema.getSubscriptionType()).map((placement): SubscriptionRoute => {
    if (placement.url !== undefined || !backend) return { subgraph: placement.name, schema: placement.schema, url: placement.url! };
    if (placement.name === 'workspaces') return workspacesSubscriptionRoute({ schema: placement.schema, contextFor: backend.contextFor });
    const contextOf = placement.name === 'backups' ? backend.backupsSubscriptionContext : backend.workloadsSubscriptionContext;
    return {
      subgraph: placement.name,
      schema: placement.schema,
      // backupProgress and workloadStatus map an event to the same item whoever asks (access is checked before the event is let through).
      sharedResults: true,
      context: ({ userId, correlationId, events }) => contextOf({ caller: { userId }, correlationId, readAfter: undefined, authorization: '' }, events),
    };
  });
}

/** What the resolvers get for a request: the backend's context (a subgraph served alone gets its own part of it), or the caller's request when every subgraph is remote. */
function requestContextOf(serving: Serving, placements: readonly Placement[], backend: WorkspacesBackend | undefined): (request: CallerRequest) => RequestContext {
  if (!backend) return (request) => request;
  if (serving.kind === 'gateway') return backend.contextFor;
  const own = placementOf(placements, serving.name).contextOf;
  return (request) => own(backend.contextFor(request)) as RequestContext;
}
