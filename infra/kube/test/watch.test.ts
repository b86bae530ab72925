import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { makeInformer, type KubernetesObject, type V1ConfigMap } from '@kubernetes/client-node';
import { eventually, labelled, startHarness, type Harness } from './support.js';

type Seen = { type: string; name?: string; rv?: string; code?: number; reason?: string; labels?: Record<string, string> };

describe('watches through the real client-node Watch and informer', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ bookmarkIntervalMs: 100, namespaces: ['w'] });
  });
  afterAll(() => h.cluster.stop());

  async function watch(path: string, query: Record<string, string | boolean>) {
    const seen: Seen[] = [];
    let ended: unknown = undefined;
    const controller = await h.client.watch.watch(
      path,
      query,
      (type, obj: KubernetesObject & { code?: number; reason?: string }) => seen.push({ type, name: obj.metadata?.name, rv: obj.metadata?.resourceVersion, code: obj.code, reason: obj.reason, labels: obj.metadata?.labels }),
      (err) => (ended = err ?? 'closed'),
    );
    return { seen, controller, ended: () => ended };
  }

  it('streams changes after a resourceVersion, filtered by label selector: leaving the selection is a DELETED', async () => {
    const rv = (await h.client.core.listNamespacedConfigMap({ namespace: 'w' })).metadata!.resourceVersion!;
    const w = await watch('/api/v1/namespaces/w/configmaps', { resourceVersion: rv, labelSelector: 'team=a' });
    const cm = await h.client.core.createNamespacedConfigMap({ namespace: 'w', body: labelled('one', { team: 'a' }, { v: '1' }) });
    await h.client.core.createNamespacedConfigMap({ namespace: 'w', body: labelled('other', { team: 'b' }) });
    const updated = await h.client.core.replaceNamespacedConfigMap({ name: 'one', namespace: 'w', body: { ...cm, data: { v: '2' } } });
    await h.client.core.replaceNamespacedConfigMap({ name: 'one', namespace: 'w', body: { ...updated, metadata: { ...updated.metadata, labels: { team: 'b' } } } });
    await h.client.core.deleteNamespacedConfigMap({ name: 'other', namespace: 'w' });
    await eventually(() => expect(w.seen.map((e) => `${e.type} ${e.name}`)).toEqual(['ADDED one', 'MODIFIED one', 'DELETED one']));
    expect(w.seen[1]?.rv).toBe(updated.metadata?.resourceVersion);
    w.controller.abort();
  });

  it('starts with ADDED events for existing objects when no resourceVersion is given', async () => {
    await h.client.core.createNamespacedConfigMap({ namespace: 'w', body: labelled('existing', { initial: 'yes' }) });
    const w = await watch('/api/v1/namespaces/w/configmaps', { labelSelector: 'initial' });
    await eventually(() => expect(w.seen.map((e) => `${e.type} ${e.name}`)).toEqual(['ADDED existing']));
    w.controller.abort();
  });

  it('sends BOOKMARK events carrying the current resourceVersion only to watches that allow them', async () => {
    const rv = (await h.client.core.listNamespacedConfigMap({ namespace: 'w' })).metadata!.resourceVersion!;
    const withBookmarks = await watch('/api/v1/namespaces/w/configmaps', { resourceVersion: rv, allowWatchBookmarks: true });
    const without = await watch('/api/v1/namespaces/w/configmaps', { resourceVersion: rv });
    await h.client.core.createNamespacedConfigMap({ namespace: 'w', body: labelled('marked', {}) });
    const current = String(h.cluster.api.store.resourceVersion());
    await eventually(() => expect(withBookmarks.seen.filter((e) => e.type === 'BOOKMARK' && e.rv === current).length).toBeGreaterThanOrEqual(2));
    expect(without.seen.map((e) => e.type)).toEqual(['ADDED']);
    withBookmarks.controller.abort();
    without.controller.abort();
  });

  it('answers a resourceVersion older than the history with an in-stream 410 Gone, then ends the stream', async () => {
    const rv = (await h.client.core.listNamespacedConfigMap({ namespace: 'w' })).metadata!.resourceVersion!;
    await h.client.core.createNamespacedConfigMap({ namespace: 'w', body: labelled('after-rv', {}) });
    h.cluster.compactWatchHistory();
    const w = await watch('/api/v1/namespaces/w/configmaps', { resourceVersion: rv });
    await eventually(() => expect(w.ended()).toBe('closed'));
    expect(w.seen).toEqual([expect.objectContaining({ type: 'ERROR', code: 410, reason: 'Expired' })]);
  });

  it('lets an informer recover from 410 Gone by relisting: it converges on adds and deletes it missed', async () => {
    await h.client.core.createNamespace({ body: { metadata: { name: 'inf' } } });
    await h.client.core.createNamespacedConfigMap({ namespace: 'inf', body: labelled('kept', {}) });
    await h.client.core.createNamespacedConfigMap({ namespace: 'inf', body: labelled('doomed', {}) });
    let lists = 0;
    const informer = makeInformer<V1ConfigMap>(h.client.kubeConfig, '/api/v1/namespaces/inf/configmaps', () => {
      lists += 1;
      return h.client.core.listNamespacedConfigMap({ namespace: 'inf' });
    });
    const added: string[] = [];
    const deleted: string[] = [];
    informer.on('add', (obj) => added.push(obj.metadata!.name!));
    informer.on('delete', (obj) => deleted.push(obj.metadata!.name!));
    informer.on('error', () => undefined);
    await informer.start();
    await eventually(() => expect(added.sort()).toEqual(['doomed', 'kept']));
    await h.client.core.createNamespacedConfigMap({ namespace: 'inf', body: labelled('live', {}) });
    await eventually(() => expect(added).toContain('live'));
    expect(lists).toBe(1);

    // The informer's watch drops; while it is away the history moves past its resourceVersion.
    const cmType = h.cluster.api.resource('v1', 'ConfigMap');
    h.cluster.closeWatches();
    h.cluster.api.create(cmType, 'inf', labelled('missed', {}));
    h.cluster.api.delete(cmType, 'inf', 'doomed');
    h.cluster.compactWatchHistory();

    await eventually(() => expect(informer.list('inf').map((o) => o.metadata!.name).sort()).toEqual(['kept', 'live', 'missed']));
    expect(lists).toBe(2);
    expect(added).toContain('missed');
    expect(deleted).toEqual(['doomed']);
    await h.client.core.createNamespacedConfigMap({ namespace: 'inf', body: labelled('after-relist', {}) });
    await eventually(() => expect(added).toContain('after-relist'));
    await informer.stop();
  });
});
