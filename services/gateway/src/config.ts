import { join } from 'node:path';
import type { ReadModelDbConfig } from '@canopy/projections';
import { z } from 'zod';
import type { EventStoreConfig } from '@canopy/eventstore';
import type { KeyStoreConfig } from '@canopy/keystore';
import type { AuthSettings } from './auth/index.js';
import type { GraphQLLimits, RateLimitSettings } from './safety/index.js';
import type { SubscriptionLimits } from './subscriptions/index.js';

/** Every setting of the process, from the environment; the README's configuration table mirrors this. */
const Environment = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  CANOPY_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  CANOPY_EVENTSTORE: z.enum(['pglite', 'postgres', 'eventstoredb', 'eventstoredb-test-server']).default('pglite'),
  CANOPY_DATA_DIR: z.string().min(1).default('.canopy/data'),
  CANOPY_POSTGRES_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
  CANOPY_POSTGRES_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,26}$/, 'must be a lower-case SQL identifier of at most 27 characters (the read models\' schemas are named after it)')
    .default('public'),
  CANOPY_EVENTSTORE_URL: z.string().regex(/^(esdb|esdb\+discover|kurrentdb|kurrentdb\+discover):\/\//, 'must be an esdb:// connection string').optional(),
  CANOPY_MASTER_KEY: z.string().optional(),
  CANOPY_JWT_SECRET: z.string().optional(),
  CANOPY_JWKS_URL: z.string().optional(),
  CANOPY_JWT_ISSUER: z.string().min(1).default('canopy'),
  CANOPY_JWT_AUDIENCE: z.string().min(1).default('canopy'),
  CANOPY_MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
  CANOPY_READ_YOUR_WRITES_TIMEOUT_MS: z.coerce.number().int().min(0).max(60_000).default(5000),
  CANOPY_SUBGRAPH_WORKSPACES_URL: z
    .string()
    .regex(/^https?:\/\/\S+$/, "must be the http(s):// URL of the workspaces subgraph's GraphQL endpoint, e.g. http://127.0.0.1:4001/graphql")
    .optional(),
  CANOPY_SUBGRAPH_BACKUPS_URL: z
    .string()
    .regex(/^https?:\/\/\S+$/, "must be the http(s):// URL of the backups subgraph's GraphQL endpoint, e.g. http://127.0.0.1:4002/graphql")
    .optional(),
  CANOPY_SUBGRAPH_COST_URL: z
    .string()
    .regex(/^https?:\/\/\S+$/, "must be the http(s):// URL of the cost subgraph's GraphQL endpoint, e.g. http://127.0.0.1:4004/graphql")
    .optional(),
  CANOPY_SUBGRAPH_WORKLOADS_URL: z
    .string()
    .regex(/^https?:\/\/\S+$/, "must be the http(s):// URL of the workloads subgraph's GraphQL endpoint, e.g. http://127.0.0.1:4003/graphql")
    .optional(),
  CANOPY_MODE: z.enum(['production', 'development']).default('production'),
  CANOPY_DEV_USER: z.string().min(1).max(200).default('dev@example.com'),
  CANOPY_MAX_DEPTH: z.coerce.number().int().min(1).max(100).default(10),
  CANOPY_MAX_COST: z.coerce.number().int().min(1).max(10_000_000).default(50_000),
  CANOPY_MAX_ALIASES: z.coerce.number().int().min(0).max(1000).default(15),
  CANOPY_MAX_DIRECTIVES: z.coerce.number().int().min(0).max(1000).default(50),
  CANOPY_MAX_TOKENS: z.coerce.number().int().min(10).max(1_000_000).default(1000),
  CANOPY_MAX_BATCH: z.coerce.number().int().min(1).max(100).default(10),
  CANOPY_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).max(1_000_000).default(1200),
  CANOPY_RATE_LIMIT_PER_SECOND: z.coerce.number().int().min(1).max(100_000).default(100),
  CANOPY_SUBSCRIPTION_QUEUE_EVENTS: z.coerce.number().int().min(1).max(100_000).default(1000),
  CANOPY_SUBSCRIPTION_BUFFER_BYTES: z.coerce.number().int().min(64 * 1024).max(1024 * 1024 * 1024).default(4 * 1024 * 1024),
  CANOPY_SUBSCRIPTION_KEEPALIVE_MS: z.coerce.number().int().min(0).max(600_000).default(12_000),
  CANOPY_SUBSCRIPTIONS_PER_CONNECTION: z.coerce.number().int().min(1).max(10_000).default(100),
  CANOPY_SIMULATED_CLUSTERS: z
    .string()
    .default('')
    .transform((text) => text.split(',').map((name) => name.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a comma-separated list of cluster names (lower-case letters, digits and -)')).max(20)),
  CANOPY_BACKUP_TICK_MS: z.coerce.number().int().min(1000).max(3_600_000).default(30_000),
  CANOPY_RESYNC_INTERVAL_MS: z.coerce.number().int().min(1000).max(86_400_000).default(180_000),
  CANOPY_CLUSTER_WORK: z.enum(['elected', 'off']).default('elected'),
  CANOPY_LEADERSHIP_INTERVAL_MS: z.coerce.number().int().min(100).max(60_000).default(2000),
  CANOPY_USAGE_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .max(3_600_000)
    .refine((ms) => ms % 1000 === 0, 'must be whole seconds (a multiple of 1000)')
    .default(60_000),
});

export interface Config {
  host: string;
  port: number;
  logLevel: z.infer<typeof Environment>['CANOPY_LOG_LEVEL'];
  eventStore: EventStoreConfig;
  keyStore: KeyStoreConfig;
  /** CANOPY_MASTER_KEY (base64, 32 bytes); absent only in the embedded modes, where a development key is generated. */
  masterKey: string | undefined;
  /** Where development keys and secrets are generated when none is configured. */
  dataDir: string;
  auth: AuthSettings;
  maxBodyBytes: number;
  /** Where the read models live: PostgreSQL with CANOPY_POSTGRES_URL (schemas prefixed after CANOPY_POSTGRES_SCHEMA), else PGlite in dataDir/read-models. */
  readModels: ReadModelDbConfig;
  /** How long a mutation's answer waits for the read models to reflect it (0: not at all). */
  readYourWritesTimeoutMs: number;
  /** Whether an embedded database (the log or the key store in PGlite) lives in dataDir: then one process at a time. */
  embeddedDatabases: boolean;
  /** Where each subgraph runs: in this process (no url, the default) or behind its own HTTP endpoint. */
  subgraphs: Record<SubgraphName, { url: string | undefined }>;
  /** `development` (what `npm start` runs): GraphiQL, introspection, field suggestions, stack traces. `production` (the default): none of them. */
  mode: 'production' | 'development';
  /** The user GraphiQL's prefilled token is minted for (development mode, HS256 only). */
  devUser: string;
  /** What one GraphQL request may ask for. */
  limits: GraphQLLimits;
  rateLimit: RateLimitSettings;
  /** GraphQL subscriptions over WebSocket (subscriptions/): what one subscriber may hold, and keep-alive. */
  subscriptions: SubscriptionLimits;
  /** Simulated clusters this process runs, by name (CANOPY_SIMULATED_CLUSTERS; `npm start`: sim-east,sim-west). */
  simulatedClusters: string[];
  /** How often due backup schedules run and expired backups are deleted (CANOPY_BACKUP_TICK_MS). */
  backupTickMs: number;
  /** How often the usage collector samples every cluster (CANOPY_USAGE_INTERVAL_MS, whole seconds, default 60 s). */
  usageIntervalMs: number;
  /** How often the reconciler checks every cluster again to repair drift (CANOPY_RESYNC_INTERVAL_MS). */
  resyncIntervalMs: number;
  clusterWork: ClusterWorkConfig;
}

/**
 * Whether this process runs the cluster work (CANOPY_CLUSTER_WORK): `elected`,
 * while it leads — through an advisory lock on the PostgreSQL server when
 * CANOPY_POSTGRES_URL is set (processes sharing a schema elect one), always
 * otherwise (the embedded databases are locked to one process) — or `off`.
 */
export interface ClusterWorkConfig {
  mode: 'elected' | 'off';
  leadership: { kind: 'postgres'; url: string; name: string } | { kind: 'sole' };
  /** How often a standby tries to take over and the leader checks its hold (CANOPY_LEADERSHIP_INTERVAL_MS). */
  intervalMs: number;
}

/** The subgraphs the gateway composes. */
export const SUBGRAPHS = ['workspaces', 'backups', 'workloads', 'cost'] as const;
export type SubgraphName = (typeof SUBGRAPHS)[number];

/** The port `canopy subgraph <name>` listens on by default (next to the gateway's 4000), as in the committed supergraph's URLs. */
export const DEFAULT_SUBGRAPH_PORT = 4001;

/** Each subgraph's default port when served alone: workspaces 4001, backups 4002, workloads 4003, cost 4004. */
export const DEFAULT_SUBGRAPH_PORTS: Readonly<Record<SubgraphName, number>> = {
  workspaces: DEFAULT_SUBGRAPH_PORT,
  backups: DEFAULT_SUBGRAPH_PORT + 1,
  workloads: DEFAULT_SUBGRAPH_PORT + 2,
  cost: DEFAULT_SUBGRAPH_PORT + 3,
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and checks the environment; a wrong value throws a ConfigError naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = Environment.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const e = parsed.data;
  const embedded = e.CANOPY_EVENTSTORE === 'pglite' || e.CANOPY_EVENTSTORE === 'eventstoredb-test-server';
  if (!embedded && !e.CANOPY_MASTER_KEY) {
    throw new ConfigError(`CANOPY_MASTER_KEY is required when CANOPY_EVENTSTORE=${e.CANOPY_EVENTSTORE}: secrets are encrypted with it (32 random bytes, base64).`);
  }
  if (!embedded && !e.CANOPY_JWT_SECRET && !e.CANOPY_JWKS_URL) {
    throw new ConfigError(`CANOPY_JWT_SECRET or CANOPY_JWKS_URL is required when CANOPY_EVENTSTORE=${e.CANOPY_EVENTSTORE}: the development secret is for the embedded modes only.`);
  }
  const eventStore = eventStoreConfig(e);
  const keyStore: KeyStoreConfig = e.CANOPY_POSTGRES_URL ? { kind: 'postgres', url: e.CANOPY_POSTGRES_URL, schema: e.CANOPY_POSTGRES_SCHEMA } : { kind: 'pglite', dataDir: join(e.CANOPY_DATA_DIR, 'keys') };
  return {
    host: e.HOST,
    port: e.PORT,
    logLevel: e.CANOPY_LOG_LEVEL,
    eventStore,
    keyStore,
    readModels: e.CANOPY_POSTGRES_URL
      ? { kind: 'postgres', url: e.CANOPY_POSTGRES_URL, schemaPrefix: e.CANOPY_POSTGRES_SCHEMA === 'public' ? '' : `${e.CANOPY_POSTGRES_SCHEMA}_` }
      : { kind: 'pglite', dataDir: join(e.CANOPY_DATA_DIR, 'read-models') },
    embeddedDatabases: 'dataDir' in eventStore || keyStore.kind === 'pglite',
    masterKey: e.CANOPY_MASTER_KEY,
    dataDir: e.CANOPY_DATA_DIR,
    auth: { jwtSecret: e.CANOPY_JWT_SECRET, jwksUrl: e.CANOPY_JWKS_URL, issuer: e.CANOPY_JWT_ISSUER, audience: e.CANOPY_JWT_AUDIENCE, dataDir: e.CANOPY_DATA_DIR },
    maxBodyBytes: e.CANOPY_MAX_BODY_BYTES,
    readYourWritesTimeoutMs: e.CANOPY_READ_YOUR_WRITES_TIMEOUT_MS,
    subgraphs: { workspaces: { url: e.CANOPY_SUBGRAPH_WORKSPACES_URL }, backups: { url: e.CANOPY_SUBGRAPH_BACKUPS_URL }, workloads: { url: e.CANOPY_SUBGRAPH_WORKLOADS_URL }, cost: { url: e.CANOPY_SUBGRAPH_COST_URL } },
    mode: e.CANOPY_MODE,
    devUser: e.CANOPY_DEV_USER,
    limits: {
      depth: e.CANOPY_MAX_DEPTH,
      cost: e.CANOPY_MAX_COST,
      aliases: e.CANOPY_MAX_ALIASES,
      directives: e.CANOPY_MAX_DIRECTIVES,
      tokens: e.CANOPY_MAX_TOKENS,
      batch: e.CANOPY_MAX_BATCH,
    },
    rateLimit: { perMinute: e.CANOPY_RATE_LIMIT_PER_MINUTE, perSecond: e.CANOPY_RATE_LIMIT_PER_SECOND },
    subscriptions: {
      queueEvents: e.CANOPY_SUBSCRIPTION_QUEUE_EVENTS,
      bufferBytes: e.CANOPY_SUBSCRIPTION_BUFFER_BYTES,
      keepAliveMs: e.CANOPY_SUBSCRIPTION_KEEPALIVE_MS,
      perConnection: e.CANOPY_SUBSCRIPTIONS_PER_CONNECTION,
      maxMessageBytes: e.CANOPY_MAX_BODY_BYTES,
    },
    simulatedClusters: e.CANOPY_SIMULATED_CLUSTERS,
    backupTickMs: e.CANOPY_BACKUP_TICK_MS,
    resyncIntervalMs: e.CANOPY_RESYNC_INTERVAL_MS,
    usageIntervalMs: e.CANOPY_USAGE_INTERVAL_MS,
    clusterWork: {
      mode: e.CANOPY_CLUSTER_WORK,
      leadership: e.CANOPY_POSTGRES_URL ? { kind: 'postgres', url: e.CANOPY_POSTGRES_URL, name: e.CANOPY_POSTGRES_SCHEMA } : { kind: 'sole' },
      intervalMs: e.CANOPY_LEADERSHIP_INTERVAL_MS,
    },
  };
}

function eventStoreConfig(e: z.infer<typeof Environment>): EventStoreConfig {
  switch (e.CANOPY_EVENTSTORE) {
    case 'pglite':
      return { kind: 'pglite', dataDir: join(e.CANOPY_DATA_DIR, 'log') };
    case 'postgres':
      if (!e.CANOPY_POSTGRES_URL) throw new ConfigError('CANOPY_POSTGRES_URL is required when CANOPY_EVENTSTORE=postgres.');
      return { kind: 'postgres', url: e.CANOPY_POSTGRES_URL, schema: e.CANOPY_POSTGRES_SCHEMA };
    case 'eventstoredb':
      if (!e.CANOPY_EVENTSTORE_URL) throw new ConfigError('CANOPY_EVENTSTORE_URL is required when CANOPY_EVENTSTORE=eventstoredb.');
      return { kind: 'eventstoredb', connectionString: e.CANOPY_EVENTSTORE_URL };
    case 'eventstoredb-test-server':
      return { kind: 'eventstoredb-test-server', dataDir: join(e.CANOPY_DATA_DIR, 'log') };
  }
}
