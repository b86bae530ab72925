import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '../src/config.js';

describe('configuration from the environment', () => {
  it('defaults to the embedded log and key store under .canopy/data on 127.0.0.1:4000, with development keys', () => {
    expect(loadConfig({})).toEqual({
      host: '127.0.0.1',
      port: 4000,
      logLevel: 'info',
      eventStore: { kind: 'pglite', dataDir: '.canopy/data/log' },
      keyStore: { kind: 'pglite', dataDir: '.canopy/data/keys' },
      masterKey: undefined,
      dataDir: '.canopy/data',
      readModels: { kind: 'pglite', dataDir: '.canopy/data/read-models' },
      embeddedDatabases: true,
      auth: { jwtSecret: undefined, jwksUrl: undefined, issuer: 'canopy', audience: 'canopy', dataDir: '.canopy/data' },
      maxBodyBytes: 1024 * 1024,
      readYourWritesTimeoutMs: 5000,
      subgraphs: { workspaces: { url: undefined }, backups: { url: undefined }, workloads: { url: undefined }, cost: { url: undefined } },
      mode: 'production',
      devUser: 'dev@example.com',
      limits: { depth: 10, cost: 50_000, aliases: 15, directives: 50, tokens: 1000, batch: 10 },
      rateLimit: { perMinute: 1200, perSecond: 100 },
      subscriptions: { queueEvents: 1000, bufferBytes: 4 * 1024 * 1024, keepAliveMs: 12_000, perConnection: 100, maxMessageBytes: 1024 * 1024 },
      simulatedClusters: [],
      backupTickMs: 30_000,
      clusterWork: { mode: 'elected', leadership: { kind: 'sole' }, intervalMs: 2000 },
      resyncIntervalMs: 180_000,
      usageIntervalMs: 60_000,
    });
  });

  it('takes the simulated clusters from CANOPY_SIMULATED_CLUSTERS and refuses a name Kubernetes would not accept', () => {
    expect(loadConfig({ CANOPY_SIMULATED_CLUSTERS: 'sim-east, sim-west' }).simulatedClusters).toEqual(['sim-east', 'sim-west']);
    expect(() => loadConfig({ CANOPY_SIMULATED_CLUSTERS: 'sim-east,Not_A_Name' })).toThrow(/CANOPY_SIMULATED_CLUSTERS/);
    expect(() => loadConfig({ CANOPY_RESYNC_INTERVAL_MS: '10' })).toThrow(/CANOPY_RESYNC_INTERVAL_MS/);
  });

  it('samples usage every CANOPY_USAGE_INTERVAL_MS: whole seconds, from 1 s to 1 h', () => {
    expect(loadConfig({ CANOPY_USAGE_INTERVAL_MS: '1000' }).usageIntervalMs).toBe(1000);
    expect(() => loadConfig({ CANOPY_USAGE_INTERVAL_MS: '1500' })).toThrow(/CANOPY_USAGE_INTERVAL_MS: must be whole seconds/);
    expect(() => loadConfig({ CANOPY_USAGE_INTERVAL_MS: '7200000' })).toThrow(/CANOPY_USAGE_INTERVAL_MS/);
  });

  it('takes the subscription limits from CANOPY_SUBSCRIPTION_* and refuses nonsense', () => {
    const config = loadConfig({
      CANOPY_SUBSCRIPTION_QUEUE_EVENTS: '50',
      CANOPY_SUBSCRIPTION_BUFFER_BYTES: '100000',
      CANOPY_SUBSCRIPTION_KEEPALIVE_MS: '0',
      CANOPY_SUBSCRIPTIONS_PER_CONNECTION: '3',
      CANOPY_MAX_BODY_BYTES: '4096',
    });
    expect(config.subscriptions).toEqual({ queueEvents: 50, bufferBytes: 100_000, keepAliveMs: 0, perConnection: 3, maxMessageBytes: 4096 });
    expect(() => loadConfig({ CANOPY_SUBSCRIPTION_QUEUE_EVENTS: '0' })).toThrow(/CANOPY_SUBSCRIPTION_QUEUE_EVENTS/);
    expect(() => loadConfig({ CANOPY_SUBSCRIPTIONS_PER_CONNECTION: 'many' })).toThrow(/CANOPY_SUBSCRIPTIONS_PER_CONNECTION/);
  });

  it('takes the mode, the limits and the rates from CANOPY_MODE, CANOPY_MAX_* and CANOPY_RATE_LIMIT_*', () => {
    const config = loadConfig({
      CANOPY_MODE: 'development',
      CANOPY_DEV_USER: 'ada@example.com',
      CANOPY_MAX_DEPTH: '4',
      CANOPY_MAX_COST: '900',
      CANOPY_MAX_ALIASES: '3',
      CANOPY_MAX_DIRECTIVES: '2',
      CANOPY_MAX_TOKENS: '200',
      CANOPY_MAX_BATCH: '5',
      CANOPY_RATE_LIMIT_PER_MINUTE: '0',
      CANOPY_RATE_LIMIT_PER_SECOND: '7',
    });
    expect(config).toMatchObject({
      mode: 'development',
      devUser: 'ada@example.com',
      limits: { depth: 4, cost: 900, aliases: 3, directives: 2, tokens: 200, batch: 5 },
      rateLimit: { perMinute: 0, perSecond: 7 },
    });
  });

  it('runs the workspaces subgraph in process unless CANOPY_SUBGRAPH_WORKSPACES_URL names where it answers', () => {
    expect(loadConfig({ CANOPY_SUBGRAPH_WORKSPACES_URL: 'http://workspaces.internal:4001/graphql' }).subgraphs).toEqual({ workspaces: { url: 'http://workspaces.internal:4001/graphql' }, backups: { url: undefined }, workloads: { url: undefined }, cost: { url: undefined } });
    expect(() => loadConfig({ CANOPY_SUBGRAPH_WORKSPACES_URL: 'workspaces:4001' })).toThrow(/CANOPY_SUBGRAPH_WORKSPACES_URL: must be the http\(s\):\/\/ URL/);
  });

  it('refuses development keys outside the embedded modes', () => {
    const postgres = { CANOPY_EVENTSTORE: 'postgres', CANOPY_POSTGRES_URL: 'postgres://u@db/canopy' };
    expect(() => loadConfig(postgres)).toThrow(/CANOPY_MASTER_KEY is required/);
    expect(() => loadConfig({ ...postgres, CANOPY_MASTER_KEY: 'k' })).toThrow(/CANOPY_JWT_SECRET or CANOPY_JWKS_URL is required/);
    expect(loadConfig({ ...postgres, CANOPY_MASTER_KEY: 'k', CANOPY_JWKS_URL: 'https://idp/jwks' }).keyStore).toEqual({ kind: 'postgres', url: 'postgres://u@db/canopy', schema: 'public' });
    // Nothing embedded in the data directory: several processes may share the configuration.
    expect(loadConfig({ ...postgres, CANOPY_MASTER_KEY: 'k', CANOPY_JWKS_URL: 'https://idp/jwks' }).embeddedDatabases).toBe(false);
    // Read models go to the same server, in schemas prefixed after CANOPY_POSTGRES_SCHEMA when it is not public.
    expect(loadConfig({ ...postgres, CANOPY_MASTER_KEY: 'k', CANOPY_JWKS_URL: 'https://idp/jwks', CANOPY_POSTGRES_SCHEMA: 'tenant_a' }).readModels).toEqual({
      kind: 'postgres',
      url: 'postgres://u@db/canopy',
      schemaPrefix: 'tenant_a_',
    });
  });

  it('opens PostgreSQL when asked, with the URL and schema', () => {
    expect(loadConfig({ CANOPY_EVENTSTORE: 'postgres', CANOPY_POSTGRES_URL: 'postgres://u@db/canopy', CANOPY_MASTER_KEY: 'k', CANOPY_JWT_SECRET: 's' }).eventStore).toEqual({
      kind: 'postgres',
      url: 'postgres://u@db/canopy',
      schema: 'public',
    });
  });

  it('elects the process that runs the cluster work through the PostgreSQL server when there is one, per schema', () => {
    const postgres = { CANOPY_EVENTSTORE: 'postgres', CANOPY_POSTGRES_URL: 'postgres://u@db/canopy', CANOPY_POSTGRES_SCHEMA: 'team_a', CANOPY_MASTER_KEY: 'k', CANOPY_JWT_SECRET: 's' };
    expect(loadConfig(postgres).clusterWork).toEqual({ mode: 'elected', leadership: { kind: 'postgres', url: 'postgres://u@db/canopy', name: 'team_a' }, intervalMs: 2000 });
    expect(loadConfig({ ...postgres, CANOPY_CLUSTER_WORK: 'off', CANOPY_LEADERSHIP_INTERVAL_MS: '500' }).clusterWork).toMatchObject({ mode: 'off', intervalMs: 500 });
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT/],
    [{ CANOPY_EVENTSTORE: 'mongodb' }, /CANOPY_EVENTSTORE/],
    [{ CANOPY_EVENTSTORE: 'postgres', CANOPY_MASTER_KEY: 'k', CANOPY_JWT_SECRET: 's' }, /CANOPY_POSTGRES_URL is required/],
    [{ CANOPY_CLUSTER_WORK: 'sometimes' }, /CANOPY_CLUSTER_WORK/],
    [{ CANOPY_LEADERSHIP_INTERVAL_MS: '10' }, /CANOPY_LEADERSHIP_INTERVAL_MS/],
    [{ CANOPY_EVENTSTORE: 'eventstoredb', CANOPY_MASTER_KEY: 'k', CANOPY_JWT_SECRET: 's' }, /CANOPY_EVENTSTORE_URL is required/],
    [{ CANOPY_EVENTSTORE_URL: 'http://esdb:2113' }, /CANOPY_EVENTSTORE_URL: must be an esdb:\/\/ connection string/],
    [{ CANOPY_READ_YOUR_WRITES_TIMEOUT_MS: '-1' }, /CANOPY_READ_YOUR_WRITES_TIMEOUT_MS/],
    [{ CANOPY_POSTGRES_SCHEMA: 'a_schema_name_of_28_letters' + 'x' }, /CANOPY_POSTGRES_SCHEMA: must be a lower-case SQL identifier of at most 27 characters/],
    [{ CANOPY_READ_YOUR_WRITES_TIMEOUT_MS: '61000' }, /CANOPY_READ_YOUR_WRITES_TIMEOUT_MS/],
    [{ CANOPY_MODE: 'staging' }, /CANOPY_MODE/],
    [{ CANOPY_MAX_DEPTH: '0' }, /CANOPY_MAX_DEPTH/],
    [{ CANOPY_MAX_BATCH: '101' }, /CANOPY_MAX_BATCH/],
    [{ CANOPY_MAX_TOKENS: 'many' }, /CANOPY_MAX_TOKENS/],
    [{ CANOPY_RATE_LIMIT_PER_SECOND: '0' }, /CANOPY_RATE_LIMIT_PER_SECOND/],
  ])('a wrong value %j stops the start with a message naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
