/**
 * The subjects measured, one per report row: how to open each, and how the
 * report names it. Each runs in a child process of its own (see sections.ts).
 */
import { openEventStoreDbEventStore } from '../src/esdb/index.js';
import { startEsdbTestServer } from '../src/esdb-server/index.js';
import { openPgliteEventStore, openPostgresEventStore } from '../src/sql/index.js';
import { packageVersion, postgresUrl, redact } from './config.js';
import { openEmmettPeer } from './emmett-peer.js';
import { freshSchema } from './postgres-server.js';
import { portTarget } from './port-target.js';
import type { OpenedTarget } from './target.js';

export type SubjectId = 'pglite' | 'postgres' | 'emmett' | 'esdb';

export interface Subject {
  id: SubjectId;
  /** The report row's name. */
  label: string;
  /** What the row measures, for the report. */
  describes: string;
  needsPostgres: boolean;
  open(): Promise<OpenedTarget>;
}

export const SUBJECTS: readonly Subject[] = [
  {
    id: 'pglite',
    label: 'PGlite adapter (in memory)',
    describes: '`openPgliteEventStore()`: the SQL adapter on embedded PGlite (WASM PostgreSQL) in memory, in the bench process.',
    needsPostgres: false,
    async open() {
      const store = await openPgliteEventStore();
      return { target: portTarget(store), notes: [`@electric-sql/pglite ${packageVersion('@electric-sql/pglite')}, in memory`], close: () => store.close() };
    },
  },
  {
    id: 'postgres',
    label: 'PostgreSQL adapter',
    describes: '`openPostgresEventStore(url, { schema })`: the SQL adapter over `pg` (pool of 10) on the PostgreSQL server, in a fresh schema dropped afterwards.',
    needsPostgres: true,
    async open() {
      const url = postgresUrl();
      const schema = await freshSchema(url, 'canopy_bench_log');
      const store = await openPostgresEventStore(url, { schema: schema.name }).catch(async (error: unknown) => {
        await schema.drop();
        throw error;
      });
      return {
        target: portTarget(store),
        notes: [`pg ${packageVersion('pg')}; ${redact(url)}, schema ${schema.name} (dropped afterwards)`],
        async close() {
          await store.close();
          await schema.drop();
        },
      };
    },
  },
  {
    id: 'emmett',
    label: 'Peer: emmett-postgresql',
    describes:
      '`getPostgreSQLEventStore(url)` from `@event-driven-io/emmett-postgresql` on the same server, own schema (dropped afterwards). Appends: `appendToStream` with `expectedStreamVersion`. ' +
      "Read-all: emmett has no read-all; measured is `readMessagesBatch` (the query its consumers poll with) paged over all messages, 1,000 per page. " +
      'Catch-up: `postgreSQLEventStoreMessageBatchPuller` (the puller under `store.consumer()`) from BEGINNING, batchSize 1,000, pullingFrequencyInMs 0, until the last event is delivered; no reactor (they store a checkpoint per message).',
    needsPostgres: true,
    open: () => openEmmettPeer(postgresUrl()),
  },
  {
    // The EventStoreDB adapter and the protocol test server (src/esdb, src/esdb-server) plug in here.
    id: 'esdb',
    label: 'EventStoreDB adapter → protocol test server (client + protocol cost only; not EventStoreDB speed)',
    describes:
      '`openEventStoreDbEventStore(connectionString)` (the official `@eventstore/db-client` over gRPC on loopback) against `startEsdbTestServer({ store })` in the same process, backed by an in-memory PGlite store. ' +
      "It measures the client, the adapter and the gRPC protocol round trips on top of PGlite — not EventStoreDB's speed, which these figures say nothing about.",
    needsPostgres: false,
    async open() {
      const backing = await openPgliteEventStore();
      const server = await startEsdbTestServer({ store: backing });
      const store = await openEventStoreDbEventStore(server.connectionString);
      return {
        target: portTarget(store),
        notes: [`@eventstore/db-client ${packageVersion('@eventstore/db-client')}, @grpc/grpc-js ${packageVersion('@grpc/grpc-js')}; server ${server.connectionString} backed by in-memory PGlite`],
        async close() {
          await store.close();
          await server.close();
          await backing.close();
        },
      };
    },
  },
];
