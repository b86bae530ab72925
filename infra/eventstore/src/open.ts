import type { EventStore } from './event-store.js';
import { openEventStoreDbEventStore } from './esdb/index.js';
import { startEsdbTestServer } from './esdb-server/index.js';
import { openPgliteEventStore, openPostgresEventStore } from './sql/index.js';

/** Which log to open; the process configuration picks one. */
export type EventStoreConfig =
  | { kind: 'pglite'; dataDir?: string }
  | { kind: 'postgres'; url: string; schema?: string }
  | { kind: 'eventstoredb'; connectionString: string }
  /** The EventStoreDB client over a real socket to the in-process protocol server, backed by PGlite: for demos and tests. */
  | { kind: 'eventstoredb-test-server'; dataDir?: string };

export interface OpenedEventStore {
  store: EventStore;
  /** Where the log lives, for the startup log line. */
  description: string;
  close(): Promise<void>;
}

export async function openEventStore(config: EventStoreConfig): Promise<OpenedEventStore> {
  switch (config.kind) {
    case 'pglite': {
      const store = await openPgliteEventStore({ dataDir: config.dataDir });
      return { store, description: `embedded PGlite ${config.dataDir ? `in ${config.dataDir}` : 'in memory'}`, close: () => store.close() };
    }
    case 'postgres': {
      const store = await openPostgresEventStore(config.url, { schema: config.schema });
      return { store, description: `PostgreSQL at ${redactUrl(config.url)}`, close: () => store.close() };
    }
    case 'eventstoredb': {
      const store = await openEventStoreDbEventStore(config.connectionString);
      return { store, description: `EventStoreDB at ${redactUrl(config.connectionString)}`, close: () => store.close() };
    }
    case 'eventstoredb-test-server': {
      const backing = await openPgliteEventStore({ dataDir: config.dataDir });
      const server = await startEsdbTestServer({ store: backing });
      const store = await openEventStoreDbEventStore(server.connectionString);
      return {
        store,
        description: `EventStoreDB protocol test server at ${server.connectionString} (backed by embedded PGlite ${config.dataDir ?? 'in memory'}; not a real EventStoreDB)`,
        async close() {
          await store.close();
          await server.close();
          await backing.close();
        },
      };
    }
  }
}

/** Hides the password of a connection URL. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}
