import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import type { EventStore } from '@canopy/eventstore';
import type { ProjectionRunner } from '@canopy/projections';
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
import { attachSubscriptions, workspacesSubscriptionRoute, type SubscriptionServer } from './subscriptions/index.js';
import { createSupergraphGateway, remoteSubgraphsHealth } from './supergraph.js';
import { openWorkspacesBackend } from './workspaces-backend.js';

export { DEV_MASTER_KEY_FILE } from './workspaces-backend.js';

export interface RunningGateway {
  url: string;
  /** The log and the read models' runner, when the workspaces subgraph runs in this process (absent when it is remote). */
  store: EventStore | undefined;
  projections: ProjectionRunner | undefined;
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
  const subgraph = await buildWorkspacesSubgraph();
  const remotes = serving.kind === 'gateway' && config.subgraphs.workspaces.url !== undefined ? [{ name: 'workspaces', url: config.subgraphs.workspaces.url }] : [];
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
  const graphql = await createGraphQLHandler({
    executable:
      serving.kind === 'subgraph'
        ? { schema: subgraph }
        : { gateway: createSupergraphGateway([{ name: 'workspaces', schema: subgraph, sdl: subgraphSdl(subgraph), url: config.subgraphs.workspaces.url }], logger) },
    context: backend ? backend.contextFor : (request) => request,
    authenticator,
    logger,
    maxBodyBytes: config.maxBodyBytes,
    safety: createGraphQLSafety({ mode: config.mode, limits: config.limits, rateLimit: config.rateLimit, ...(explorer ? { landingPage: explorer.plugin } : {}) }),
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
    onSubscriptionsChanged: (delta) => (delta > 0 ? graphqlMetrics.subscriptionOpened() : graphqlMetrics.subscriptionClosed()),
    routes: [
      backend
        ? workspacesSubscriptionRoute({ schema: subgraph, contextFor: backend.contextFor })
        : { subgraph: 'workspaces', schema: subgraph, url: config.subgraphs.workspaces.url! },
    ],
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host}:${port}`;
  const serves = serving.kind === 'subgraph' ? `the ${serving.name} subgraph` : 'the composed API';
  const subgraphs = { workspaces: serving.kind === 'gateway' ? (config.subgraphs.workspaces.url ?? 'in-process') : undefined };
  logger.info({ url, serves, subgraphs, graphql: `${url}/graphql`, health: `${url}/healthz`, metrics: `${url}/metrics` }, 'canopy listening');
  return {
    url,
    store: backend?.store,
    projections: backend?.projections,
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
