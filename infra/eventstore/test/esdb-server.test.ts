/**
 * Protocol specifics of the EventStoreDB test server that the port's contract
 * suite does not reach: the raw client's view of appends (both append RPCs),
 * reads, subscriptions, filters and checkpoints, and the RPCs it refuses.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { credentials, Metadata, status } from '@grpc/grpc-js';
import {
  BACKWARDS,
  END,
  EventStoreDBClient,
  eventTypeFilter,
  FORWARDS,
  jsonEvent,
  persistentSubscriptionToStreamSettingsFromDefaults,
  binaryEvent,
  MaxAppendSizeExceededError,
  START,
  StreamNotFoundError,
  streamNameFilter,
  WrongExpectedVersionError,
  type AllStreamResolvedEvent,
  type Position as ClientPosition,
  type ResolvedEvent,
} from '@eventstore/db-client';
import streamsGrpc from '@eventstore/db-client/generated/streams_grpc_pb.js';
import streamsPb from '@eventstore/db-client/generated/streams_pb.js';
import sharedPb from '@eventstore/db-client/generated/shared_pb.js';
import serverFeaturesGrpc from '@eventstore/db-client/generated/serverfeatures_grpc_pb.js';
import serverFeaturesPb from '@eventstore/db-client/generated/serverfeatures_pb.js';
import { CanopyError, ErrorCode } from '@canopy/schema';
import type { EventStore } from '../src/event-store.js';
import { openEventStoreDbEventStore } from '../src/esdb/index.js';
import { startEsdbTestServer, type EsdbTestServer, type EsdbTestServerOptions } from '../src/esdb-server/index.js';
import { openPgliteEventStore } from '../src/sql/index.js';

/**
 * One in-memory PGlite store for the whole file (opening one takes seconds);
 * each test gets its own server and client on it and its own stream names,
 * and reads $all from an anchor it appended first.
 */
let backing: EventStore;
let openHarnesses: Harness[] = [];

interface Harness {
  server: EsdbTestServer;
  client: EventStoreDBClient;
  /** Unique per test: `name('order')` → `order-<uuid>`. */
  name(prefix: string): string;
  /** Appends a marker event and returns its position: $all reads and subscriptions from it see only this test's events. */
  anchor(): Promise<ClientPosition>;
}

async function harness(options: Omit<EsdbTestServerOptions, 'store'> = {}, connection = (server: EsdbTestServer) => server.connectionString): Promise<Harness> {
  const server = await startEsdbTestServer({ ...options, store: backing });
  const client = EventStoreDBClient.connectionString(connection(server));
  const suffix = randomUUID();
  const h: Harness = {
    server,
    client,
    name: (prefix) => `${prefix}-${suffix}`,
    async anchor() {
      const result = await client.appendToStream(`anchor-${randomUUID()}`, jsonEvent({ type: 'Anchor', data: {} }));
      return result.position!;
    },
  };
  openHarnesses.push(h);
  return h;
}

async function closeClient(client: EventStoreDBClient): Promise<void> {
  await client.dispose();
  const channel = await (client as unknown as { getChannel(): Promise<{ close(): void }> }).getChannel().catch(() => undefined);
  channel?.close();
}

beforeAll(async () => {
  backing = await openPgliteEventStore();
});

afterAll(async () => {
  await backing.close();
});

beforeEach(() => {
  openHarnesses = [];
});

afterEach(async () => {
  for (const h of openHarnesses.reverse()) {
    await closeClient(h.client);
    await h.server.close();
  }
});

async function readAll<T>(read: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of read) items.push(item);
  return items;
}

function types(events: Array<ResolvedEvent | AllStreamResolvedEvent>): string[] {
  return events.map((resolved) => resolved.event!.type);
}

const event = (type: string, data: Record<string, unknown> = {}, id?: string) => jsonEvent({ type, data, ...(id ? { id } : {}) });

describe.each([
  ['BatchAppend', true],
  ['Append', false],
])('appending through %s', (_name, batchAppend) => {
  it('returns the next expected revision and the position, and checks every expected revision', async () => {
    const { client, name } = await harness({ batchAppend });
    const order = name('order');
    const first = await client.appendToStream(order, [event('Placed'), event('Priced')], { expectedRevision: 'no_stream' });
    expect(first.success).toBe(true);
    expect(first.nextExpectedRevision).toBe(1n);
    expect(first.position!.commit).toBe(first.position!.prepare);

    await expect(client.appendToStream(order, event('Again'), { expectedRevision: 'no_stream' })).rejects.toMatchObject({
      constructor: WrongExpectedVersionError,
      streamName: order,
      expectedVersion: 'no_stream',
      actualVersion: 1n,
    });
    await expect(client.appendToStream(name('missing'), event('Shipped'), { expectedRevision: 'stream_exists' })).rejects.toMatchObject({
      expectedVersion: 'stream_exists',
      actualVersion: 'no_stream',
    });
    await expect(client.appendToStream(order, event('Shipped'), { expectedRevision: 0n })).rejects.toMatchObject({
      expectedVersion: 0n,
      actualVersion: 1n,
    });
    const next = await client.appendToStream(order, event('Shipped'), { expectedRevision: 1n });
    expect(next.nextExpectedRevision).toBe(2n);
    expect(next.position!.commit > first.position!.commit).toBe(true);
    expect((await client.appendToStream(order, event('Paid'), { expectedRevision: 'stream_exists' })).nextExpectedRevision).toBe(3n);
    expect((await client.appendToStream(order, event('Closed'), { expectedRevision: 'any' })).nextExpectedRevision).toBe(4n);
  });

  it('answers a re-append of the same event ids with the first result', async () => {
    const { client, name } = await harness({ batchAppend });
    const order = name('order');
    const events = [event('Placed', {}, randomUUID()), event('Priced', {}, randomUUID())];
    const first = await client.appendToStream(order, events, { expectedRevision: 'no_stream' });
    const again = await client.appendToStream(order, events, { expectedRevision: 'no_stream' });
    expect(again).toEqual(first);
    expect(await readAll(client.readStream(order))).toHaveLength(2);
  });

  it('refuses an id used by another append with DuplicateEventId', async () => {
    const { client, name } = await harness({ batchAppend });
    const used = event('Placed', {}, randomUUID());
    await client.appendToStream(name('first'), used);
    await expect(client.appendToStream(name('second'), used)).rejects.toThrow(/DuplicateEventId/);
  });

  it('refuses an append above the maximum append size', async () => {
    const { client, name } = await harness({ batchAppend, maxAppendSize: 1024 });
    const big = name('big');
    const error = await client.appendToStream(big, event('Big', { blob: 'x'.repeat(2000) })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MaxAppendSizeExceededError);
    expect((error as MaxAppendSizeExceededError).maxAppendSize).toBe(1024);
    await expect(readAll(client.readStream(big))).rejects.toBeInstanceOf(StreamNotFoundError);
  });

  it('defaults the maximum append size to 1 MiB', async () => {
    const { client, name } = await harness({ batchAppend });
    await client.appendToStream(name('fits'), event('Fits', { blob: 'x'.repeat(1024 * 1024 - 100) }));
    const error = await client.appendToStream(name('big'), event('Big', { blob: 'x'.repeat(1024 * 1024) })).catch((e: unknown) => e);
    expect(error).toMatchObject({ constructor: MaxAppendSizeExceededError, maxAppendSize: 1024 * 1024 });
  });

  it('accepts an append of no events after checking the expected revision', async () => {
    const { client, name } = await harness({ batchAppend });
    const empty = await client.appendToStream(name('nothing'), [], { expectedRevision: 'no_stream' });
    // EventStoreDB answers `no_stream`; the client turns an unset revision into 0n.
    expect(empty).toMatchObject({ success: true, position: undefined });
    const something = name('something');
    await client.appendToStream(something, event('One'));
    await expect(client.appendToStream(something, [], { expectedRevision: 'no_stream' })).rejects.toBeInstanceOf(WrongExpectedVersionError);
    expect((await client.appendToStream(something, [], { expectedRevision: 0n })).nextExpectedRevision).toBe(0n);
  });

  it('refuses binary events, which the backing store cannot hold', async () => {
    const { client, name } = await harness({ batchAppend });
    await expect(client.appendToStream(name('bin'), binaryEvent({ type: 'Bytes', data: Uint8Array.from([1, 2, 3]) }))).rejects.toThrow(/JSON/);
  });
});

describe('reading a stream', () => {
  it('reads forwards and backwards from a revision, with a count, and reports a missing stream', async () => {
    const { client, name } = await harness();
    const s = name('s');
    await client.appendToStream(s, ['A', 'B', 'C', 'D'].map((type) => event(type)));
    await client.appendToStream(name('other'), event('X'));

    expect(types(await readAll(client.readStream(s)))).toEqual(['A', 'B', 'C', 'D']);
    expect(types(await readAll(client.readStream(s, { fromRevision: 1n, maxCount: 2 })))).toEqual(['B', 'C']);
    expect(types(await readAll(client.readStream(s, { direction: BACKWARDS, fromRevision: END })))).toEqual(['D', 'C', 'B', 'A']);
    expect(types(await readAll(client.readStream(s, { direction: BACKWARDS, fromRevision: 2n, maxCount: 2 })))).toEqual(['C', 'B']);
    expect(types(await readAll(client.readStream(s, { direction: FORWARDS, fromRevision: END })))).toEqual([]);
    expect(types(await readAll(client.readStream(s, { fromRevision: 10n })))).toEqual([]);

    const [first] = await readAll(client.readStream(s, { maxCount: 1 }));
    expect(first!.event).toMatchObject({ streamId: s, revision: 0n, type: 'A', isJson: true, data: {}, metadata: {} });
    expect(first!.event!.created.getTime()).toBeGreaterThan(Date.now() - 60_000);

    const missing = name('missing');
    await expect(readAll(client.readStream(missing))).rejects.toBeInstanceOf(StreamNotFoundError);
    await expect(readAll(client.readStream(missing, { direction: BACKWARDS, fromRevision: END }))).rejects.toMatchObject({ streamName: missing });
  });

  it('has no system streams: stream metadata reads as absent', async () => {
    const { client, name } = await harness();
    const s = name('s');
    await client.appendToStream(s, event('A'));
    expect(await client.getStreamMetadata(s)).toEqual({ streamName: s });
    await expect(readAll(client.readStream('$stats-127.0.0.1:2113'))).rejects.toBeInstanceOf(StreamNotFoundError);
  });
});

describe('reading $all', () => {
  it('reads forwards from a position inclusively and backwards from a position exclusively', async () => {
    const { client, name, anchor } = await harness();
    const from = await anchor();
    for (const type of ['A', 'B', 'C', 'D']) await client.appendToStream(name(type), event(type));
    const [anchorEvent, ...all] = await readAll(client.readAll({ fromPosition: from }));
    expect(anchorEvent!.event!.type).toBe('Anchor');
    expect(types(all)).toEqual(['A', 'B', 'C', 'D']);
    const positionOfC = all[2]!.event!.position;
    expect(all[2]!.commitPosition).toBe(positionOfC.commit);

    expect(types(await readAll(client.readAll({ fromPosition: positionOfC })))).toEqual(['C', 'D']);
    expect(types(await readAll(client.readAll({ direction: BACKWARDS, fromPosition: positionOfC, maxCount: 3 })))).toEqual(['B', 'A', 'Anchor']);
    expect(types(await readAll(client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 3 })))).toEqual(['D', 'C', 'B']);
    expect(types(await readAll(client.readAll({ fromPosition: from, maxCount: 2 })))).toEqual(['Anchor', 'A']);
    expect(types(await readAll(client.readAll({ fromPosition: END })))).toEqual([]);
    expect(types(await readAll(client.readAll({ direction: BACKWARDS, fromPosition: START })))).toEqual([]);
  });
});

interface Watched {
  /** Resolves on the first caught-up signal. */
  caughtUp: Promise<void>;
  /** Event types and caught-up signals seen, once `until` said stop (then unsubscribed). */
  seen: Promise<string[]>;
}

function watch(
  subscription: { on(event: 'caughtUp' | 'data' | 'error', listener: (...args: never[]) => void): unknown; unsubscribe(): Promise<void> },
  until: (seen: string[]) => boolean,
): Watched {
  const seen: string[] = [];
  let caughtUp!: () => void;
  const caughtUpPromise = new Promise<void>((resolve) => (caughtUp = resolve));
  const done = new Promise<string[]>((resolve, reject) => {
    const check = () => {
      if (until(seen)) void subscription.unsubscribe().then(() => resolve(seen), reject);
    };
    subscription.on('caughtUp', () => {
      seen.push('caught-up');
      caughtUp();
      check();
    });
    subscription.on('data', (resolved: ResolvedEvent) => {
      seen.push(resolved.event!.type);
      check();
    });
    subscription.on('error', (error: Error) => reject(error));
  });
  return { caughtUp: caughtUpPromise, seen: done };
}

/** Waits until every subscription is live, then returns what each one saw. */
async function afterCaughtUp(watched: Watched[], act: () => Promise<void>): Promise<string[][]> {
  await Promise.all(watched.map((w) => w.caughtUp));
  await act();
  return Promise.all(watched.map((w) => w.seen));
}

describe('subscriptions', () => {
  it('subscribes to a stream: catch-up, caught-up, then live, after a revision', async () => {
    const { client, name } = await harness();
    const s = name('s');
    const other = name('other');
    const later = name('later');
    await client.appendToStream(s, [event('A'), event('B'), event('C')]);
    await client.appendToStream(other, event('X'));

    const watched = [
      watch(client.subscribeToStream(s), (seen) => seen.includes('D')),
      watch(client.subscribeToStream(s, { fromRevision: 1n }), (seen) => seen.includes('D')),
      watch(client.subscribeToStream(s, { fromRevision: END }), (seen) => seen.includes('D')),
      watch(client.subscribeToStream(later), (seen) => seen.includes('L')),
    ];
    const seen = await afterCaughtUp(watched, async () => {
      await client.appendToStream(other, event('Y'));
      await client.appendToStream(s, event('D'));
      await client.appendToStream(later, event('L'));
    });
    expect(seen).toEqual([
      ['A', 'B', 'C', 'caught-up', 'D'],
      ['C', 'caught-up', 'D'],
      ['caught-up', 'D'],
      ['caught-up', 'L'],
    ]);
  });

  it('subscribes to $all after a position and from the end', async () => {
    const { client, name, anchor } = await harness();
    const from = await anchor();
    const appended = await client.appendToStream(name('a'), [event('A1'), event('A2')]);

    const watched = [
      watch(client.subscribeToAll({ fromPosition: from }), (seen) => seen.includes('Live')),
      watch(client.subscribeToAll({ fromPosition: appended.position! }), (seen) => seen.includes('Live')),
      watch(client.subscribeToAll({ fromPosition: END }), (seen) => seen.includes('Live')),
    ];
    const seen = await afterCaughtUp(watched, async () => {
      await client.appendToStream(name('b'), event('Live'));
    });
    expect(seen).toEqual([
      ['A1', 'A2', 'caught-up', 'Live'],
      ['caught-up', 'Live'],
      ['caught-up', 'Live'],
    ]);
  });

  it('subscribes to $all from the start', async () => {
    const { client, name } = await harness();
    const mine = name('mine');
    await client.appendToStream(mine, event('Mine'));
    const seen = await watch(client.subscribeToAll(), (seen) => seen.includes('caught-up')).seen;
    expect(seen.filter((type) => type === 'Mine').length).toBeGreaterThanOrEqual(1);
    expect(seen.at(-1)).toBe('caught-up');
  });

  it('filters $all on the server by stream prefix, stream regex, type prefix and type regex', async () => {
    const { client, name, anchor } = await harness();
    const from = await anchor();
    const tag = name('t');
    await client.appendToStream(`order-1-${tag}`, [event('OrderPlaced'), event('OrderShipped')]);
    await client.appendToStream(`invoice-1-${tag}`, [event('InvoiceSent')]);
    await client.appendToStream(`order-2-${tag}`, [event('OrderPlaced')]);
    const until = (seen: string[]) => seen.includes('caught-up');
    const results = await Promise.all([
      watch(client.subscribeToAll({ fromPosition: from, filter: streamNameFilter({ prefixes: ['invoice-'] }) }), until).seen,
      watch(client.subscribeToAll({ fromPosition: from, filter: streamNameFilter({ regex: `^order-[2-9]-${tag}$` }) }), until).seen,
      watch(client.subscribeToAll({ fromPosition: from, filter: eventTypeFilter({ prefixes: ['Order', 'Nothing'] }) }), until).seen,
      watch(client.subscribeToAll({ fromPosition: from, filter: eventTypeFilter({ regex: 'Sent|Shipped' }) }), until).seen,
    ]);
    // `caught-up` is emitted when the message arrives, so it may overtake buffered events; compare events only.
    expect(results.map((seen) => seen.filter((s) => s !== 'caught-up'))).toEqual([
      ['InvoiceSent'],
      ['OrderPlaced'],
      ['OrderPlaced', 'OrderShipped', 'OrderPlaced'],
      ['OrderShipped', 'InvoiceSent'],
    ]);
  });

  it('sends checkpoints every checkpoint interval × search window considered events, and one before caught-up', async () => {
    const { client, name, anchor } = await harness();
    const from = await anchor();
    for (let i = 0; i < 7; i++) await client.appendToStream(name(`noise-${i}`), [event('Noise'), event('Noise'), event('Noise')]);
    const positions = (await readAll(client.readAll({ fromPosition: from }))).slice(1).map((resolved) => resolved.event!.position.commit);
    expect(positions).toHaveLength(21);
    const checkpoints: bigint[] = [];
    const caughtUp = new Promise<void>((resolve) => {
      const subscription = client.subscribeToAll({
        fromPosition: from,
        filter: eventTypeFilter({
          prefixes: ['Signal'],
          maxSearchWindow: 4,
          checkpointInterval: 2,
          checkpointReached: (_subscription: unknown, position: ClientPosition) => {
            expect(position.prepare).toBe(position.commit);
            checkpoints.push(position.commit);
          },
        }),
      });
      subscription.on('caughtUp', () => void subscription.unsubscribe().then(resolve));
      subscription.on('data', () => undefined);
    });
    await caughtUp;
    // 21 considered events, interval 8: after the 8th and the 16th, then the last one before caught-up.
    expect(checkpoints).toEqual([positions[7], positions[15], positions[20]]);
  });

  it('refuses an invalid filter regex', async () => {
    const { client } = await harness();
    const subscription = client.subscribeToAll({ filter: streamNameFilter({ regex: '(unclosed' }) });
    await expect(readAll(subscription)).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
  });
});

describe('what else the client may call', () => {
  it('answers ServerFeatures with the implemented methods, BatchAppend included unless disabled', async () => {
    for (const batchAppend of [true, false]) {
      const { server } = await harness({ batchAppend, serverVersion: '99.1.2' });
      const raw = new serverFeaturesGrpc.ServerFeaturesClient(`127.0.0.1:${server.port}`, credentials.createInsecure());
      const answer = await new Promise<serverFeaturesPb.SupportedMethods>((resolve, reject) =>
        raw.getSupportedMethods(new sharedPb.Empty(), (error, value) => (error ? reject(error) : resolve(value!))),
      );
      raw.close();
      expect(answer.getEventStoreServerVersion()).toBe('99.1.2');
      const methods = answer.getMethodsList().map((m) => `${m.getServiceName()}/${m.getMethodName()}`);
      expect(methods).toEqual(expect.arrayContaining(['event_store.client.streams.streams/read', 'event_store.client.streams.streams/append']));
      expect(methods.includes('event_store.client.streams.streams/batchappend')).toBe(batchAppend);
      expect(methods.some((m) => m.endsWith('/delete') || m.endsWith('/tombstone'))).toBe(false);
    }
  });

  it('answers UNIMPLEMENTED for deletes, tombstones, persistent subscriptions and projections', async () => {
    const { client, name } = await harness();
    const s = name('s');
    await client.appendToStream(s, event('A'));
    const unimplemented = { code: status.UNIMPLEMENTED };
    await expect(client.deleteStream(s)).rejects.toMatchObject(unimplemented);
    await expect(client.tombstoneStream(s)).rejects.toMatchObject(unimplemented);
    await expect(client.createPersistentSubscriptionToStream(s, 'group', persistentSubscriptionToStreamSettingsFromDefaults())).rejects.toMatchObject(unimplemented);
    await expect(client.listProjections()).rejects.toMatchObject(unimplemented);
    // Refused calls leave the connection usable.
    expect(types(await readAll(client.readStream(s)))).toEqual(['A']);
  });

  it('serves gossip so discovery connection strings reach it', async () => {
    const { client, name } = await harness({}, (server) => `esdb+discover://127.0.0.1:${server.port}?tls=false`);
    const found = name('found');
    await client.appendToStream(found, event('Found'));
    expect(types(await readAll(client.readStream(found)))).toEqual(['Found']);
  });

  it('answers reads with structured UUIDs when asked, and refuses reads without options', async () => {
    const { client, server, name } = await harness();
    const s = name('s');
    const id = randomUUID();
    await client.appendToStream(s, event('A', {}, id));
    const raw = new streamsGrpc.StreamsClient(`127.0.0.1:${server.port}`, credentials.createInsecure());
    const request = new streamsPb.ReadReq();
    const options = new streamsPb.ReadReq.Options();
    const streamOptions = new streamsPb.ReadReq.Options.StreamOptions();
    const identifier = new sharedPb.StreamIdentifier();
    identifier.setStreamName(Buffer.from(s));
    streamOptions.setStreamIdentifier(identifier);
    streamOptions.setStart(new sharedPb.Empty());
    options.setStream(streamOptions);
    options.setCount('10');
    options.setNoFilter(new sharedPb.Empty());
    const uuidOption = new streamsPb.ReadReq.Options.UUIDOption();
    uuidOption.setStructured(new sharedPb.Empty());
    options.setUuidOption(uuidOption);
    request.setOptions(options);
    const responses = await readAll<streamsPb.ReadResp>(raw.read(request, new Metadata()));
    const structured = responses[0]!.getEvent()!.getEvent()!.getId()!.getStructured()!;
    const bytes = Buffer.alloc(16);
    bytes.writeBigInt64BE(BigInt(structured.getMostSignificantBits()), 0);
    bytes.writeBigInt64BE(BigInt(structured.getLeastSignificantBits()), 8);
    expect(bytes.toString('hex')).toBe(id.replace(/-/g, ''));

    const error = await readAll(raw.read(new streamsPb.ReadReq(), new Metadata())).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: status.INVALID_ARGUMENT });
    raw.close();
  });
});

describe('EventStoreDbEventStore on the test server', () => {
  it('reports an unreachable server as EVENT_STORE_UNAVAILABLE', async () => {
    const server = await startEsdbTestServer({ store: backing });
    const connectionString = server.connectionString;
    await server.close();
    const error = await openEventStoreDbEventStore(connectionString).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CanopyError);
    expect((error as CanopyError).code).toBe(ErrorCode.EVENT_STORE_UNAVAILABLE);
  });

  it('refuses a malformed connection string as bad input', async () => {
    await expect(openEventStoreDbEventStore('http://nope')).rejects.toMatchObject({ code: ErrorCode.BAD_USER_INPUT, details: { field: 'connectionString' } });
  });

  it('reports caught-up at the head, and a subscription the server drops as SUBSCRIPTION_DROPPED', async () => {
    const server = await startEsdbTestServer({ store: backing });
    const store = await openEventStoreDbEventStore(server.connectionString);
    try {
      const stream = `dropped-${randomUUID()}`;
      const appended = await store.append(stream, [{ type: 'Before', data: {} }]);
      const subscription = store.subscribeToAll({ filter: { streamPrefixes: [stream] } });
      const iterator = subscription[Symbol.asyncIterator]();
      const messages = [];
      for (;;) {
        const next = await iterator.next();
        if (next.done) break;
        messages.push(next.value);
        if (next.value.kind === 'caught-up') break;
      }
      expect(messages.at(-1)).toEqual({ kind: 'caught-up', position: appended.position });
      expect(messages.filter((m) => m.kind === 'event')).toHaveLength(1);
      const pending = iterator.next().catch((e: unknown) => e);
      await server.close();
      const error = await pending;
      expect(error).toBeInstanceOf(CanopyError);
      expect((error as CanopyError).code).toBe(ErrorCode.SUBSCRIPTION_DROPPED);
    } finally {
      await store.close();
      await server.close();
    }
  });
});
