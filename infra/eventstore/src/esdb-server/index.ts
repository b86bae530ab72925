/**
 * An in-process server speaking EventStoreDB's gRPC protocol (the version
 * `@eventstore/db-client` speaks), backed by any EventStore. Tests use it to
 * run the real EventStoreDB client over a real socket against the same
 * storage semantics as the SQL adapters. See ESDB-TEST-SERVER.md for what it
 * covers and how it differs from EventStoreDB.
 */
import { Server, ServerCredentials, type ServerErrorResponse } from '@grpc/grpc-js';
import type { EventStore } from '../event-store.js';
import { DEFAULT_MAX_APPEND_BYTES } from '../validation.js';
import { appendHandler } from './append.js';
import { batchAppendHandler } from './batch-append.js';
import type { ServerContext } from './context.js';
import { unimplementedError } from './errors.js';
import { gossipHandler } from './gossip.js';
import { GossipService, ServerFeaturesService, StreamsService } from './protocol.js';
import { readHandler } from './read.js';
import { serverFeaturesHandler } from './server-features.js';

export interface EsdbTestServerOptions {
  /** The storage behind the protocol. The server does not close it. */
  store: EventStore;
  /** Defaults to 127.0.0.1. */
  host?: string;
  /** Defaults to 0: an ephemeral port. */
  port?: number;
  /** Largest append, in bytes of event data plus custom metadata; defaults to 1 MiB like EventStoreDB. */
  maxAppendSize?: number;
  /** Advertise Streams.BatchAppend so the client appends through it; defaults to true (EventStoreDB ≥ 21.10). Append is served either way. */
  batchAppend?: boolean;
  /** Version reported by ServerFeatures; defaults to '23.10.0'. */
  serverVersion?: string;
}

export interface EsdbTestServer {
  /** `esdb://HOST:PORT?tls=false`. */
  connectionString: string;
  port: number;
  /** Ends every subscription and call, then stops listening. */
  close(): Promise<void>;
}

/** How long calls get to finish on close before they are cancelled. */
const SHUTDOWN_GRACE_MS = 500;

export async function startEsdbTestServer(options: EsdbTestServerOptions): Promise<EsdbTestServer> {
  const { store, host = '127.0.0.1', port = 0, maxAppendSize = DEFAULT_MAX_APPEND_BYTES, batchAppend = true, serverVersion = '23.10.0' } = options;
  const cleanups = new Set<() => Promise<void>>();
  const context: ServerContext = {
    store,
    maxAppendSize,
    onClose(cleanup) {
      cleanups.add(cleanup);
      return () => cleanups.delete(cleanup);
    },
  };

  const server = new Server({ 'grpc.max_receive_message_length': Math.max(17 * 1024 * 1024, 2 * maxAppendSize) });
  const unimplemented = (method: string) => (_call: unknown, callback: (error: ServerErrorResponse) => void) =>
    callback(unimplementedError(method));
  server.addService(StreamsService, {
    read: readHandler(context),
    append: appendHandler(context),
    batchAppend: batchAppendHandler(context),
    delete: unimplemented('Streams.Delete'),
    tombstone: unimplemented('Streams.Tombstone'),
  });
  server.addService(ServerFeaturesService, { getSupportedMethods: serverFeaturesHandler({ batchAppend, serverVersion }) });
  let boundPort = port;
  server.addService(GossipService, { read: gossipHandler(() => ({ host, port: boundPort })) });

  boundPort = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, ServerCredentials.createInsecure(), (error, actualPort) => {
      if (error) reject(error);
      else resolve(actualPort);
    });
  });

  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    const pending = [...cleanups];
    cleanups.clear();
    await Promise.allSettled(pending.map((cleanup) => cleanup()));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, SHUTDOWN_GRACE_MS);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  };

  return {
    connectionString: `esdb://${host}:${boundPort}?tls=false`,
    port: boundPort,
    close: () => (closing ??= close()),
  };
}
