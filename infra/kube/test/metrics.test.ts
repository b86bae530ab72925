import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CustomObjectsApi, Metrics, topPods } from '@kubernetes/client-node';
import { parseQuantity } from '../src/quantity.js';
import { containerUsage } from '../src/metrics/usage.js';
import { deployment, startHarness, statusOf, type Harness } from './support.js';

const ns = 'shop';

describe('metrics.k8s.io on the simulator, through the real client-node', () => {
  let h: Harness;
  let metrics: Metrics;
  beforeAll(async () => {
    h = await startHarness({ namespaces: [ns], nodes: 2, podTiming: { scheduleMs: 10, startMs: 10 } });
    metrics = new Metrics(h.client.kubeConfig);
    await h.client.apps.createNamespacedDeployment({ namespace: ns, body: deployment('web', 3) });
    const noRequests = deployment('bare', 1);
    delete (noRequests.spec.template.spec.containers[0] as { resources?: unknown }).resources;
    await h.client.apps.createNamespacedDeployment({ namespace: ns, body: noRequests });
    await h.cluster.advance(100);
  });
  afterAll(() => h.cluster.stop());

  it('is discovered as a read-only group: pods (namespaced) and nodes, get and list only', async () => {
    const resources = await h.client.kubeConfig.makeApiClient(CustomObjectsApi).getAPIResources({ group: 'metrics.k8s.io', version: 'v1beta1' });
    expect(resources.resources.map((r) => [r.name, r.kind, r.namespaced, r.verbs])).toEqual([
      ['pods', 'PodMetrics', true, ['get', 'list']],
      ['nodes', 'NodeMetrics', false, ['get', 'list']],
    ]);
  });

  it('serves a PodMetrics per Running pod, usage within 20%–120% of the request, stamped with the last scrape and its window', async () => {
    const list = await metrics.getPodMetrics(ns);
    expect(list.kind).toBe('PodMetricsList');
    expect(list.items.map((p) => p.metadata.name).filter((n) => n.startsWith('web-'))).toHaveLength(3);
    for (const pod of list.items.filter((p) => p.metadata.name.startsWith('web-'))) {
      expect(pod.window).toBe('15s');
      expect(pod.timestamp).toBe('2026-01-01T00:00:00Z');
      expect(pod.containers).toHaveLength(1);
      const { cpu, memory } = pod.containers[0]!.usage;
      expect(cpu).toMatch(/^\d+n$/);
      expect(memory).toMatch(/^\d+Ki$/);
      expect(parseQuantity(cpu)!).toBeGreaterThanOrEqual(0.1 * 0.2);
      expect(parseQuantity(cpu)!).toBeLessThanOrEqual(0.1 * 1.2 + 1e-9);
      expect(parseQuantity(memory)!).toBeGreaterThanOrEqual(64 * 2 ** 20 * 0.2 - 1024);
      expect(parseQuantity(memory)!).toBeLessThanOrEqual(64 * 2 ** 20 * 1.2 + 1024);
    }
    const bare = list.items.find((p) => p.metadata.name.startsWith('bare-'))!;
    expect(parseQuantity(bare.containers[0]!.usage.cpu)!).toBeLessThanOrEqual(0.012);
    expect(parseQuantity(bare.containers[0]!.usage.cpu)!).toBeGreaterThan(0);
    // All namespaces: the same pods.
    expect((await metrics.getPodMetrics()).items.filter((p) => p.metadata.namespace === ns)).toHaveLength(4);
  });

  it('moves with the clock, deterministically', async () => {
    const before = await metrics.getPodMetrics(ns);
    const again = await metrics.getPodMetrics(ns);
    expect(again.items).toEqual(before.items.map((p) => ({ ...p, metadata: { ...p.metadata } })));
    await h.cluster.advance(20 * 60_000);
    const later = await metrics.getPodMetrics(ns);
    expect(later.items[0]!.timestamp).toBe('2026-01-01T00:20:00Z');
    expect(later.items.map((p) => p.containers[0]!.usage.cpu)).not.toEqual(before.items.map((p) => p.containers[0]!.usage.cpu));
    // The figure is the function of pod, container, request and time the README describes.
    const pod = later.items[0]!;
    const expected = containerUsage({ namespace: ns, pod: pod.metadata.name, container: 'main' }, pod.metadata.name.startsWith('web-') ? { cpuCores: 0.1, memoryBytes: 64 * 2 ** 20 } : {}, Date.parse('2026-01-01T00:20:00Z'));
    expect(parseQuantity(pod.containers[0]!.usage.cpu)).toBeCloseTo(expected.cpuCores, 9);
  });

  it('leaves out pods that do not run, and answers NotFound for them', async () => {
    const failing = deployment('broken', 1, 'nginx:1.27', { 'sim.canopy.dev/fail': 'image-pull' });
    await h.client.apps.createNamespacedDeployment({ namespace: ns, body: failing });
    await h.cluster.advance(100);
    const pods = await h.client.core.listNamespacedPod({ namespace: ns, labelSelector: 'app=broken' });
    expect(pods.items).toHaveLength(1);
    expect((await metrics.getPodMetrics(ns)).items.map((p) => p.metadata.name)).not.toContain(pods.items[0]!.metadata!.name);
    const name = pods.items[0]!.metadata!.name!;
    const status = await statusOf(h.client.objects.read({ apiVersion: 'metrics.k8s.io/v1beta1', kind: 'PodMetrics', metadata: { name, namespace: ns } }));
    expect(status).toMatchObject({ code: 404, reason: 'NotFound', message: `pods.metrics.k8s.io "${name}" not found` });
  });

  it('serves NodeMetrics: each node its pods plus the system, within capacity; refuses writes and watches', async () => {
    const nodes = await metrics.getNodeMetrics();
    expect(nodes.items.map((n) => n.metadata.name).sort()).toEqual(['test-node-1', 'test-node-2']);
    const pods = await metrics.getPodMetrics();
    const podCpu = pods.items.reduce((sum, p) => sum + p.containers.reduce((s, c) => s + parseQuantity(c.usage.cpu)!, 0), 0);
    const nodeCpu = nodes.items.reduce((sum, n) => sum + parseQuantity(n.usage.cpu)!, 0);
    expect(nodeCpu).toBeGreaterThan(podCpu);
    for (const node of nodes.items) expect(parseQuantity(node.usage.cpu)!).toBeLessThanOrEqual(4);
    const write = await fetchStatus(h, 'POST', `/apis/metrics.k8s.io/v1beta1/namespaces/${ns}/pods`, '{}');
    expect(write).toMatchObject({ code: 405 });
    expect(await fetchStatus(h, 'GET', `/apis/metrics.k8s.io/v1beta1/nodes?watch=1`)).toMatchObject({ code: 405 });
  });

  it('is what client-node’s topPods reads', async () => {
    const top = await topPods(h.client.core, metrics, ns);
    const web = top.filter((p) => p.Pod.metadata?.name?.startsWith('web-'));
    expect(web).toHaveLength(3);
    for (const pod of web) {
      expect(Number(pod.CPU.RequestTotal)).toBeCloseTo(0.1);
      expect(Number(pod.CPU.CurrentUsage)).toBeGreaterThan(0);
    }
  });
});

async function fetchStatus(h: Harness, method: string, path: string, body?: string): Promise<Record<string, unknown>> {
  const { default: https } = await import('node:https');
  return new Promise((resolve, reject) => {
    const request = https.request(`${h.cluster.url}${path}`, { method, ca: h.cluster.caPem, headers: { authorization: `Bearer ${h.cluster.token}`, 'content-type': 'application/json' } }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => resolve(JSON.parse(text) as Record<string, unknown>));
    });
    request.on('error', reject);
    request.end(body);
  });
}
