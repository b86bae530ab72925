import { z } from 'zod';
import type { EventStoreConfig } from '@canopy/eventstore';

/** Every setting of the process, from the environment; the README's configuration table mirrors this. */
const Environment = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  CANOPY_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  CANOPY_EVENTSTORE: z.enum(['pglite', 'postgres', 'eventstoredb', 'eventstoredb-test-server']).default('pglite'),
  CANOPY_DATA_DIR: z.string().min(1).default('.canopy/data'),
  CANOPY_POSTGRES_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
  CANOPY_POSTGRES_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'must be a lower-case SQL identifier').default('public'),
  CANOPY_EVENTSTORE_URL: z.string().regex(/^(esdb|esdb\+discover|kurrentdb|kurrentdb\+discover):\/\//, 'must be an esdb:// connection string').optional(),
});

export interface Config {
  host: string;
  port: number;
  logLevel: z.infer<typeof Environment>['CANOPY_LOG_LEVEL'];
  eventStore: EventStoreConfig;
}

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
  return { host: e.HOST, port: e.PORT, logLevel: e.CANOPY_LOG_LEVEL, eventStore: eventStoreConfig(e) };
}

function eventStoreConfig(e: z.infer<typeof Environment>): EventStoreConfig {
  switch (e.CANOPY_EVENTSTORE) {
    case 'pglite':
      return { kind: 'pglite', dataDir: e.CANOPY_DATA_DIR };
    case 'postgres':
      if (!e.CANOPY_POSTGRES_URL) throw new ConfigError('CANOPY_POSTGRES_URL is required when CANOPY_EVENTSTORE=postgres.');
      return { kind: 'postgres', url: e.CANOPY_POSTGRES_URL, schema: e.CANOPY_POSTGRES_SCHEMA };
    case 'eventstoredb':
      if (!e.CANOPY_EVENTSTORE_URL) throw new ConfigError('CANOPY_EVENTSTORE_URL is required when CANOPY_EVENTSTORE=eventstoredb.');
      return { kind: 'eventstoredb', connectionString: e.CANOPY_EVENTSTORE_URL };
    case 'eventstoredb-test-server':
      return { kind: 'eventstoredb-test-server', dataDir: e.CANOPY_DATA_DIR };
  }
}
