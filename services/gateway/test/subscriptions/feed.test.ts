import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { openPgliteEventStore, type EventStore, type ReadDomainEvent, type RecordedEvent } from '@canopy/eventstore';
import { CanopyError, ErrorCode } from '@canopy/schema';
import type { FollowOptions } from '@canopy/workspaces';
import { createEventFeed, type FeedDeps } from '../../src/subscriptions/feed.js';
import { EventHub } from '../../src/subscriptions/hub.js';

/**
 * The subscription machinery on a real log (in-memory PGlite, small pages so
 * that a replay takes several reads): one hub, followers replaying from a
 * cursor and switching to live, bounded queues, access checks.
 */

let store: EventStore;
let hub: EventHub;
const logger = pino({ level: 'silent' });
let seq = 0;

beforeAll(async () => {
  store = await openPgliteEventStore({ pageSize: 4 });
  hub = await EventHub.start(store, { upcast: (event) => event as ReadDomainEvent, logger });
}, 60_000);

afterAll(async () => {
  await hub?.stop();
  await store?.close();
});

afterEach(() => {
  expect(hub.listening).toBe(0);
});

/** A new stream name for each test, so tests never see each other's events. */
const stream = (name: string) => `${name}-${++seq}`;

async function append(name: string, count = 1, type = 'Thing'): Promise<bigint[]> {
  const before = (await store.headPosition()) ?? 0n;
  await store.append(
    name,
    Array.from({ length: count }, (_, i) => ({ type, data: { i } })),
  );
  const positions: bigint[] = [];
  for await (const event of store.readAll({ after: before })) if (event.stream === name) positions.push(event.position);
  return positions;
}

async function positionsOf(streams: string[], after?: bigint): Promise<bigint[]> {
  const positions: bigint[] = [];
  for await (const event of store.readAll(after === undefined ? {} : { after })) if (streams.includes(event.stream)) positions.push(event.position);
  return positions;
}

interface Probe {
  slowConsumer: number;
  maxQueued: number;
  congested: boolean;
}

function feed(maxQueued = 1000) {
  const probe: Probe = { slowConsumer: 0, maxQueued: 0, congested: false };
  const deps: FeedDeps = {
    hub,
    store,
    upcast: (event: RecordedEvent) => event as ReadDomainEvent,
    maxQueued,
    congested: () => probe.congested,
    onSlowConsumer: () => {
      probe.slowConsumer += 1;
    },
    onQueued: (length) => {
      probe.maxQueued = Math.max(probe.maxQueued, length);
    },
  };
  return { events: createEventFeed(deps), probe };
}

const allowAll: Pick<FollowOptions, 'authorize'> = { authorize: async () => {} };

/** Waits until `condition` holds (the hub delivers appends asynchronously). */
async function eventually(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Waits until the hub has dispatched everything in the log. */
async function settled(): Promise<bigint> {
  const head = (await store.headPosition()) ?? 0n;
  await eventually(() => (hub.position ?? 0n) >= head);
  return head;
}

/** Takes events until one at `last` (or later) arrives; fails on a timeout. */
async function takeUntil(iterator: AsyncIterator<ReadDomainEvent>, last: bigint, timeoutMs = 20_000): Promise<bigint[]> {
  const positions: bigint[] = [];
  const deadline = Date.now() + timeoutMs;
  while (positions.length === 0 || positions.at(-1)! < last) {
    if (Date.now() > deadline) throw new Error(`timed out at ${positions.at(-1)} waiting for ${last}`);
    const step = await iterator.next();
    if (step.done) throw new Error(`the feed ended at ${positions.at(-1)} before ${last}`);
    positions.push(step.value.position);
  }
  return positions;
}

describe('following streams from a cursor', () => {
  it('replays every event after the cursor, in order, then delivers new ones live, each once', async () => {
    const mine = stream('s');
    const other = stream('o');
    const first = await append(mine, 3);
    await append(other, 2);
    await append(mine, 6);
    const { events } = feed();
    const iterator = await events.follow({ streams: [mine], after: first[0]!, ...allowAll });
    const expected = await positionsOf([mine], first[0]!);
    expect(await takeUntil(iterator, expected.at(-1)!)).toEqual(expected);
    const later = await append(mine, 3);
    await append(other, 3);
    expect(await takeUntil(iterator, later.at(-1)!)).toEqual(later);
    await iterator.return!();
  });

  it('never mixes up streams whose names share a prefix', async () => {
    const mine = stream('p');
    const longer = `${mine}0`;
    const cursor = (await append(mine, 1))[0]!;
    await append(longer, 3);
    const mineAfter = await append(mine, 2);
    const { events } = feed();
    const iterator = await events.follow({ streams: [mine], after: cursor, ...allowAll });
    expect(await takeUntil(iterator, mineAfter.at(-1)!)).toEqual(mineAfter);
    await iterator.return!();
  });

  it('without a cursor, starts with what is appended after it listens', async () => {
    const mine = stream('n');
    await append(mine, 2);
    const { events } = feed();
    const iterator = await events.follow({ streams: [mine], ...allowAll });
    const fresh = await append(mine, 2);
    expect(await takeUntil(iterator, fresh.at(-1)!)).toEqual(fresh);
    await iterator.return!();
  });

  it('keeps only what `keep` picks', async () => {
    const mine = stream('k');
    const cursor = (await append(mine, 1))[0]!;
    await append(mine, 2, 'Skipped');
    const kept = await append(mine, 2, 'Kept');
    const { events } = feed();
    const iterator = await events.follow({ streams: [mine], after: cursor, keep: (e) => e.type === 'Kept', ...allowAll });
    expect(await takeUntil(iterator, kept.at(-1)!)).toEqual(kept);
    await iterator.return!();
  });

  it('with live: false, replays up to the end of the log and stops', async () => {
    const mine = stream('r');
    const all = await append(mine, 5);
    const { events } = feed();
    const iterator = await events.follow({ streams: [mine], after: all[0]!, live: () => false, ...allowAll });
    const seen: bigint[] = [];
    for await (const event of iterator) seen.push(event.position);
    expect(seen).toEqual(all.slice(1));
  });

  it('refuses a cursor beyond the end of the log, and stops listening', async () => {
    const mine = stream('b');
    const head = (await store.headPosition()) ?? 0n;
    const { events } = feed();
    const refusal = events.follow({ streams: [mine], after: head + 1000n, ...allowAll });
    await expect(refusal).rejects.toMatchObject({ code: ErrorCode.BAD_USER_INPUT, details: { field: 'after' } });
  });

  it('has no gap and no duplicate while appends race followers switching from the log to live', async () => {
    const mine = stream('race');
    const start = (await append(mine, 5))[0]!;
    let writing = true;
    const writer = (async () => {
      let written: bigint[] = [];
      for (let i = 0; i < 150; i++) {
        written = await append(mine, 1 + (i % 3));
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      writing = false;
      return written.at(-1)!;
    })();
    const followers: Promise<{ cursor: bigint; seen: bigint[] }>[] = [];
    for (let i = 0; writing && i < 12; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      const existing = await positionsOf([mine]);
      const cursor = existing[Math.floor(existing.length / 2)] ?? start;
      followers.push(
        (async () => {
          const iterator = await feed().events.follow({ streams: [mine], after: cursor, ...allowAll });
          const last = await writer;
          const seen = await takeUntil(iterator, last);
          await iterator.return!();
          return { cursor, seen };
        })(),
      );
    }
    expect(followers.length).toBeGreaterThan(2);
    for (const { cursor, seen } of await Promise.all(followers)) expect(seen).toEqual(await positionsOf([mine], cursor));
  }, 60_000);
});

describe('following streams by prefix', () => {
  /** A stream category no other test uses, and the positions of its streams. */
  const category = (name: string) => `${name}${++seq}-`;
  const positionsByPrefix = async (prefix: string, after?: bigint) => {
    const positions: bigint[] = [];
    for await (const event of store.readAll(after === undefined ? {} : { after })) if (event.stream.startsWith(prefix)) positions.push(event.position);
    return positions;
  };

  it('replays the streams of the prefix after the cursor, then delivers live, streams created later included, in order, each once', async () => {
    const cat = category('px');
    const cursor = (await append(`${cat}a`, 2))[1]!;
    await append(`${cat}b`, 3);
    await append(stream(`${cat.slice(0, -1)}z`), 2); // another category that starts alike
    await append(`${cat}a`, 1);
    const { events } = feed();
    const iterator = await events.follow({ streams: [], streamPrefixes: [cat], after: cursor, ...allowAll });
    const replayed = await positionsByPrefix(cat, cursor);
    expect(replayed).toHaveLength(4);
    expect(await takeUntil(iterator, replayed.at(-1)!)).toEqual(replayed);
    const live = [...(await append(`${cat}new`, 2)), ...(await append(`${cat}b`, 1))];
    await append(stream('unrelated'), 2);
    expect(await takeUntil(iterator, live.at(-1)!)).toEqual(live);
    await iterator.return!();
  });

  it('mixes exact streams and prefixes, with `keep` and `recheck` as for exact streams', async () => {
    const cat = category('mix');
    const own = stream('own');
    const cursor = (await append(own, 1))[0]!;
    await append(`${cat}a`, 1, 'Skipped');
    const kept = [...(await append(`${cat}a`, 1, 'Kept')), ...(await append(own, 1, 'Kept')), ...(await append(`${cat}b`, 1, 'Kept'))];
    const checks: (bigint | undefined)[] = [];
    const { events } = feed();
    const iterator = await events.follow({
      streams: [own],
      streamPrefixes: [cat],
      after: cursor,
      keep: (e) => e.type === 'Kept',
      recheck: (e) => e.type === 'Revoke',
      authorize: async (position) => void checks.push(position),
    });
    expect(await takeUntil(iterator, kept.at(-1)!)).toEqual(kept);
    const revoke = (await append(`${cat}c`, 1, 'Revoke'))[0]!;
    const after = await append(`${cat}c`, 1, 'Kept');
    expect(await takeUntil(iterator, after[0]!)).toEqual(after);
    expect(checks.at(-1)).toBe(revoke);
    await iterator.return!();
  });

  it('resumes from the cursor of the last event received with no gap and no duplicate while new streams of the prefix keep coming', async () => {
    const cat = category('resume');
    const start = (await append(`${cat}0`, 3))[0]!;
    let writing = true;
    const writer = (async () => {
      let written: bigint[] = [];
      for (let i = 0; i < 120; i++) {
        written = await append(`${cat}${i % 7}`, 1 + (i % 2));
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      writing = false;
      return written.at(-1)!;
    })();
    // Each follower takes a few events, leaves (a disconnect), and resumes from the last one it got.
    const followers: Promise<{ cursor: bigint; seen: bigint[] }>[] = [];
    for (let i = 0; writing && i < 8; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      followers.push(
        (async () => {
          const first = await feed().events.follow({ streams: [], streamPrefixes: [cat], after: start, ...allowAll });
          const seen: bigint[] = [];
          for (let n = 0; n < 5; n++) seen.push((await first.next()).value!.position);
          await first.return!();
          const resumed = await feed().events.follow({ streams: [], streamPrefixes: [cat], after: seen.at(-1)!, ...allowAll });
          seen.push(...(await takeUntil(resumed, await writer)));
          await resumed.return!();
          return { cursor: start, seen };
        })(),
      );
    }
    expect(followers.length).toBeGreaterThan(2);
    for (const { cursor, seen } of await Promise.all(followers)) expect(seen).toEqual(await positionsByPrefix(cat, cursor));
  }, 60_000);

  it('stops listening when left, and refuses a prefix without its category', async () => {
    const cat = category('leave');
    const { events } = feed();
    const iterator = await events.follow({ streams: [], streamPrefixes: [cat], ...allowAll });
    expect(hub.listening).toBe(1);
    await iterator.return!();
    expect(hub.listening).toBe(0);
    await expect(events.follow({ streams: [], streamPrefixes: ['nodash'], ...allowAll })).rejects.toThrow(/category/);
  });
});

describe('bounded memory', () => {
  it('while replaying, drops a full queue and reads on from the log: nothing lost, nothing twice, never over the cap', async () => {
    const mine = stream('q');
    const history = await append(mine, 20);
    const { events, probe } = feed(3);
    const iterator = await events.follow({ streams: [mine], after: history[0]!, ...allowAll });
    const burst = await append(mine, 10);
    await settled(); // the hub has offered all 10 to a queue of 3 before the replay even started
    const seen = await takeUntil(iterator, burst.at(-1)!);
    expect(seen).toEqual(await positionsOf([mine], history[0]!));
    expect(probe.slowConsumer).toBe(0);
    expect(probe.maxQueued).toBe(3); // the burst filled the queue, which was dropped: the replay read those events from the log
    await iterator.return!();
  });

  it('once live, a consumer that does not keep up is dropped: the feed ends, its queue never held more than the cap', async () => {
    const mine = stream('slow');
    const { events, probe } = feed(5);
    const iterator = await events.follow({ streams: [mine], ...allowAll });
    for (let i = 0; i < 4; i++) await append(mine, 5);
    await eventually(() => probe.slowConsumer > 0);
    expect(probe.slowConsumer).toBe(1);
    expect(probe.maxQueued).toBe(5);
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
  });

  it('a connection over its byte budget drops its subscriber', async () => {
    const mine = stream('bytes');
    const { events, probe } = feed();
    const iterator = await events.follow({ streams: [mine], ...allowAll });
    probe.congested = true;
    await append(mine, 1);
    await eventually(() => probe.slowConsumer > 0);
    expect(probe.slowConsumer).toBe(1);
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
  });
});

describe('access checks', () => {
  it('a refusal at the start rejects `follow` with its error and stops listening', async () => {
    const mine = stream('deny');
    const { events } = feed();
    const denied = new CanopyError(ErrorCode.FORBIDDEN, 'no');
    await expect(events.follow({ streams: [mine], authorize: async () => Promise.reject(denied) })).rejects.toBe(denied);
  });

  it('authorizes at the position it listens from, then again before each new event `recheck` picks; a refusal ends the feed before that event', async () => {
    const mine = stream('recheck');
    const cursor = (await append(mine, 1))[0]!;
    const oldRevoke = (await append(mine, 1, 'Revoke'))[0]!; // history: checked once, at the start, against the current state
    const head = await settled();
    const checks: (bigint | undefined)[] = [];
    let allowed = true;
    const { events } = feed();
    const iterator = await events.follow({
      streams: [mine],
      after: cursor,
      recheck: (e) => e.type === 'Revoke',
      authorize: async (position) => {
        checks.push(position);
        if (!allowed) throw new CanopyError(ErrorCode.FORBIDDEN, 'revoked');
      },
    });
    expect(checks).toEqual([head]);
    expect(await takeUntil(iterator, oldRevoke)).toEqual([oldRevoke]);
    const before = await append(mine, 1);
    expect(await takeUntil(iterator, before[0]!)).toEqual(before);
    const stillAllowed = (await append(mine, 1, 'Revoke'))[0]!;
    expect(await takeUntil(iterator, stillAllowed)).toEqual([stillAllowed]);
    expect(checks.at(-1)).toBe(stillAllowed);
    allowed = false;
    const revoke = (await append(mine, 1, 'Revoke'))[0]!;
    await append(mine, 1);
    await expect(iterator.next()).rejects.toMatchObject({ code: ErrorCode.FORBIDDEN });
    expect(checks.at(-1)).toBe(revoke);
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
  });
});
