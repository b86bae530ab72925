import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { openPgliteEventStore, type EventStore, type ReadDomainEvent } from '@canopy/eventstore';
import { categoryOf, EventHub } from '../../src/subscriptions/hub.js';

/** The hub alone on a real log (in-memory PGlite): who gets which event, in which order, and when it stops. */

let store: EventStore;
let hub: EventHub;
const logger = pino({ level: 'silent' });
let seq = 0;

beforeAll(async () => {
  store = await openPgliteEventStore();
  hub = await EventHub.start(store, { upcast: (event) => event as ReadDomainEvent, logger });
}, 60_000);

afterAll(async () => {
  await hub?.stop();
  await store?.close();
});

afterEach(() => {
  expect(hub.listening).toBe(0);
});

/** A category of stream names no other test uses. */
const category = (name: string) => `${name}${++seq}-`;

async function append(stream: string, count = 1): Promise<void> {
  await store.append(
    stream,
    Array.from({ length: count }, (_, i) => ({ type: 'Thing', data: { i } })),
  );
}

/** Waits until the hub has dispatched everything in the log. */
async function settled(): Promise<bigint> {
  const head = (await store.headPosition()) ?? 0n;
  const deadline = Date.now() + 10_000;
  while ((hub.position ?? 0n) < head) {
    if (Date.now() > deadline) throw new Error('the hub did not reach the head in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return head;
}

async function positionsOf(match: (stream: string) => boolean, after: bigint): Promise<bigint[]> {
  const positions: bigint[] = [];
  for await (const event of store.readAll({ after })) if (match(event.stream)) positions.push(event.position);
  return positions;
}

/** A listener that records what it gets. */
function recorder() {
  const got: ReadDomainEvent[] = [];
  return { got, listener: (event: ReadDomainEvent) => void got.push(event) };
}

describe('listening by prefix', () => {
  it('gets the events of every stream of the prefix, streams created later included, in log order; not those of a longer category or a sibling prefix', async () => {
    const cat = category('pre');
    const from = await settled();
    const { got, listener } = recorder();
    const unlisten = hub.listen({ prefixes: [`${cat}a`] }, listener);
    await append(`${cat}a1`, 2);
    await append(`${cat}b1`, 2); // same category, not the prefix
    await append(`${cat.slice(0, -1)}x-a1`, 2); // a longer category that starts alike
    await append(`${cat}a2`, 1);
    await append(`${cat}a1`, 1);
    await settled();
    unlisten();
    const expected = await positionsOf((stream) => stream.startsWith(`${cat}a`), from);
    expect(expected).toHaveLength(4);
    expect(got.map((e) => e.position)).toEqual(expected);
    expect(got.map((e) => e.stream)).toEqual([`${cat}a1`, `${cat}a1`, `${cat}a2`, `${cat}a1`]);
  });

  it('delivers an event once to a listener whose exact streams and prefixes both match it, and mixes them in log order', async () => {
    const cat = category('both');
    const other = category('exact');
    const from = await settled();
    const { got, listener } = recorder();
    const unlisten = hub.listen({ streams: [`${cat}one`, `${other}x`], prefixes: [cat, `${cat}on`] }, listener);
    await append(`${cat}one`, 2);
    await append(`${other}x`, 1);
    await append(`${other}y`, 1);
    await append(`${cat}two`, 1);
    await settled();
    unlisten();
    expect(got.map((e) => e.position)).toEqual(await positionsOf((stream) => stream.startsWith(cat) || stream === `${other}x`, from));
    expect(got.map((e) => e.stream)).toEqual([`${cat}one`, `${cat}one`, `${other}x`, `${cat}two`]);
  });

  it('calls every listener of a prefix, and stops calling one at once when it stops listening (and only that one)', async () => {
    const cat = category('stop');
    await settled();
    const first = recorder();
    const second = recorder();
    const stopFirst = hub.listen({ prefixes: [cat] }, first.listener);
    const stopSecond = hub.listen({ prefixes: [cat] }, second.listener);
    expect(hub.listening).toBe(2);
    await append(`${cat}a`, 2);
    await settled();
    stopFirst();
    stopFirst(); // a second call changes nothing
    expect(hub.listening).toBe(1);
    await append(`${cat}b`, 3);
    await settled();
    expect(first.got).toHaveLength(2);
    expect(second.got).toHaveLength(5);
    stopSecond();
    await append(`${cat}c`, 1);
    await settled();
    expect(second.got).toHaveLength(5);
  });

  it('refuses a prefix that does not hold its category, before it registers anything', () => {
    const { listener } = recorder();
    expect(() => hub.listen({ streams: ['exact-1'], prefixes: ['backup'] }, listener)).toThrow(/category/);
    expect(hub.listening).toBe(0);
  });

  it("a stream's category is its name up to its first dash", () => {
    expect(categoryOf('backup-locations-1')).toBe('backup-');
    expect(categoryOf('backup-')).toBe('backup-');
    expect(categoryOf('backups')).toBeUndefined();
  });
});

describe('listening by exact name', () => {
  it('gets its streams only, as before: a prefix listener elsewhere changes nothing', async () => {
    const cat = category('names');
    const from = await settled();
    const exact = recorder();
    const byPrefix = recorder();
    const stopExact = hub.listen([`${cat}a`], exact.listener);
    const stopPrefix = hub.listen({ prefixes: [`${cat}b`] }, byPrefix.listener);
    await append(`${cat}a`, 2);
    await append(`${cat}ab`, 1);
    await append(`${cat}b`, 1);
    await settled();
    stopExact();
    stopPrefix();
    expect(exact.got.map((e) => e.position)).toEqual(await positionsOf((stream) => stream === `${cat}a`, from));
    expect(byPrefix.got.map((e) => e.stream)).toEqual([`${cat}b`]);
  });
});
