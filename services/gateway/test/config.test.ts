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
    });
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

  it.each([
    [{ PORT: 'eighty' }, /PORT/],
    [{ CANOPY_EVENTSTORE: 'mongodb' }, /CANOPY_EVENTSTORE/],
    [{ CANOPY_EVENTSTORE: 'postgres', CANOPY_MASTER_KEY: 'k', CANOPY_JWT_SECRET: 's' }, /CANOPY_POSTGRES_URL is required/],
    [{ CANOPY_EVENTSTORE: 'eventstoredb', CANOPY_MASTER_KEY: 'k', CANOPY_JWT_SECRET: 's' }, /CANOPY_EVENTSTORE_URL is required/],
    [{ CANOPY_EVENTSTORE_URL: 'http://esdb:2113' }, /CANOPY_EVENTSTORE_URL: must be an esdb:\/\/ connection string/],
    [{ CANOPY_READ_YOUR_WRITES_TIMEOUT_MS: '-1' }, /CANOPY_READ_YOUR_WRITES_TIMEOUT_MS/],
    [{ CANOPY_POSTGRES_SCHEMA: 'a_schema_name_of_28_letters' + 'x' }, /CANOPY_POSTGRES_SCHEMA: must be a lower-case SQL identifier of at most 27 characters/],
    [{ CANOPY_READ_YOUR_WRITES_TIMEOUT_MS: '61000' }, /CANOPY_READ_YOUR_WRITES_TIMEOUT_MS/],
  ])('a wrong value %j stops the start with a message naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
