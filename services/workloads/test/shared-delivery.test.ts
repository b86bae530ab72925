import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EventLog, openPgliteEventStore, type EventStore, type ReadDomainEvent } from '@canopy/eventstore';
import { canopyEventRegistry } from '@canopy/schema';
import type { EventFeed } from '@canopy/workspaces';
import { subscribeWorkloadStatus } from '../src/graphql/workload-status-resolver.js';
import { WATCHER_ACTOR, WorkloadChanges, workloadsStream, type WorkloadsContext } from '../src/index.js';

/**
 * The gateway's hub hands every subscriber of a stream the same event
 * object; each subscription's source must then yield the same delivery for
 * it, so that the change is mapped once and the server can execute alike
 * subscriptions once per event (shared execution).
 */
describe('workloadStatus deliveries', () => {
  const workspaceId = 'ws-shared';
  let store: EventStore;
  let event: ReadDomainEvent;

  beforeAll(async () => {
    store = await openPgliteEventStore();
    const log = new EventLog(store, canopyEventRegistry());
    const changes = new WorkloadChanges(workspaceId);
    changes.observe({ clusterId: 'prod', namespace: 'shop', kind: 'Deployment', name: 'web' }, { status: 'Running', replicas: { desired: 2, ready: 2, available: 2, updated: 2 }, reason: null, message: null }, new Date().toISOString());
    await log.append(workloadsStream(workspaceId), changes.drain().map((change) => ({ id: randomUUID(), type: change.type, data: change.data })), { context: { actor: WATCHER_ACTOR } });
    for await (const recorded of store.readAll({})) event = log.upcast(recorded);
  });
  afterAll(async () => {
    await store.close();
  });

  /** A feed that hands this one event object to every follower its filter keeps, as the hub does. */
  const hubLike: EventFeed = {
    async follow(options) {
      await options.authorize(event.position);
      let given = false;
      const feed: AsyncIterableIterator<ReadDomainEvent> = {
        [Symbol.asyncIterator]: () => feed,
        next: async () => {
          if (given || !(options.keep?.(event) ?? true)) return { done: true, value: undefined };
          given = true;
          return { done: false, value: event };
        },
        return: async () => ({ done: true, value: undefined }),
      };
      return feed;
    },
  };
  const context = (userId: string): WorkloadsContext => ({
    caller: { userId },
    reads: {} as WorkloadsContext['reads'],
    live: { events: hubLike, reads: () => ({ roleIn: async () => 'member', organizationOf: async () => 'org-1' }) },
  });

  it('gives every subscriber of an event the same delivery, the change mapped once', async () => {
    const ann = await subscribeWorkloadStatus({ workspaceId }, context('ann'));
    const bob = await subscribeWorkloadStatus({ workspaceId, namespace: 'shop' }, context('bob'));
    const first = await ann.next();
    const second = await bob.next();
    expect(first.done).toBe(false);
    expect(second.value).toBe(first.value);
    expect(first.value).toMatchObject({ change: { cursor: event.position.toString(), workspaceId, name: 'web', kind: 'Deployment', status: 'Running', previousStatus: null } });
  });

  it('still filters per subscription: another namespace gets nothing', async () => {
    const other = await subscribeWorkloadStatus({ workspaceId, namespace: 'billing' }, context('cy'));
    expect((await other.next()).done).toBe(true);
  });
});
