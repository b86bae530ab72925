import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ReadDomainEvent } from '@canopy/eventstore';
import { knownWorkloads, WATCHER_ACTOR, workloadsPage, type WorkloadWatcher } from '../src/index.js';
import { deployment, eventually, startHarness, type Harness } from './harness.js';

type Payload = { kind: string; name: string; status?: string; previousStatus?: string | null; replicas?: { desired: number; ready: number } | null; reason?: string | null; cause?: string; clusterId: string };

const payload = (event: ReadDomainEvent) => event.data as Payload;
const summary = (event: ReadDomainEvent) => {
  const d = payload(event);
  return event.type === 'WorkloadRemoved' ? `removed ${d.kind}/${d.name} (${d.cause})` : `${d.kind}/${d.name} ${d.status}${d.replicas ? ` ${d.replicas.ready}/${d.replicas.desired}` : ''}`;
};

/**
 * The watcher end to end: a simulated cluster on a manual clock, reached
 * through the real client-node over HTTPS; changes made with client-node
 * (as kubectl would) become status events on the workspace's stream, and
 * the read model follows them.
 */
describe('the workload watcher against a simulated cluster', () => {
  let h: Harness;
  let team: Awaited<ReturnType<Harness['team']>>;
  let watcher: WorkloadWatcher;
  const deploymentEvents = async (name: string) => (await h.events(team.workspaceId)).filter((e) => payload(e).kind === 'Deployment' && payload(e).name === name).map(summary);
  /** Moves the cluster's clock in steps, so that pods are scheduled and started. */
  const runFor = async (ms: number) => {
    for (let left = ms; left > 0; left -= 500) await h.sim.advance(500);
  };

  beforeAll(async () => {
    h = await startHarness();
    team = await h.team();
    watcher = await h.startWatcher();
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });

  it('a deployment created and then scaled: its status changes arrive on the workspace stream, once each', async () => {
    await h.kube.apps.createNamespacedDeployment({ namespace: 'shop', body: deployment('web', 2) });
    await runFor(3000);
    await eventually(async () => expect((await deploymentEvents('web')).at(-1)).toBe('Deployment/web Running 2/2'));

    await h.kube.apps.patchNamespacedDeploymentScale({ name: 'web', namespace: 'shop', body: [{ op: 'replace', path: '/spec/replicas', value: 4 }] });
    // The new pods are not started until the cluster's clock moves.
    await eventually(async () => expect((await deploymentEvents('web')).at(-1)).toBe('Deployment/web Progressing 2/4'));
    await runFor(3000);
    await eventually(async () => expect((await deploymentEvents('web')).at(-1)).toBe('Deployment/web Running 4/4'));
    const events = await deploymentEvents('web');
    // A change, not a heartbeat: no two consecutive events say the same.
    for (let i = 1; i < events.length; i++) expect(events[i]).not.toBe(events[i - 1]);

    const all = await h.events(team.workspaceId);
    expect(all.every((e) => e.metadata.actor === WATCHER_ACTOR)).toBe(true);
    const last = payload(all.filter((e) => payload(e).kind === 'Deployment').at(-1)!);
    expect(last).toMatchObject({ clusterId: team.clusterId, previousStatus: 'Progressing' });
    const pods = all.filter((e) => payload(e).kind === 'Pod' && payload(e).status === 'Running');
    expect(new Set(pods.map((e) => payload(e).name)).size).toBe(4);
  });

  it('a crash-looping pod is Degraded, and the read model pages and filters it', async () => {
    await h.kube.apps.createNamespacedDeployment({ namespace: 'shop', body: deployment('crashy', 1, { 'sim.canopy.dev/fail': 'crash' }) });
    await runFor(3000);
    await eventually(async () => {
      const crashing = (await h.events(team.workspaceId)).filter((e) => payload(e).kind === 'Pod' && payload(e).name.startsWith('crashy-')).map(payload);
      expect(crashing.at(-1)).toMatchObject({ status: 'Degraded', reason: 'CrashLoopBackOff' });
    });
    await watcher.flush();
    await h.sync();
    const schema = h.runner.activeSchema('workloads');
    const degraded = await workloadsPage(h.db, schema, { workspaceId: team.workspaceId, statuses: ['Degraded'], first: 10 });
    expect(degraded.nodes.map((n) => `${n.kind} ${n.status} ${n.reason}`)).toEqual(['Pod Degraded CrashLoopBackOff']);
    const deployments = await workloadsPage(h.db, schema, { workspaceId: team.workspaceId, kinds: ['Deployment'], first: 10 });
    expect(deployments.nodes.map((n) => `${n.name} ${n.status}`)).toEqual(['crashy Progressing', 'web Running']);
  });

  it('a deleted deployment and its pods are removed', async () => {
    await h.kube.apps.deleteNamespacedDeployment({ name: 'crashy', namespace: 'shop' });
    await eventually(async () => {
      const removed = (await h.events(team.workspaceId)).filter((e) => e.type === 'WorkloadRemoved').map(summary);
      expect(removed).toEqual(expect.arrayContaining(['removed Deployment/crashy (Deleted)']));
      expect(removed.some((r) => r.startsWith('removed Pod/crashy-'))).toBe(true);
    });
  });

  it('a restarted watcher records only what changed while it was away, removals included', async () => {
    await watcher.stop();
    await h.sync();
    const before = (await h.events(team.workspaceId)).length;
    // While no watcher runs: web scales down to 3 (one pod deleted), a job is created.
    await h.kube.apps.patchNamespacedDeploymentScale({ name: 'web', namespace: 'shop', body: [{ op: 'replace', path: '/spec/replicas', value: 3 }] });
    await h.kube.batch.createNamespacedJob({
      namespace: 'shop',
      body: { metadata: { name: 'migrate' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox' }] } } } },
    });
    await h.sim.settled();

    watcher = await h.startWatcher();
    await eventually(async () => {
      const since = (await h.events(team.workspaceId)).slice(before).map(summary);
      expect(since).toEqual(expect.arrayContaining(['Deployment/web Running 3/3', 'Job/migrate Progressing 0/1']));
      expect(since.filter((s) => s.startsWith('removed Pod/web-'))).toHaveLength(1);
    });
    await watcher.flush();
    const since = (await h.events(team.workspaceId)).slice(before).map(summary);
    // The three pods still running were recorded before: nothing new about them.
    expect(since.filter((s) => s.startsWith('Pod/web-'))).toEqual([]);
    expect(since.filter((s) => s.startsWith('Deployment/web'))).toEqual(['Deployment/web Running 3/3']);
  });

  it('after the cluster was unreachable and its watch history compacted, the watcher relists and catches up; its health says so meanwhile', async () => {
    await eventually(() => expect(watcher.health()).toEqual([expect.objectContaining({ clusterId: team.clusterId, state: 'watching', collections: 6 })]));
    const before = (await h.events(team.workspaceId)).length;
    await h.sim.setFault('unreachable');
    await eventually(() => expect(watcher.health()[0]).toMatchObject({ state: 'failing', message: expect.stringMatching(/ECONNREFUSED|refused|socket|closed|reset/i) }));
    // Changes it cannot see as they happen: the job runs to completion, web is deleted.
    await runFor(6000);
    await h.kube.apps.deleteNamespacedDeployment({ name: 'web', namespace: 'shop' }).catch(() => undefined);
    h.sim.api.delete(h.sim.api.resource('apps/v1', 'Deployment'), 'shop', 'web');
    await h.sim.settled();
    h.sim.compactWatchHistory();
    await h.sim.setFault('healthy');
    await eventually(async () => {
      const since = (await h.events(team.workspaceId)).slice(before).map(summary);
      expect(since).toEqual(expect.arrayContaining(['removed Deployment/web (Deleted)', 'Job/migrate Succeeded 0/1']));
    });
    await eventually(() => expect(watcher.health()[0]).toMatchObject({ state: 'watching', message: null }));
  });

  it('a namespace removed from the workspace, then the cluster detached: its workloads leave the view', async () => {
    await h.kube.apps.createNamespacedDeployment({ namespace: 'shop', body: deployment('api', 1) });
    await runFor(3000);
    await eventually(async () => expect((await deploymentEvents('api')).at(-1)).toBe('Deployment/api Running 1/1'));
    await team.ws({ type: 'AddNamespace', namespace: 'db' });
    await h.kube.apps.createNamespacedDeployment({ namespace: 'db', body: deployment('postgres', 1) });
    await runFor(3000);
    await eventually(async () => expect((await deploymentEvents('postgres')).at(-1)).toBe('Deployment/postgres Running 1/1'));

    await team.ws({ type: 'RemoveNamespace', namespace: 'shop' });
    await eventually(async () => expect(await deploymentEvents('api')).toContain('removed Deployment/api (NamespaceRemoved)'));
    await team.ws({ type: 'DetachCluster', clusterId: team.clusterId });
    await eventually(async () => expect(await deploymentEvents('postgres')).toContain('removed Deployment/postgres (ClusterDetached)'));
    await watcher.flush();
    await h.sync();
    expect(await knownWorkloads(h.db, h.runner.activeSchema('workloads'), team.workspaceId)).toEqual([]);
    expect(watcher.health()).toEqual([]);
  });
});
