import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EventLog, type EventStore, type Subscription } from '@canopy/eventstore';
import type { SimulatedCluster } from '@canopy/kube';
import { canopyEventRegistry } from '@canopy/schema';
import { MANAGED_BY_LABEL, objectNames, startSyncView, WORKSPACE_LABEL, workspaceIdentity, type WorkspaceIdentity } from '../src/index.js';
import { eventually, listOn, objectOn, startHarness, type Harness } from './harness.js';

const RBAC = 'rbac.authorization.k8s.io/v1';
const ADMISSION = 'admissionregistration.k8s.io/v1';

/**
 * The reconciler end to end: workspace commands appended to a PGlite log,
 * the reconciler following it and applying to two simulated clusters
 * through the real client-node over HTTPS.
 */
describe('the reconciler against two simulated clusters', () => {
  let h: Harness;
  let east: SimulatedCluster;
  let west: SimulatedCluster;
  let ws: string;
  let id: WorkspaceIdentity;
  let eastId: string;
  let westId: string;

  const quota = (sim: SimulatedCluster, namespace: string) => objectOn(sim, 'v1', 'ResourceQuota', namespace, objectNames.quota(id))?.['spec']?.['hard'];
  const allInSync = (count: number) =>
    eventually(() => {
      const statuses = h.reconciler.status(ws);
      expect(statuses.map((s) => [s.name, s.state])).toEqual(statuses.map((s) => [s.name, 'in-sync']));
      expect(statuses).toHaveLength(count);
      return statuses;
    });

  beforeAll(async () => {
    h = await startHarness(['east', 'west']);
    east = h.clusters.get('east')!;
    west = h.clusters.get('west')!;
    ws = await h.newWorkspace('shop');
    id = workspaceIdentity(ws);
    // A namespace only east has, which a role binding's pattern picks up there.
    east.api.create(east.api.resource('v1', 'Namespace'), undefined, { metadata: { name: 'team-a' } }, { manager: 'kubectl' });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('a workspace with two clusters: namespaces, quotas, bindings, the image policy and secrets are applied on both', async () => {
    eastId = await h.attach(ws, 'east');
    westId = await h.attach(ws, 'west');
    await h.command(ws, { type: 'AddNamespace', namespace: 'web' });
    await h.command(ws, { type: 'AddNamespace', namespace: 'db' });
    await h.command(ws, { type: 'SetNamespaceQuota', namespace: 'web', clusterId: null, cpu: '2', memory: '4Gi' });
    await h.command(ws, { type: 'SetNamespaceQuota', namespace: 'web', clusterId: westId, cpu: '1500m', memory: '2Gi' });
    await h.command(ws, { type: 'SetNamespaceQuota', namespace: 'db', clusterId: null, cpu: 'unlimited', memory: '1Gi' });
    await h.command(ws, { type: 'AddRoleBinding', name: 'devs', namespaces: ['web', '/^team-/'], role: { kind: 'ClusterRole', name: 'edit' }, subjects: [{ kind: 'Group', name: 'devs', namespace: null }] });
    await h.command(ws, { type: 'AddClusterRoleBinding', name: 'auditors', clusterRole: 'view', subjects: [{ kind: 'User', name: 'ivy', namespace: null }] });
    await h.command(ws, { type: 'RestrictImage', namespace: 'web', image: 'docker.io/library/nginx:*' });
    await h.writeSecret(ws, 'db-credentials', { password: 's3cret' });

    const statuses = await allInSync(2);
    expect(statuses.map((s) => s.name)).toEqual(['east', 'west']);

    for (const sim of [east, west]) {
      for (const namespace of ['web', 'db']) {
        expect(objectOn(sim, 'v1', 'Namespace', undefined, namespace)?.['metadata']['labels']).toMatchObject({ [MANAGED_BY_LABEL]: 'canopy', [WORKSPACE_LABEL]: ws });
        const secret = objectOn(sim, 'v1', 'Secret', namespace, 'db-credentials')!;
        expect(Buffer.from(secret['data']['password'], 'base64').toString()).toBe('s3cret');
        expect(secret['metadata']['labels']).toMatchObject({ [WORKSPACE_LABEL]: ws });
      }
      expect(quota(sim, 'db')).toEqual({ 'requests.memory': '1Gi' });
      const binding = objectOn(sim, RBAC, 'RoleBinding', 'web', objectNames.roleBinding(id, 'devs'))!;
      expect(binding['roleRef']).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' });
      expect(binding['subjects']).toEqual([{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'devs' }]);
      expect(objectOn(sim, RBAC, 'ClusterRoleBinding', undefined, objectNames.clusterRoleBinding(id, 'auditors'))?.['roleRef']['name']).toBe('view');
      const policy = objectOn(sim, ADMISSION, 'ValidatingAdmissionPolicy', undefined, objectNames.imagePolicy(id))!;
      expect(policy['spec']['validations'][0]['expression']).toContain('i.startsWith("docker.io/library/nginx:")');
      const policyBinding = objectOn(sim, ADMISSION, 'ValidatingAdmissionPolicyBinding', undefined, objectNames.imagePolicy(id))!;
      expect(policyBinding['spec']['matchResources']['namespaceSelector']['matchExpressions']).toEqual([{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['web'] }]);
      const managers = (objectOn(sim, 'v1', 'Secret', 'web', 'db-credentials')!['metadata']['managedFields'] as { manager: string; operation: string }[]).map((m) => [m.manager, m.operation]);
      expect(managers).toEqual([[id.fieldManager, 'Apply']]);
    }
    // The namespace's quota on east, its override on west.
    expect(quota(east, 'web')).toEqual({ 'requests.cpu': '2', 'requests.memory': '4Gi' });
    expect(quota(west, 'web')).toEqual({ 'requests.cpu': '1500m', 'requests.memory': '2Gi' });
    // The pattern matched team-a where it exists, and nothing on west.
    expect(objectOn(east, RBAC, 'RoleBinding', 'team-a', objectNames.roleBinding(id, 'devs'))).toBeDefined();
    expect(listOn(west, RBAC, 'RoleBinding', { [WORKSPACE_LABEL]: ws }).map((b) => b['metadata']['namespace'])).toEqual(['web']);

    const recorded = await h.clusterEvents(eastId);
    expect(recorded.at(-1)).toMatchObject({ type: 'ClusterSynced', data: { workspaceId: ws, clusterId: eastId, desiredHash: statuses[0]!.desiredHash } });
  });

  it('a resync that finds everything in place records nothing', async () => {
    await allInSync(2);
    const before = (await h.clusterEvents(eastId)).length;
    h.reconciler.resync();
    await h.reconciler.idle();
    h.reconciler.resync();
    await h.reconciler.idle();
    expect(await h.clusterEvents(eastId)).toHaveLength(before);
  });

  it('a quota change reaches both clusters; dropping the override brings the namespace quota to west', async () => {
    await h.command(ws, { type: 'SetNamespaceQuota', namespace: 'web', clusterId: null, cpu: '3', memory: '6Gi' });
    await allInSync(2);
    expect(quota(east, 'web')).toEqual({ 'requests.cpu': '3', 'requests.memory': '6Gi' });
    expect(quota(west, 'web')).toEqual({ 'requests.cpu': '1500m', 'requests.memory': '2Gi' });
    await h.command(ws, { type: 'RemoveNamespaceQuota', namespace: 'web', clusterId: westId });
    await eventually(() => expect(quota(west, 'web')).toEqual({ 'requests.cpu': '3', 'requests.memory': '6Gi' }));
  });

  it('a namespace deleted by hand comes back with what Canopy put in it; a hand edit is undone', async () => {
    const before = (await h.clusterEvents(eastId)).length;
    east.api.delete(east.api.resource('v1', 'Namespace'), undefined, 'web');
    await east.settled();
    const quotaType = west.api.resource('v1', 'ResourceQuota');
    const live = west.api.get(quotaType, 'web', objectNames.quota(id));
    west.api.update(quotaType, 'web', objectNames.quota(id), { ...live, spec: { hard: { 'requests.cpu': '100', 'requests.memory': '6Gi' } } }, { manager: 'kubectl-edit' });

    await eventually(() => {
      expect(objectOn(east, 'v1', 'Namespace', undefined, 'web')?.['status']?.['phase']).toBe('Active');
      expect(quota(east, 'web')).toEqual({ 'requests.cpu': '3', 'requests.memory': '6Gi' });
      expect(objectOn(east, 'v1', 'Secret', 'web', 'db-credentials')).toBeDefined();
      expect(objectOn(east, RBAC, 'RoleBinding', 'web', objectNames.roleBinding(id, 'devs'))).toBeDefined();
      expect(quota(west, 'web')).toEqual({ 'requests.cpu': '3', 'requests.memory': '6Gi' });
    });
    // The repair is recorded (after a failed attempt, if one ran while the namespace was still going away).
    await eventually(async () => {
      const since = (await h.clusterEvents(eastId)).slice(before);
      const repaired = since.find((e) => e.type === 'ClusterSynced' || e.type === 'ClusterRecovered');
      expect((repaired?.data as { applied: number } | undefined)?.applied).toBeGreaterThan(0);
    });
  });

  it('one cluster unreachable: the other converges, the dead one is reported once, and it converges when back with nothing lost', async () => {
    await west.setFault('unreachable');
    await h.command(ws, { type: 'AddNamespace', namespace: 'api' });
    await h.command(ws, { type: 'SetNamespaceQuota', namespace: 'api', clusterId: null, cpu: '500m', memory: '512Mi' });
    await h.writeSecret(ws, 'db-credentials', { password: 'rotated' });

    await eventually(() => {
      expect(quota(east, 'api')).toEqual({ 'requests.cpu': '500m', 'requests.memory': '512Mi' });
      const [eastStatus, westStatus] = h.reconciler.status(ws);
      expect(eastStatus).toMatchObject({ name: 'east', state: 'in-sync' });
      expect(westStatus).toMatchObject({ name: 'west', state: 'unreachable', reason: 'unreachable', message: expect.stringContaining('connection refused') });
    });
    // Retries and resyncs meanwhile record the failure once.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const failures = (await h.clusterEvents(westId)).filter((e) => e.type === 'ClusterSyncFailed');
    expect(failures).toHaveLength(1);
    expect(failures[0]!.data).toMatchObject({ reason: 'unreachable', failedObjects: 0 });
    // A process that runs no reconciler (a standby) shows the outcomes the log records.
    const view = await startSyncView(h.log);
    try {
      expect(view.clusterStatus(westId)).toMatchObject({ name: 'west', workspaceId: ws, state: 'unreachable', reason: 'unreachable', message: expect.stringContaining('connection refused'), lastSyncedAt: null });
      expect(view.clusterStatus(eastId)).toMatchObject({ name: 'east', state: 'in-sync', reason: null });

      await west.setFault('healthy');
      await allInSync(2);
      await eventually(() => expect(view.clusterStatus(westId)).toMatchObject({ state: 'in-sync', reason: null, message: null }));
    } finally {
      await view.stop();
    }
    expect(quota(west, 'api')).toEqual({ 'requests.cpu': '500m', 'requests.memory': '512Mi' });
    expect(Buffer.from(objectOn(west, 'v1', 'Secret', 'api', 'db-credentials')!['data']['password'], 'base64').toString()).toBe('rotated');
    expect((await h.clusterEvents(westId)).at(-1)).toMatchObject({ type: 'ClusterRecovered', data: { after: 'unreachable' } });
  });

  it('removing from the workspace removes from every cluster, and never a namespace or a workload', async () => {
    const deployments = east.api.resource('apps/v1', 'Deployment');
    east.api.create(
      deployments,
      'db',
      { metadata: { name: 'postgres' }, spec: { replicas: 1, selector: { matchLabels: { app: 'pg' } }, template: { metadata: { labels: { app: 'pg' } }, spec: { containers: [{ name: 'pg', image: 'postgres:16' }] } } } },
      { manager: 'kubectl' },
    );
    await h.command(ws, { type: 'RemoveRoleBinding', name: 'devs' });
    await h.command(ws, { type: 'LiftImageRestriction', namespace: 'web', image: 'docker.io/library/nginx:*' });
    await h.command(ws, { type: 'RemoveNamespace', namespace: 'db' });
    await allInSync(2);
    for (const sim of [east, west]) {
      expect(listOn(sim, RBAC, 'RoleBinding', { [WORKSPACE_LABEL]: ws })).toEqual([]);
      expect(listOn(sim, ADMISSION, 'ValidatingAdmissionPolicy', { [WORKSPACE_LABEL]: ws })).toEqual([]);
      expect(listOn(sim, ADMISSION, 'ValidatingAdmissionPolicyBinding', { [WORKSPACE_LABEL]: ws })).toEqual([]);
      const db = objectOn(sim, 'v1', 'Namespace', undefined, 'db')!;
      expect(db['metadata']['labels']?.[WORKSPACE_LABEL]).toBeUndefined();
      expect(quota(sim, 'db')).toBeUndefined();
      expect(objectOn(sim, 'v1', 'Secret', 'db', 'db-credentials')).toBeUndefined();
      expect(objectOn(sim, 'v1', 'Secret', 'web', 'db-credentials')).toBeDefined();
    }
    expect(objectOn(east, 'apps/v1', 'Deployment', 'db', 'postgres')).toBeDefined();
    expect(objectOn(east, RBAC, 'RoleBinding', 'team-a', objectNames.roleBinding(id, 'devs'))).toBeUndefined();
  });

  it('a restarted reconciler picks up where the log says and records nothing new for clusters in sync', async () => {
    await allInSync(2);
    const before = [(await h.clusterEvents(eastId)).length, (await h.clusterEvents(westId)).length];
    await h.restartReconciler();
    await allInSync(2);
    await h.reconciler.idle();
    expect([(await h.clusterEvents(eastId)).length, (await h.clusterEvents(westId)).length]).toEqual(before);
  });

  it('a standby view follows the log again after the log failed under it, from where it was', async () => {
    const store = h.log.store;
    let failures = 1;
    // The view's first subscription fails right after catching up; the next ones work.
    const flaky = {
      subscribeToAll(options?: Parameters<EventStore['subscribeToAll']>[0]): Subscription {
        const inner = store.subscribeToAll(options);
        if (failures-- <= 0) return inner;
        const failing = (async function* () {
          for await (const message of inner) {
            yield message;
            if (message.kind === 'caught-up') throw new Error('the log went away');
          }
        })();
        return { [Symbol.asyncIterator]: () => failing, close: () => inner.close() };
      },
    } as unknown as EventStore;
    const view = await startSyncView(new EventLog(flaky, canopyEventRegistry()), { retryMs: 10 });
    try {
      await west.setFault('unreachable');
      h.reconciler.resync();
      await eventually(() => expect(view.clusterStatus(westId)).toMatchObject({ state: 'unreachable', reason: 'unreachable' }));
      await west.setFault('healthy');
      h.reconciler.resync();
      await eventually(() => expect(view.clusterStatus(westId)).toMatchObject({ state: 'in-sync' }));
      await allInSync(2);
      expect(failures).toBeLessThan(0);
    } finally {
      await view.stop();
    }
  });

  it('detaching a cluster removes what the workspace applied there; its namespaces stay, the other cluster is untouched', async () => {
    await h.command(ws, { type: 'DetachCluster', clusterId: westId });
    await eventually(async () => expect((await h.clusterEvents(westId)).at(-1)).toMatchObject({ type: 'ClusterReleased', data: { cause: 'detached', namespacesReleased: 2 } }));
    for (const kind of [
      ['v1', 'Namespace'],
      ['v1', 'ResourceQuota'],
      ['v1', 'Secret'],
      [RBAC, 'RoleBinding'],
      [RBAC, 'ClusterRoleBinding'],
    ] as const) {
      expect(listOn(west, kind[0], kind[1], { [WORKSPACE_LABEL]: ws })).toEqual([]);
    }
    expect(objectOn(west, 'v1', 'Namespace', undefined, 'web')).toBeDefined();
    expect(h.reconciler.status(ws).map((s) => s.name)).toEqual(['east']);
    expect(quota(east, 'web')).toEqual({ 'requests.cpu': '3', 'requests.memory': '6Gi' });
    expect(listOn(east, RBAC, 'ClusterRoleBinding', { [WORKSPACE_LABEL]: ws })).toHaveLength(1);
  });

  it('a workspace closed with a cluster still attached is cleaned up there too (the decider refuses this; the log may still hold it)', async () => {
    const stream = `workspace-${ws}`;
    const revision = h.service.directory.workspace(ws)!.streamRevision!;
    const appended = await h.log.append(stream, [{ type: 'WorkspaceClosed', data: { workspaceId: ws, organizationId: h.service.directory.workspace(ws)!.organizationId } }], { expectedRevision: revision });
    await h.reconciler.reached(appended.position);
    await eventually(async () => expect((await h.clusterEvents(eastId)).at(-1)).toMatchObject({ type: 'ClusterReleased', data: { cause: 'workspace-deleted', namespacesReleased: 2 } }));
    for (const kind of [
      ['v1', 'Namespace'],
      ['v1', 'ResourceQuota'],
      ['v1', 'Secret'],
      [RBAC, 'ClusterRoleBinding'],
    ] as const) {
      expect(listOn(east, kind[0], kind[1], { [WORKSPACE_LABEL]: ws })).toEqual([]);
    }
    expect(objectOn(east, 'v1', 'Namespace', undefined, 'web')).toBeDefined();
    expect(objectOn(east, 'apps/v1', 'Deployment', 'db', 'postgres')).toBeDefined();
    expect(h.reconciler.status(ws)).toEqual([]);
  });
});
