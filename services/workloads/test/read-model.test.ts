import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EventLog, openEventStore, type OpenedEventStore } from '@canopy/eventstore';
import { openReadModelDb, ProjectionRunner, type ReadModelDb } from '@canopy/projections';
import { canopyEventRegistry, ErrorCode } from '@canopy/schema';
import { knownWorkloads, WorkloadChanges, workloadsPage, workloadsProjector, workloadsStream, workloadStatusCounts, type ObservedStatus, type WorkloadRef } from '../src/index.js';

const running: ObservedStatus = { status: 'Running', replicas: { desired: 2, ready: 2, available: 2, updated: 2 }, reason: null, message: null };
const podRunning: ObservedStatus = { status: 'Running', replicas: null, reason: null, message: null };
const crashing: ObservedStatus = { status: 'Degraded', replicas: null, reason: 'CrashLoopBackOff', message: 'container main: back-off (restarted 2 times)' };
const ref = (clusterId: string, namespace: string, kind: WorkloadRef['kind'], name: string): WorkloadRef => ({ clusterId, namespace, kind, name });

/** The workloads read model on the projector runtime (PGlite), fed with the events the watcher's change log produces. */
describe('the workloads read model', () => {
  let opened: OpenedEventStore;
  let log: EventLog;
  let db: ReadModelDb;
  let runner: ProjectionRunner;
  const schema = () => runner.activeSchema('workloads');

  async function record(changes: WorkloadChanges) {
    const events = changes.drain();
    if (events.length > 0) await log.append(workloadsStream(changes.workspaceId), events);
    const head = await opened.store.headPosition();
    expect(await runner.waitFor(['workloads'], head!, 20_000)).toBe(true);
  }

  beforeAll(async () => {
    opened = await openEventStore({ kind: 'pglite' });
    log = new EventLog(opened.store, canopyEventRegistry());
    db = await openReadModelDb({ kind: 'pglite' });
    runner = new ProjectionRunner({ store: opened.store, db, projectors: [workloadsProjector] });
    await runner.start();
  }, 120_000);
  afterAll(async () => {
    await runner?.stop();
    await db?.close();
    await opened?.close();
  });

  it('holds each workload’s latest status; pages by cluster, namespace, kind and name, filtered, with a cursor that survives removals', async () => {
    const ws = new WorkloadChanges('ws-1');
    const at = '2026-05-01T08:00:00.000Z';
    for (const cluster of ['east', 'west']) {
      for (const namespace of ['db', 'shop']) {
        ws.observe(ref(cluster, namespace, 'Deployment', 'api'), running, at);
        ws.observe(ref(cluster, namespace, 'Pod', 'api-1'), podRunning, at);
      }
    }
    ws.observe(ref('east', 'shop', 'Pod', 'api-2'), crashing, at);
    await record(ws);
    ws.observe(ref('east', 'db', 'Deployment', 'api'), { ...running, status: 'Progressing', reason: 'ScalingUp', replicas: { desired: 3, ready: 2, available: 2, updated: 3 } }, '2026-05-01T08:01:00.000Z');
    await record(ws);

    const all = await workloadsPage(db, schema(), { workspaceId: 'ws-1', first: 3 });
    expect(all.totalCount).toBe(9);
    expect(all.nodes.map((n) => `${n.clusterId}/${n.namespace}/${n.kind}/${n.name}`)).toEqual(['east/db/Deployment/api', 'east/db/Pod/api-1', 'east/shop/Deployment/api']);
    expect(all.nodes[0]).toMatchObject({ status: 'Progressing', previousStatus: 'Running', reason: 'ScalingUp', replicas: { desired: 3 }, since: new Date('2026-05-01T08:01:00.000Z') });
    expect(all.nodes[1]).toMatchObject({ status: 'Running', replicas: null });

    // The row the cursor points at goes away between pages: the next page starts right after where it stood.
    ws.remove(ref('east', 'shop', 'Deployment', 'api'), 'Deleted', '2026-05-01T08:02:00.000Z');
    await record(ws);
    const next = await workloadsPage(db, schema(), { workspaceId: 'ws-1', first: 3, after: all.endCursor! });
    expect(next.nodes.map((n) => `${n.clusterId}/${n.namespace}/${n.kind}/${n.name}`)).toEqual(['east/shop/Pod/api-1', 'east/shop/Pod/api-2', 'west/db/Deployment/api']);
    expect(next.totalCount).toBe(8);

    const filtered = await workloadsPage(db, schema(), { workspaceId: 'ws-1', first: 10, clusterId: 'east', namespace: 'shop', kinds: ['Pod'], statuses: ['Degraded'] });
    expect(filtered.nodes.map((n) => `${n.name} ${n.reason}`)).toEqual(['api-2 CrashLoopBackOff']);
    expect(filtered).toMatchObject({ totalCount: 1, hasNextPage: false });

    const counts = await workloadStatusCounts(db, schema(), ['ws-1', 'ws-none']);
    expect(counts.get('ws-1')).toEqual({ Pending: 0, Progressing: 1, Running: 6, Degraded: 1, Succeeded: 0, Failed: 0, Suspended: 0 });
    expect(counts.get('ws-none')!.Running).toBe(0);
  });

  it('gives a restarted watcher the last known state: seeded with it, the same observations record nothing', async () => {
    const known = await knownWorkloads(db, schema(), 'ws-1');
    expect(known).toHaveLength(8);
    const restarted = new WorkloadChanges('ws-1');
    restarted.seed(known);
    restarted.observe(ref('west', 'shop', 'Deployment', 'api'), { ...running, replicas: { ...running.replicas! } }, '2026-05-01T09:00:00.000Z');
    restarted.observe(ref('east', 'shop', 'Pod', 'api-2'), { ...crashing }, '2026-05-01T09:00:00.000Z');
    expect(restarted.drain()).toEqual([]);
  });

  it('refuses bad pages with BAD_USER_INPUT', async () => {
    await expect(workloadsPage(db, schema(), { workspaceId: 'ws-1', first: 0 })).rejects.toMatchObject({ code: ErrorCode.BAD_USER_INPUT, details: { field: 'first' } });
    await expect(workloadsPage(db, schema(), { workspaceId: 'ws-1', first: 5, after: 'bm9wZQ' })).rejects.toMatchObject({ code: ErrorCode.BAD_USER_INPUT, details: { field: 'after' } });
    await expect(workloadsPage(db, schema(), { workspaceId: 'ws-1', first: 5, statuses: ['Sleeping' as 'Running'] })).rejects.toMatchObject({ code: ErrorCode.BAD_USER_INPUT, details: { field: 'status' } });
  });

  it('drops a deleted workspace’s rows, and a rebuild from the log gives the same tables', async () => {
    await log.append('workspace-ws-1', [{ type: 'WorkspaceClosed', data: { workspaceId: 'ws-1', organizationId: 'org-1' } }]);
    const head = await opened.store.headPosition();
    expect(await runner.waitFor(['workloads'], head!, 20_000)).toBe(true);
    expect((await workloadsPage(db, schema(), { workspaceId: 'ws-1', first: 10 })).totalCount).toBe(0);

    const before = await runner.checksum('workloads');
    await runner.rebuild('workloads');
    expect(await runner.checksum('workloads')).toEqual(before);
  });
});
