import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '../src/config.js';

describe('configuration from the environment', () => {
  it('defaults to the embedded log in .canopy/data on 127.0.0.1:4000', () => {
    expect(loadConfig({})).toEqual({ host: '127.0.0.1', port: 4000, logLevel: 'info', eventStore: { kind: 'pglite', dataDir: '.canopy/data' } });
  });

  it('opens PostgreSQL when asked, with the URL and schema', () => {
    expect(loadConfig({ CANOPY_EVENTSTORE: 'postgres', CANOPY_POSTGRES_URL: 'postgres://u@db/canopy' }).eventStore).toEqual({
      kind: 'postgres',
      url: 'postgres://u@db/canopy',
      schema: 'public',
    });
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT/],
    [{ CANOPY_EVENTSTORE: 'mongodb' }, /CANOPY_EVENTSTORE/],
    [{ CANOPY_EVENTSTORE: 'postgres' }, /CANOPY_POSTGRES_URL is required/],
    [{ CANOPY_EVENTSTORE: 'eventstoredb' }, /CANOPY_EVENTSTORE_URL is required/],
    [{ CANOPY_EVENTSTORE_URL: 'http://esdb:2113' }, /CANOPY_EVENTSTORE_URL: must be an esdb:\/\/ connection string/],
  ])('a wrong value %j stops the start with a message naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
