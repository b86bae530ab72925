import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { makeInformer, PatchStrategy, setHeaderOptions, type V1Deployment, type V1Pod } from '@kubernetes/client-node';
import { DEFAULT_POD_TIMING, SIM_ANNOTATIONS } from '../src/index.js';
import { deployment, eventually, startHarness, statusOf, type Harness } from './support.js';

const { scheduleMs, startMs, runMs } = DEFAULT_POD_TIMING;

describe('simulated controllers on a manual clock', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ nodes: 3, namespaces: ['apps'] });
  });
  afterAll(() => h.cluster.stop());

  const ns = 'apps';
  const pods = async (selector: string) => (await h.client.core.listNamespacedPod({ namespace: ns, labelSelector: selector })).items;
  const phases = (list: V1Pod[]) => list.map((p) => p.status?.phase).sort();

  it('turns a Deployment into a ReplicaSet and pods that go Pending → scheduled → Running, with status and events', async () => {
    await h.client.apps.createNamespacedDeployment({ namespace: ns, body: deployment('web', 3) });
    await h.cluster.settled();
    const [rs] = (await h.client.apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: 'app=web' })).items;
    expect(rs?.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Deployment', name: 'web', controller: true });
    expect(rs?.metadata?.name).toMatch(/^web-[a-z0-9]{10}$/);
    let list = await pods('app=web');
    expect(list).toHaveLength(3);
    expect(phases(list)).toEqual(['Pending', 'Pending', 'Pending']);
    expect(list.every((p) => !p.spec?.nodeName)).toBe(true);

    await h.cluster.advance(scheduleMs);
    list = await pods('app=web');
    expect(new Set(list.map((p) => p.spec?.nodeName)).size).toBe(3);
    expect(phases(list)).toEqual(['Pending', 'Pending', 'Pending']);
    let web = await h.client.apps.readNamespacedDeployment({ name: 'web', namespace: ns });
    expect(web.status?.readyReplicas).toBeUndefined();
    expect(web.status?.conditions?.find((c) => c.type === 'Available')?.status).toBe('False');

    await h.cluster.advance(startMs);
    list = await pods('app=web');
    expect(phases(list)).toEqual(['Running', 'Running', 'Running']);
    expect(list.every((p) => p.status?.podIP && p.status.containerStatuses?.[0]?.ready)).toBe(true);
    web = await h.client.apps.readNamespacedDeployment({ name: 'web', namespace: ns });
    expect(web.status).toMatchObject({ replicas: 3, readyReplicas: 3, availableReplicas: 3, updatedReplicas: 3, observedGeneration: 1 });
    expect(web.status?.conditions?.map((c) => `${c.type}=${c.status}:${c.reason}`)).toEqual(['Available=True:MinimumReplicasAvailable', 'Progressing=True:NewReplicaSetAvailable']);
    const events = await h.client.core.listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.kind=Deployment,involvedObject.name=web' });
    expect(events.items.map((e) => e.message)).toEqual([`Scaled up replica set ${rs?.metadata?.name} from 0 to 3`]);
    const podEvents = await h.client.core.listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.name=${list[0]!.metadata!.name}` });
    expect(podEvents.items.map((e) => e.reason).sort()).toEqual(['Created', 'Pulled', 'Scheduled', 'Started']);
  });

  it('lets an informer see a scale-up go through the deployment status until every replica is ready', async () => {
    const seen: string[] = [];
    const informer = makeInformer<V1Deployment>(h.client.kubeConfig, `/apis/apps/v1/namespaces/${ns}/deployments`, () => h.client.apps.listNamespacedDeployment({ namespace: ns }));
    informer.on('update', (d) => {
      if (d.metadata?.name === 'web') seen.push(`${d.spec?.replicas}:${d.status?.readyReplicas ?? 0}`);
    });
    await informer.start();
    await h.client.apps.patchNamespacedDeployment({ name: 'web', namespace: ns, body: { spec: { replicas: 5 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await eventually(() => expect(seen).toContain('5:3'));
    await h.cluster.advance(scheduleMs + startMs);
    await eventually(() => expect(seen[seen.length - 1]).toBe('5:5'));
    expect(informer.get('web', ns)?.status?.availableReplicas).toBe(5);
    await informer.stop();

    await h.client.apps.patchNamespacedDeployment({ name: 'web', namespace: ns, body: { spec: { replicas: 2 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await h.cluster.settled();
    expect(await pods('app=web')).toHaveLength(2);
  });

  it('rolls out a template change: a new ReplicaSet, the old one scaled down as new pods become available', async () => {
    const web = await h.client.apps.readNamespacedDeployment({ name: 'web', namespace: ns });
    web.spec!.template.spec!.containers[0]!.image = 'nginx:1.28';
    await h.client.apps.replaceNamespacedDeployment({ name: 'web', namespace: ns, body: web });
    await h.cluster.settled();
    let sets = (await h.client.apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: 'app=web' })).items;
    expect(sets).toHaveLength(2);
    await h.cluster.advance(scheduleMs + startMs);
    sets = (await h.client.apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: 'app=web' })).items;
    const byImage = Object.fromEntries(sets.map((rs) => [rs.spec?.template?.spec?.containers[0]?.image, rs.spec?.replicas]));
    expect(byImage).toEqual({ 'nginx:1.27': 0, 'nginx:1.28': 2 });
    const current = await h.client.apps.readNamespacedDeployment({ name: 'web', namespace: ns });
    expect(current.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('2');
    expect(current.metadata?.generation).toBe(4);
    expect(current.status).toMatchObject({ observedGeneration: 4, updatedReplicas: 2, availableReplicas: 2 });
    expect((await pods('app=web')).map((p) => p.spec?.containers[0]?.image)).toEqual(['nginx:1.28', 'nginx:1.28']);
  });

  it('crash-loops the pods of a deployment asked to fail, and reports it unavailable', async () => {
    await h.client.apps.createNamespacedDeployment({ namespace: ns, body: deployment('broken', 1, 'app:bad', { [SIM_ANNOTATIONS.fail]: 'true' }) });
    await h.cluster.advance(scheduleMs + startMs);
    const [pod] = await pods('app=broken');
    expect(pod?.status?.phase).toBe('Running');
    expect(pod?.status?.containerStatuses?.[0]).toMatchObject({ ready: false, restartCount: 1, state: { waiting: { reason: 'CrashLoopBackOff' } } });
    await h.cluster.advance(DEFAULT_POD_TIMING.crashBackoffMs);
    expect((await pods('app=broken'))[0]?.status?.containerStatuses?.[0]?.restartCount).toBe(2);
    const broken = await h.client.apps.readNamespacedDeployment({ name: 'broken', namespace: ns });
    expect(broken.status?.conditions?.find((c) => c.type === 'Available')).toMatchObject({ status: 'False', reason: 'MinimumReplicasUnavailable' });
  });

  it('runs a Job to completion, and fails a Job whose pods fail once past its backoff limit', async () => {
    const job = (name: string, annotations: Record<string, string>) => ({
      metadata: { name, annotations },
      spec: { backoffLimit: 1, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox:1.36' }] } } },
    });
    await h.client.batch.createNamespacedJob({ namespace: ns, body: job('good', {}) });
    await h.client.batch.createNamespacedJob({ namespace: ns, body: job('bad', { [SIM_ANNOTATIONS.fail]: 'true' }) });
    await h.cluster.advance(scheduleMs + startMs);
    expect(phases(await pods('job-name=good'))).toEqual(['Running']);
    expect(phases(await pods('job-name=bad'))).toEqual(['Failed']);
    await h.cluster.advance(runMs);
    const good = await h.client.batch.readNamespacedJob({ name: 'good', namespace: ns });
    expect(good.status).toMatchObject({ succeeded: 1 });
    expect(good.status?.conditions?.map((c) => c.type)).toEqual(['SuccessCriteriaMet', 'Complete']);
    expect(good.status?.completionTime).toBeInstanceOf(Date);

    await h.cluster.advance(10_000);
    await h.cluster.advance(scheduleMs + startMs);
    const bad = await h.client.batch.readNamespacedJob({ name: 'bad', namespace: ns });
    expect(phases(await pods('job-name=bad'))).toEqual(['Failed', 'Failed']);
    expect(bad.status).toMatchObject({ failed: 2 });
    expect(bad.status?.conditions?.find((c) => c.type === 'Failed')).toMatchObject({ status: 'True', reason: 'BackoffLimitExceeded' });
    const warnings = await h.client.core.listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=bad,type=Warning' });
    expect(warnings.items.map((e) => e.reason)).toEqual(['BackoffLimitExceeded']);
  });

  it('starts StatefulSet pods in order, each after the previous one is ready', async () => {
    await h.client.apps.createNamespacedStatefulSet({
      namespace: ns,
      body: { metadata: { name: 'db' }, spec: { replicas: 3, serviceName: 'db', selector: { matchLabels: { app: 'db' } }, template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'pg', image: 'postgres:17' }] } } } },
    });
    await h.cluster.settled();
    expect((await pods('app=db')).map((p) => p.metadata?.name)).toEqual(['db-0']);
    await h.cluster.advance(scheduleMs + startMs);
    expect((await pods('app=db')).map((p) => p.metadata?.name)).toEqual(['db-0', 'db-1']);
    await h.cluster.advance(2 * (scheduleMs + startMs));
    const sts = await h.client.apps.readNamespacedStatefulSet({ name: 'db', namespace: ns });
    expect(sts.status).toMatchObject({ replicas: 3, readyReplicas: 3, availableReplicas: 3 });
  });

  it('puts one DaemonSet pod on every node', async () => {
    await h.client.apps.createNamespacedDaemonSet({
      namespace: ns,
      body: { metadata: { name: 'agent' }, spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'agent', image: 'agent:1' }] } } } },
    });
    await h.cluster.advance(startMs);
    const list = await pods('app=agent');
    const nodes = (await h.client.core.listNode()).items.map((n) => n.metadata?.name).sort();
    expect(list.map((p) => p.spec?.nodeName).sort()).toEqual(nodes);
    expect(phases(list)).toEqual(['Running', 'Running', 'Running']);
    const ds = await h.client.apps.readNamespacedDaemonSet({ name: 'agent', namespace: ns });
    expect(ds.status).toMatchObject({ desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 3 });
  });

  it('runs a CronJob’s Jobs at the scheduled minutes, keeping the history limit', async () => {
    await h.client.batch.createNamespacedCronJob({
      namespace: ns,
      body: {
        metadata: { name: 'nightly' },
        spec: { schedule: '*/5 * * * *', successfulJobsHistoryLimit: 1, jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'backup', image: 'backup:1' }] } } } } },
      },
    });
    const jobs = async () => (await h.client.batch.listNamespacedJob({ namespace: ns })).items.filter((j) => j.metadata?.ownerReferences?.[0]?.name === 'nightly');
    const firstSlot = Math.floor(h.clock.now() / 300_000) * 300_000 + 300_000;
    await h.cluster.settled();
    expect(await jobs()).toHaveLength(0);
    await h.cluster.advance(300_000);
    await h.cluster.advance(scheduleMs + startMs + runMs);
    let list = await jobs();
    expect(list.map((j) => j.metadata?.name)).toEqual([`nightly-${firstSlot / 60_000}`]);
    expect(list[0]?.status?.succeeded).toBe(1);
    let cron = await h.client.batch.readNamespacedCronJob({ name: 'nightly', namespace: ns });
    expect(cron.status?.lastScheduleTime?.getTime()).toBe(firstSlot);
    expect(cron.status?.lastSuccessfulTime).toBeInstanceOf(Date);
    expect(cron.status?.active).toBeUndefined();

    await h.cluster.advance(300_000);
    await h.cluster.advance(scheduleMs + startMs + runMs);
    list = await jobs();
    expect(list.map((j) => j.metadata?.name)).toEqual([`nightly-${firstSlot / 60_000 + 5}`]);
    cron = await h.client.batch.readNamespacedCronJob({ name: 'nightly', namespace: ns });
    expect(cron.status?.lastScheduleTime?.getTime()).toBe(firstSlot + 300_000);
  });

  it('computes ResourceQuota usage from the pods, and refuses pods past the quota with 403', async () => {
    await h.client.core.createNamespace({ body: { metadata: { name: 'quota' } } });
    await h.client.core.createNamespacedResourceQuota({ namespace: 'quota', body: { metadata: { name: 'compute' }, spec: { hard: { pods: '2', 'requests.cpu': '250m', 'requests.memory': '1Gi' } } } });
    const pod = (name: string, cpu: string) => ({ metadata: { name }, spec: { containers: [{ name: 'c', image: 'x:1', resources: { requests: { cpu, memory: '128Mi' } } }] } });
    await h.client.core.createNamespacedPod({ namespace: 'quota', body: pod('a', '100m') });
    await h.client.core.createNamespacedPod({ namespace: 'quota', body: pod('b', '100m') });
    await h.cluster.settled();
    const quota = await h.client.core.readNamespacedResourceQuota({ name: 'compute', namespace: 'quota' });
    expect(quota.status).toEqual({ hard: { pods: '2', 'requests.cpu': '250m', 'requests.memory': '1Gi' }, used: { pods: '2', 'requests.cpu': '200m', 'requests.memory': '256Mi' } });
    expect(await statusOf(h.client.core.createNamespacedPod({ namespace: 'quota', body: pod('c', '10m') }))).toMatchObject({
      code: 403,
      reason: 'Forbidden',
      message: 'pods "c" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=2, limited: pods=2',
    });
    expect(await statusOf(h.client.core.createNamespacedPod({ namespace: 'quota', body: { metadata: { name: 'd' }, spec: { containers: [{ name: 'c', image: 'x:1' }] } } }))).toMatchObject({
      code: 403,
      message: 'pods "d" is forbidden: failed quota: compute: must specify requests.cpu for: c; requests.memory for: c',
    });
    await h.client.core.deleteNamespacedPod({ name: 'b', namespace: 'quota' });
    await h.cluster.settled();
    expect((await h.client.core.readNamespacedResourceQuota({ name: 'compute', namespace: 'quota' })).status?.used).toEqual({ pods: '1', 'requests.cpu': '100m', 'requests.memory': '128Mi' });
  });
});
