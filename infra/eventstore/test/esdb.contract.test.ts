/**
 * The EventStoreDB adapter against the port's contract: a fresh in-memory
 * PGlite store behind a fresh EventStoreDB-protocol test server on an
 * ephemeral port, reached by the real client over the socket.
 */
import { openEventStoreDbEventStore } from '../src/esdb/index.js';
import { startEsdbTestServer } from '../src/esdb-server/index.js';
import { openPgliteEventStore } from '../src/sql/index.js';
import { describeEventStoreContract } from './contract/index.js';

describeEventStoreContract(
  'EventStoreDB (test server over gRPC)',
  async () => {
    const backing = await openPgliteEventStore();
    const server = await startEsdbTestServer({ store: backing });
    const store = await openEventStoreDbEventStore(server.connectionString);
    return {
      store,
      async close() {
        await store.close();
        await server.close();
        await backing.close();
      },
    };
  },
  // Real EventStoreDB checks ids only against the expected revision, so the
  // adapter does not promise that an id used by another append is refused.
  { uniqueIdsAcrossAppends: false },
);
