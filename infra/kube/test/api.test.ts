import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ApisApi, CoreApi, PatchStrategy, setHeaderOptions, type KubernetesObject, type V1ConfigMap, type V1Deployment } from '@kubernetes/client-node';
import type { Controller, ResourceType } from '../src/index.js';
import { deployment, labelled, startHarness, statusOf, type Harness } from './support.js';

describe('the simulator API through the real client-node', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.cluster.stop());

  const ns = 'default';

  it('serves discovery: core versions, groups, and resources with their verbs and subresources', async () => {
    const kc = h.client.kubeConfig;
    expect((await kc.makeApiClient(CoreApi).getAPIVersions()).versions).toEqual(['v1']);
    const groups = (await kc.makeApiClient(ApisApi).getAPIVersions()).groups.map((g) => g.name);
    expect(groups).toEqual(expect.arrayContaining(['apps', 'batch', 'rbac.authorization.k8s.io', 'admissionregistration.k8s.io']));
    const apps = await h.client.apps.getAPIResources();
    const names = apps.resources.map((r) => r.name);
    expect(names).toEqual(expect.arrayContaining(['deployments', 'deployments/status', 'deployments/scale', 'replicasets', 'statefulsets', 'daemonsets']));
    expect(apps.resources.find((r) => r.name === 'deployments')).toMatchObject({ kind: 'Deployment', namespaced: true, shortNames: ['deploy'] });
  });

  it('creates, reads, replaces and deletes, with server-set metadata and one cluster-wide resourceVersion', async () => {
    const created = await h.client.core.createNamespacedConfigMap({ namespace: ns, body: labelled('crud', { app: 'crud' }, { k: 'v1' }) });
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata?.creationTimestamp?.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    const first = Number(created.metadata?.resourceVersion);
    const read = await h.client.core.readNamespacedConfigMap({ name: 'crud', namespace: ns });
    expect(read.data).toEqual({ k: 'v1' });
    const replaced = await h.client.core.replaceNamespacedConfigMap({ name: 'crud', namespace: ns, body: { ...read, data: { k: 'v2' } } });
    expect(Number(replaced.metadata?.resourceVersion)).toBeGreaterThan(first);
    expect(replaced.metadata?.uid).toBe(created.metadata?.uid);
    const other = await h.client.core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'crud-secret' }, stringData: { password: 'hunter2' } } });
    expect(Number(other.metadata?.resourceVersion)).toBeGreaterThan(Number(replaced.metadata?.resourceVersion));
    expect(other.type).toBe('Opaque');
    expect(other.data).toEqual({ password: Buffer.from('hunter2').toString('base64') });
    await h.client.core.deleteNamespacedConfigMap({ name: 'crud', namespace: ns });
    expect(await statusOf(h.client.core.readNamespacedConfigMap({ name: 'crud', namespace: ns }))).toMatchObject({ code: 404, reason: 'NotFound' });
  });

  it('refuses an update based on a stale resourceVersion with 409 Conflict, and changes nothing', async () => {
    const created = await h.client.core.createNamespacedConfigMap({ namespace: ns, body: labelled('occ', {}, { k: 'a' }) });
    await h.client.core.replaceNamespacedConfigMap({ name: 'occ', namespace: ns, body: { ...created, data: { k: 'b' } } });
    const status = await statusOf(h.client.core.replaceNamespacedConfigMap({ name: 'occ', namespace: ns, body: { ...created, data: { k: 'c' } } }));
    expect(status).toMatchObject({
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      code: 409,
      reason: 'Conflict',
      message: 'Operation cannot be fulfilled on configmaps "occ": the object has been modified; please apply your changes to the latest version and try again',
      details: { name: 'occ', kind: 'configmaps' },
    });
    expect((await h.client.core.readNamespacedConfigMap({ name: 'occ', namespace: ns })).data).toEqual({ k: 'b' });
  });

  it('answers every failure with a Kubernetes Status: AlreadyExists, NotFound, Invalid, missing namespace', async () => {
    await h.client.core.createNamespacedConfigMap({ namespace: ns, body: labelled('dup', {}) });
    expect(await statusOf(h.client.core.createNamespacedConfigMap({ namespace: ns, body: labelled('dup', {}) }))).toMatchObject({
      code: 409,
      reason: 'AlreadyExists',
      message: 'configmaps "dup" already exists',
    });
    expect(await statusOf(h.client.apps.readNamespacedDeployment({ name: 'nope', namespace: ns }))).toMatchObject({
      code: 404,
      reason: 'NotFound',
      message: 'deployments.apps "nope" not found',
      details: { name: 'nope', group: 'apps', kind: 'deployments' },
    });
    const invalid = await statusOf(h.client.core.createNamespacedConfigMap({ namespace: ns, body: labelled('Bad_Name', {}) }));
    expect(invalid).toMatchObject({ code: 422, reason: 'Invalid', details: { causes: [{ field: 'metadata.name', reason: 'FieldValueInvalid' }] } });
    expect(invalid.message).toContain('ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain');
    expect(await statusOf(h.client.core.createNamespacedConfigMap({ namespace: 'ghost', body: labelled('x', {}) }))).toMatchObject({
      code: 404,
      reason: 'NotFound',
      message: 'namespaces "ghost" not found',
    });
    const badDeployment = deployment('mismatch', 1);
    badDeployment.spec.selector.matchLabels = { app: 'other' };
    const mismatch = await statusOf(h.client.apps.createNamespacedDeployment({ namespace: ns, body: badDeployment }));
    expect(mismatch).toMatchObject({ code: 422, reason: 'Invalid' });
    expect(mismatch.message).toContain('`selector` does not match template `labels`');
    expect(await statusOf(h.client.core.listNamespacedConfigMap({ namespace: ns, labelSelector: 'a in (b' }))).toMatchObject({ code: 400, reason: 'BadRequest' });
    expect(await statusOf(h.client.core.listNamespacedPod({ namespace: ns, fieldSelector: 'spec.color=red' }))).toMatchObject({ code: 400, message: 'field label not supported: spec.color' });
  });

  it('selects by label with =, ==, !=, in, notin, exists and !exists, and by metadata fields', async () => {
    const sel = 'selectors';
    await h.client.core.createNamespace({ body: { metadata: { name: sel } } });
    await h.client.core.createNamespacedConfigMap({ namespace: sel, body: labelled('a', { app: 'web', env: 'prod', canary: 'yes' }) });
    await h.client.core.createNamespacedConfigMap({ namespace: sel, body: labelled('b', { app: 'web', env: 'dev' }) });
    await h.client.core.createNamespacedConfigMap({ namespace: sel, body: labelled('c', { app: 'db', env: 'staging' }) });
    await h.client.core.createNamespacedConfigMap({ namespace: sel, body: labelled('d', {}) });
    const names = async (labelSelector?: string, fieldSelector?: string) =>
      (await h.client.core.listNamespacedConfigMap({ namespace: sel, ...(labelSelector ? { labelSelector } : {}), ...(fieldSelector ? { fieldSelector } : {}) })).items.map((i) => i.metadata?.name);
    expect(await names('app=web')).toEqual(['a', 'b']);
    expect(await names('app==web,env=prod')).toEqual(['a']);
    expect(await names('app!=web')).toEqual(['c', 'd']);
    expect(await names('env in (prod, staging)')).toEqual(['a', 'c']);
    expect(await names('env notin (prod)')).toEqual(['b', 'c', 'd']);
    expect(await names('canary')).toEqual(['a']);
    expect(await names('!env')).toEqual(['d']);
    expect(await names(undefined, 'metadata.name=b')).toEqual(['b']);
    expect(await names('app=web', 'metadata.name!=a')).toEqual(['b']);
    const all = await h.client.core.listConfigMapForAllNamespaces({ labelSelector: 'app=db' });
    expect(all.items.map((i) => `${i.metadata?.namespace}/${i.metadata?.name}`)).toEqual([`${sel}/c`]);
  });

  it('pages lists with limit and continue', async () => {
    const paged = 'paged';
    await h.client.core.createNamespace({ body: { metadata: { name: paged } } });
    for (const n of ['p1', 'p2', 'p3', 'p4', 'p5']) await h.client.core.createNamespacedConfigMap({ namespace: paged, body: labelled(n, { page: 'yes' }) });
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await h.client.core.listNamespacedConfigMap({ namespace: paged, labelSelector: 'page', limit: 2, ...(token ? { _continue: token } : {}) });
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((i) => i.metadata!.name!));
      token = page.metadata?._continue;
    } while (token);
    expect(seen).toEqual(['p1', 'p2', 'p3', 'p4', 'p5']);
  });

  it('keeps status apart: main-resource writes ignore status, status writes ignore the rest', async () => {
    const created = await h.client.apps.createNamespacedDeployment({ namespace: ns, body: { ...deployment('status-split', 0), status: { replicas: 7 } } as V1Deployment });
    expect(created.status?.replicas).toBeUndefined();
    expect(created.metadata?.generation).toBe(1);
    await h.cluster.settled();
    const fresh = await h.client.apps.readNamespacedDeployment({ name: 'status-split', namespace: ns });
    const withStatus = await h.client.apps.replaceNamespacedDeploymentStatus({
      name: 'status-split',
      namespace: ns,
      body: { ...fresh, spec: { ...fresh.spec!, replicas: 9 }, status: { ...fresh.status, conditions: [...(fresh.status?.conditions ?? []), { type: 'Custom', status: 'True' }] } },
    });
    expect(withStatus.spec?.replicas).toBe(0);
    expect(withStatus.status?.conditions?.map((c) => c.type)).toContain('Custom');
    expect(withStatus.metadata?.generation).toBe(1);
    await h.cluster.settled();
    const current = await h.client.apps.readNamespacedDeployment({ name: 'status-split', namespace: ns });
    const changed = await h.client.apps.replaceNamespacedDeployment({ name: 'status-split', namespace: ns, body: { ...current, spec: { ...current.spec!, minReadySeconds: 5 }, status: {} } });
    expect(changed.metadata?.generation).toBe(2);
    expect(changed.status?.conditions?.map((c) => c.type)).toContain('Custom');
    const statusRead = await h.client.apps.readNamespacedDeploymentStatus({ name: 'status-split', namespace: ns });
    expect(statusRead.spec?.minReadySeconds).toBe(5);
  });

  it('applies JSON, merge and strategic merge patches (containers merge by name)', async () => {
    await h.client.apps.createNamespacedDeployment({ namespace: ns, body: deployment('patched', 0) });
    const merge = await h.client.apps.patchNamespacedDeployment(
      { name: 'patched', namespace: ns, body: { metadata: { labels: { team: 'blue' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(merge.metadata?.labels).toEqual({ app: 'patched', team: 'blue' });
    const json = await h.client.apps.patchNamespacedDeployment({ name: 'patched', namespace: ns, body: [{ op: 'replace', path: '/spec/replicas', value: 0 }, { op: 'remove', path: '/metadata/labels/team' }] });
    expect(json.metadata?.labels).toEqual({ app: 'patched' });
    const strategic = await h.client.apps.patchNamespacedDeployment(
      { name: 'patched', namespace: ns, body: { spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'envoy:1' }, { name: 'main', image: 'nginx:1.28' }] } } } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    const containers = strategic.spec?.template.spec?.containers ?? [];
    expect(containers.map((c) => [c.name, c.image])).toEqual([
      ['main', 'nginx:1.28'],
      ['sidecar', 'envoy:1'],
    ]);
    expect(containers[0]?.resources?.requests).toEqual({ cpu: '100m', memory: '64Mi' });
    const failedTest = await statusOf(h.client.apps.patchNamespacedDeployment({ name: 'patched', namespace: ns, body: [{ op: 'test', path: '/spec/replicas', value: 5 }] }));
    expect(failedTest).toMatchObject({ code: 422 });
  });

  describe('server-side apply', () => {
    const cm = (data: Record<string, string>, labels: Record<string, string> = {}): KubernetesObject & { data: Record<string, string> } => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'ssa', namespace: ns, ...(Object.keys(labels).length > 0 ? { labels } : {}) },
      data,
    });

    it('creates, records each manager’s fields, conflicts on another manager’s different value, and force takes them over', async () => {
      const created = (await h.client.objects.patch(cm({ a: '1', b: '2' }, { owner: 'canopy' }), undefined, undefined, 'canopy', false, PatchStrategy.ServerSideApply)) as V1ConfigMap;
      expect(created.data).toEqual({ a: '1', b: '2' });
      expect(created.metadata?.managedFields).toEqual([
        expect.objectContaining({ manager: 'canopy', operation: 'Apply', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:a': {}, 'f:b': {} }, 'f:metadata': { 'f:labels': { 'f:owner': {} } } } }),
      ]);

      const shared = (await h.client.objects.patch(cm({ b: '2', c: '3' }), undefined, undefined, 'other', false, PatchStrategy.ServerSideApply)) as V1ConfigMap;
      expect(shared.data).toEqual({ a: '1', b: '2', c: '3' });

      const conflict = await statusOf(h.client.objects.patch(cm({ a: 'changed' }), undefined, undefined, 'other', false, PatchStrategy.ServerSideApply));
      expect(conflict).toMatchObject({
        code: 409,
        reason: 'Conflict',
        message: 'Apply failed with 1 conflict: conflict with "canopy": .data.a',
        details: { causes: [{ reason: 'FieldManagerConflict', field: '.data.a', message: 'conflict with "canopy"' }] },
      });
      expect((await h.client.core.readNamespacedConfigMap({ name: 'ssa', namespace: ns })).data?.['a']).toBe('1');

      const forced = (await h.client.objects.patch(cm({ a: 'changed', b: '2', c: '3' }), undefined, undefined, 'other', true, PatchStrategy.ServerSideApply)) as V1ConfigMap;
      expect(forced.data?.['a']).toBe('changed');
      const owners = Object.fromEntries((forced.metadata?.managedFields ?? []).map((m) => [m.manager, Object.keys((m.fieldsV1 as Record<string, Record<string, unknown>>)['f:data'] ?? {})]));
      expect(owners).toEqual({ canopy: ['f:b'], other: ['f:a', 'f:b', 'f:c'] });
    });

    it('removes fields a manager stops applying, unless another manager also owns them', async () => {
      const after = (await h.client.objects.patch(cm({}, { owner: 'canopy' }), undefined, undefined, 'canopy', false, PatchStrategy.ServerSideApply)) as V1ConfigMap;
      expect(after.data).toEqual({ a: 'changed', b: '2', c: '3' });
      const trimmed = (await h.client.objects.patch(cm({ a: 'changed' }), undefined, undefined, 'other', false, PatchStrategy.ServerSideApply)) as V1ConfigMap;
      expect(trimmed.data).toEqual({ a: 'changed' });
      expect(trimmed.metadata?.labels).toEqual({ owner: 'canopy' });
      const noLabels = (await h.client.objects.patch(cm({}), undefined, undefined, 'canopy', false, PatchStrategy.ServerSideApply)) as V1ConfigMap;
      expect(noLabels.metadata?.labels ?? {}).toEqual({});
    });

    it('takes ownership on plain updates and merges associative lists by key', async () => {
      const apply = { ...deployment('ssa-deploy', 0), metadata: { name: 'ssa-deploy', namespace: ns, labels: { app: 'ssa-deploy' } } };
      await h.client.objects.patch(apply, undefined, undefined, 'canopy', false, PatchStrategy.ServerSideApply);
      await h.client.apps.patchNamespacedDeployment(
        { name: 'ssa-deploy', namespace: ns, body: { spec: { template: { spec: { containers: [{ name: 'main', image: 'nginx:edited' }] } } } }, fieldManager: 'kubectl-edit' },
        setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
      );
      const conflict = await statusOf(h.client.objects.patch(apply, undefined, undefined, 'canopy', false, PatchStrategy.ServerSideApply));
      expect(conflict.message).toBe('Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.template.spec.containers[name="main"].image');
      const sidecar = {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'ssa-deploy', namespace: ns },
        spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'envoy:1' }] } } },
      };
      const merged = (await h.client.objects.patch(sidecar, undefined, undefined, 'mesh', false, PatchStrategy.ServerSideApply)) as V1Deployment;
      expect(merged.spec?.template.spec?.containers.map((c) => `${c.name}=${c.image}`)).toEqual(['main=nginx:edited', 'sidecar=envoy:1']);
    });

    it('requires a field manager', async () => {
      expect(await statusOf(h.client.objects.patch(cm({ a: '1' }), undefined, undefined, undefined, false, PatchStrategy.ServerSideApply))).toMatchObject({ code: 400, message: 'fieldManager is required for apply requests' });
    });
  });

  it('holds an object with finalizers until the last one is removed', async () => {
    await h.client.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'held', finalizers: ['canopy.dev/cleanup'] } } });
    await h.client.core.deleteNamespacedConfigMap({ name: 'held', namespace: ns });
    const held = await h.client.core.readNamespacedConfigMap({ name: 'held', namespace: ns });
    expect(held.metadata?.deletionTimestamp).toBeInstanceOf(Date);
    await h.client.core.replaceNamespacedConfigMap({ name: 'held', namespace: ns, body: { ...held, metadata: { ...held.metadata, finalizers: [] } } });
    expect(await statusOf(h.client.core.readNamespacedConfigMap({ name: 'held', namespace: ns }))).toMatchObject({ code: 404 });
  });

  it('garbage-collects dependents of a deleted owner, and orphans them on request', async () => {
    await h.client.apps.createNamespacedDeployment({ namespace: ns, body: deployment('owner', 2) });
    await h.cluster.settled();
    const rsOf = async (app: string) => (await h.client.apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: `app=${app}` })).items;
    const podsOf = async (app: string) => (await h.client.core.listNamespacedPod({ namespace: ns, labelSelector: `app=${app}` })).items;
    expect(await rsOf('owner')).toHaveLength(1);
    expect(await podsOf('owner')).toHaveLength(2);
    await h.client.apps.deleteNamespacedDeployment({ name: 'owner', namespace: ns });
    expect(await rsOf('owner')).toHaveLength(0);
    expect(await podsOf('owner')).toHaveLength(0);

    await h.client.apps.createNamespacedDeployment({ namespace: ns, body: deployment('orphaner', 1) });
    await h.cluster.settled();
    await h.client.apps.deleteNamespacedDeployment({ name: 'orphaner', namespace: ns, propagationPolicy: 'Orphan' });
    const [orphan] = await rsOf('orphaner');
    expect(orphan?.metadata?.ownerReferences).toBeUndefined();
    expect(await podsOf('orphaner')).toHaveLength(1);
  });

  it('deletes a namespace with everything in it', async () => {
    await h.client.core.createNamespace({ body: { metadata: { name: 'doomed' } } });
    await h.client.core.createNamespacedConfigMap({ namespace: 'doomed', body: labelled('inside', {}) });
    await h.client.core.deleteNamespace({ name: 'doomed' });
    await h.cluster.settled();
    expect(await statusOf(h.client.core.readNamespace({ name: 'doomed' }))).toMatchObject({ code: 404 });
    expect((await h.client.core.listConfigMapForAllNamespaces({ fieldSelector: 'metadata.namespace=doomed' })).items).toHaveLength(0);
  });

  it('scales through the scale subresource', async () => {
    await h.client.apps.createNamespacedDeployment({ namespace: ns, body: deployment('scalable', 1) });
    await h.cluster.settled();
    const scale = await h.client.apps.readNamespacedDeploymentScale({ name: 'scalable', namespace: ns });
    expect(scale.spec?.replicas).toBe(1);
    expect(scale.status?.selector).toBe('app=scalable');
    await h.client.apps.replaceNamespacedDeploymentScale({ name: 'scalable', namespace: ns, body: { ...scale, spec: { replicas: 4 } } });
    expect((await h.client.apps.readNamespacedDeployment({ name: 'scalable', namespace: ns })).spec?.replicas).toBe(4);
  });
});

describe('extending the simulator with another API group and its controller', () => {
  it('serves a registered read-only kind that its own controller maintains, and refuses other verbs with 405', async () => {
    const tally: ResourceType = { group: 'example.canopy.dev', version: 'v1', kind: 'Tally', plural: 'tallies', singular: 'tally', namespaced: true, verbs: ['get', 'list', 'watch'] };
    const h = await startHarness({
      extraResources: [tally],
      extraControllers: (api) => {
        const cmType = api.resource('v1', 'ConfigMap');
        const tallyType = api.resource('example.canopy.dev/v1', 'Tally');
        const controller: Controller = {
          name: 'tallies',
          initialKeys: () => [],
          keysFor: (change) => (change.resource === cmType ? [String((change.object['metadata'] as { namespace: string }).namespace)] : []),
          reconcile: (namespace) => {
            const count = api.store.peekAll(cmType, namespace).length;
            const existing = api.tryGet(tallyType, namespace, 'configmaps');
            if (!existing) api.create(tallyType, namespace, { metadata: { name: 'configmaps' }, count }, { manager: 'tally-controller' });
            else if (existing['count'] !== count) api.update(tallyType, namespace, 'configmaps', { ...existing, count }, { manager: 'tally-controller' });
          },
        };
        return [controller];
      },
    });
    try {
      const groups = (await h.client.kubeConfig.makeApiClient(ApisApi).getAPIVersions()).groups;
      expect(groups.find((g) => g.name === 'example.canopy.dev')?.preferredVersion?.groupVersion).toBe('example.canopy.dev/v1');
      await h.client.core.createNamespacedConfigMap({ namespace: 'default', body: labelled('one', {}) });
      await h.client.core.createNamespacedConfigMap({ namespace: 'default', body: labelled('two', {}) });
      await h.cluster.settled();
      const list = await h.client.objects.list('example.canopy.dev/v1', 'Tally', 'default');
      expect(list.items.map((t) => [t.metadata?.name, (t as unknown as { count: number }).count])).toEqual([['configmaps', 2]]);
      const refused = await statusOf(h.client.objects.create({ apiVersion: 'example.canopy.dev/v1', kind: 'Tally', metadata: { name: 'forged', namespace: 'default' } }));
      expect(refused).toMatchObject({ code: 405, reason: 'MethodNotAllowed', message: 'create is not supported on tallies.example.canopy.dev' });
    } finally {
      await h.cluster.stop();
    }
  });
});
