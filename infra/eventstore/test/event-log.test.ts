import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { CanopyError, defineEvent, ErrorCode, EventRegistry } from '@canopy/schema';
import { collect, EventLog, openPgliteEventStore, type EventStore, type RecordedEvent } from '../src/index.js';

const MemberAdded = defineEvent({
  type: 'MemberAdded',
  version: 2,
  payload: z.object({ userId: z.string().min(1), role: z.enum(['viewer', 'member', 'admin', 'owner']) }),
  upcasters: { 1: (v1) => ({ ...(v1 as object), role: 'member' }) },
});

describe('EventLog: the log through the contracts in schema/', () => {
  let store: EventStore;
  let log: EventLog;
  const now = new Date('2026-11-23T10:00:00.000Z');

  beforeAll(async () => {
    store = await openPgliteEventStore();
    log = new EventLog(store, new EventRegistry([MemberAdded]), () => now);
  });
  afterAll(() => store.close());

  it('stamps schema version, time and the audit context into the metadata', async () => {
    await log.append('workspace-a', [{ type: 'MemberAdded', data: { userId: 'ada', role: 'admin' } }], {
      expectedRevision: 'no_stream',
      context: { actor: 'user:grace', correlationId: 'req-1' },
    });
    const [event] = await collect(store.readStream('workspace-a'));
    expect(event!.metadata).toEqual({ schemaVersion: 2, occurredAt: now.toISOString(), actor: 'user:grace', correlationId: 'req-1' });
  });

  it('never appends an event whose payload fails validation, even beside valid ones', async () => {
    const head = await store.headPosition();
    const error = await log
      .append('workspace-b', [
        { type: 'MemberAdded', data: { userId: 'ada', role: 'admin' } },
        { type: 'MemberAdded', data: { userId: 'bob', role: 'superuser' } },
      ])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CanopyError);
    expect((error as CanopyError).code).toBe(ErrorCode.INVALID_EVENT_PAYLOAD);
    expect(await store.headPosition()).toBe(head);
    expect(await collect(store.readStream('workspace-b'))).toEqual([]);
  });

  it('never appends an event type that has no contract', async () => {
    const error = await log.append('workspace-c', [{ type: 'Unheard', data: {} }]).catch((e: unknown) => e);
    expect((error as CanopyError).code).toBe(ErrorCode.UNKNOWN_EVENT_TYPE);
    expect(await collect(store.readStream('workspace-c'))).toEqual([]);
  });

  it('reads old versions upcast to the current contract', async () => {
    await store.append('workspace-d', [{ type: 'MemberAdded', data: { userId: 'old' }, metadata: { schemaVersion: 1, occurredAt: now.toISOString() } }]);
    const [event] = await collect(log.readStream('workspace-d'));
    expect(event!.data).toEqual({ userId: 'old', role: 'member' });
  });

  it("reads this process's own appends, already validated, without validating them again, frozen for the readers who share them", async () => {
    let checks = 0;
    const Counted = defineEvent({ type: 'Counted', version: 1, payload: z.object({ n: z.number().refine(() => ++checks > 0), tags: z.array(z.string()) }) });
    const counted = new EventLog(store, new EventRegistry([Counted]), () => now);
    const head = await store.headPosition();
    const live = store.subscribeToAll(head === undefined ? {} : { after: head })[Symbol.asyncIterator]();
    // Live first: the append is then handed over from this process, not read back from the store.
    expect((await live.next()).value).toMatchObject({ kind: 'caught-up' });
    await counted.append('counted-a', [{ type: 'Counted', data: { n: 1, tags: ['a'] } }]);
    expect(checks).toBe(1);
    let own: RecordedEvent | undefined;
    while (own === undefined) {
      const { value } = await live.next();
      if (value?.kind === 'event') own = value.event;
    }
    await live.return?.();
    const read = counted.upcast(own!);
    expect(read.data).toEqual({ n: 1, tags: ['a'] });
    expect(checks).toBe(1);
    expect(Object.isFrozen(read.data)).toBe(true);
    expect(Object.isFrozen((read.data as { tags: string[] }).tags)).toBe(true);
    // The same event read from the store was not checked in this process: it is validated.
    const [stored] = await collect(counted.readStream('counted-a'));
    expect(stored!.data).toEqual({ n: 1, tags: ['a'] });
    expect(checks).toBe(2);
  });

  it('validates again what was appended beside the contracts, at the current version too', async () => {
    await store.append('workspace-e', [{ type: 'MemberAdded', data: { userId: '', role: 'admin' }, metadata: { schemaVersion: 2, occurredAt: now.toISOString() } }]);
    const error = await collect(log.readStream('workspace-e')).catch((e: unknown) => e);
    expect((error as CanopyError).code).toBe(ErrorCode.INVALID_EVENT_PAYLOAD);
  });
});
