import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { EventLog, openEventStore, type EventStore } from '@canopy/eventstore';
import { loadOrCreateDevMasterKey, openKeyStore, parseMasterKey } from '@canopy/keystore';
import type { ProjectionRunner } from '@canopy/projections';
import { canopyEventRegistry } from '@canopy/schema';
import { buildWorkspacesSchema, startWorkspacesService } from '@canopy/workspaces';
import { createAuthenticator, resolveAuthConfig, type AuthConfig } from './auth/index.js';
import type { Config } from './config.js';
import { createGraphQLHandler } from './graphql-endpoint.js';
import { createHttpServer } from './http-server.js';
import { lockDataDir } from './data-dir-lock.js';
import { createMetrics } from './metrics.js';
import { startReadModels } from './read-models.js';

export interface RunningGateway {
  url: string;
  store: EventStore;
  projections: ProjectionRunner;
  stop(): Promise<void>;
}

export const DEV_MASTER_KEY_FILE = 'dev-master-key';

/** Opens the log and the key store, projects the read models, folds the workspaces, and serves GraphQL, health and metrics; `stop` closes them all. */
export async function startGateway(config: Config, logger: Logger = pino({ level: config.logLevel })): Promise<RunningGateway> {
  const authConfig = await resolveAuthConfig(config.auth);
  if (authConfig.kind === 'hs256' && authConfig.source === 'dev-file') {
    logger.warn(
      { devSecretFile: authConfig.devFile },
      'AUTHENTICATION USES A DEVELOPMENT SECRET generated in the data directory: anyone who can read that file can mint tokens. ' +
        'Set CANOPY_JWT_SECRET (32 bytes or more) or CANOPY_JWKS_URL for any shared or production deployment. Mint a token: npx canopy token --user <id>',
    );
  }
  const releaseDataDir = config.embeddedDatabases ? await lockDataDir(config.dataDir) : async () => {};
  try {
    return await serve(config, logger, authConfig, releaseDataDir);
  } catch (error) {
    await releaseDataDir();
    throw error;
  }
}

async function serve(config: Config, logger: Logger, authConfig: AuthConfig, releaseDataDir: () => Promise<void>): Promise<RunningGateway> {
  const masterKey = await resolveMasterKey(config, logger);

  const log = await openEventStore(config.eventStore);
  logger.info({ store: log.description }, 'event log open');
  const keys = await openKeyStore(config.keyStore, masterKey);
  logger.info({ keys: keys.description }, 'key store open');
  const metrics = createMetrics(log.store);
  const readModels = await startReadModels(config, log.store, metrics, logger);
  const eventLog = new EventLog(log.store, canopyEventRegistry());
  const service = await startWorkspacesService({ log: eventLog, keys: keys.keys, onError: (error) => logger.error({ err: error }, 'the directory feed stopped') });
  const graphql = await createGraphQLHandler({
    schema: await buildWorkspacesSchema(),
    service,
    readsFor: readModels.readsFor,
    consistency: readModels.consistency,
    authenticator: createAuthenticator(authConfig),
    logger,
    maxBodyBytes: config.maxBodyBytes,
  });

  const server = createHttpServer({ store: log.store, projections: readModels.runner, metrics, logger, logDescription: log.description, graphql });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host}:${port}`;
  logger.info({ url, graphql: `${url}/graphql`, health: `${url}/healthz`, metrics: `${url}/metrics` }, 'canopy listening');
  return {
    url,
    store: log.store,
    projections: readModels.runner,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await graphql.stop();
      await readModels.stop();
      await service.close();
      await keys.close();
      await log.close();
      await releaseDataDir();
      logger.info('canopy stopped');
    },
  };
}

async function resolveMasterKey(config: Config, logger: Logger): Promise<Buffer> {
  if (config.masterKey !== undefined) return parseMasterKey(config.masterKey);
  const file = join(config.dataDir, DEV_MASTER_KEY_FILE);
  const { key, created } = await loadOrCreateDevMasterKey(file);
  logger.warn(
    { devMasterKeyFile: file, created },
    'SECRETS ARE ENCRYPTED WITH A DEVELOPMENT MASTER KEY kept next to the data: whoever can read the data directory can read every secret. ' +
      'Set CANOPY_MASTER_KEY (32 random bytes, base64: openssl rand -base64 32) for any shared or production deployment.',
  );
  return key;
}
