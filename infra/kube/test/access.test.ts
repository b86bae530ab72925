import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ClusterAccessError, ClusterConnector, connectCluster, simulatorDirectory, kubeconfigYaml, startDemoClusters, startSimulatedCluster, writeKubeconfig, type SimulatedCluster } from '../src/index.js';
import { selfSignedCertificate } from '../src/tls.js';

describe('cluster access: connectCluster and the health probe, against the fault switch', () => {
  let cluster: SimulatedCluster;
  let dir: string;
  beforeAll(async () => {
    cluster = await startSimulatedCluster({ name: 'faulty', nodes: 1 });
    dir = await mkdtemp(join(tmpdir(), 'canopy-kube-'));
  });
  afterAll(async () => {
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('connects through a written kubeconfig file (mode 0600) and reports the cluster reachable', async () => {
    const path = join(dir, 'faulty.kubeconfig');
    await cluster.writeKubeconfig(path);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readFile(path, 'utf8')).toContain(`server: ${cluster.url}`);
    const conn = connectCluster({ kubeconfigPath: path, context: 'faulty' });
    expect(conn.server).toBe(cluster.url);
    expect(await conn.probe()).toMatchObject({ state: 'reachable', serverVersion: 'v1.32.0-canopy-simulator' });
    expect((await conn.core.listNode()).items).toHaveLength(1);
  });

  it('a ClusterConnector resolves log addresses (simulator name or kubeconfig file) to one shared connection each', async () => {
    const path = join(dir, 'connector.kubeconfig');
    await cluster.writeKubeconfig(path);
    const connector = new ClusterConnector(simulatorDirectory([cluster]));
    const bySimulator = connector.connect({ kind: 'simulator', simulator: 'faulty' });
    expect(connector.connect({ kind: 'simulator', simulator: 'faulty' })).toBe(bySimulator);
    expect(await bySimulator.probe()).toMatchObject({ state: 'reachable' });
    const byFile = connector.connect({ kind: 'kubeconfig', path, context: null });
    expect(byFile).not.toBe(bySimulator);
    expect(byFile.server).toBe(cluster.url);
    expect(() => connector.connect({ kind: 'simulator', simulator: 'nowhere' })).toThrow(expect.objectContaining({ code: 'KUBECONFIG_UNREADABLE' }) as unknown as Error);
    expect(() => connector.connect({ kind: 'kubeconfig', path, context: 'other' })).toThrow(ClusterAccessError);
  });

  it('walks through every fault: slow (in and out of the timeout), erroring, unreachable, and recovers', async () => {
    const conn = connectCluster({ kubeconfigYaml: cluster.kubeconfig.yaml });
    await cluster.setFault({ mode: 'slow', latencyMs: 300 });
    expect(await conn.probe({ timeoutMs: 100 })).toMatchObject({ state: 'unreachable', reason: 'timeout', message: 'no answer within 100 ms' });
    const slow = await conn.probe({ timeoutMs: 5000 });
    expect(slow.state).toBe('reachable');

    await cluster.setFault('erroring');
    expect(await conn.probe()).toMatchObject({ state: 'unreachable', reason: 'server-error', message: 'the API server answered HTTP 503: the simulated cluster is erroring (fault switch)' });

    await cluster.setFault('unreachable');
    expect(await conn.probe()).toMatchObject({ state: 'unreachable', reason: 'connection-refused' });
    await expect(conn.core.listNamespace()).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    await cluster.setFault('healthy');
    expect(await conn.probe()).toMatchObject({ state: 'reachable' });
    expect(cluster.fault()).toEqual({ mode: 'healthy' });
  });

  it('drops open watches when the cluster becomes unreachable', async () => {
    const conn = connectCluster({ kubeconfigYaml: cluster.kubeconfig.yaml });
    let ended: unknown;
    await conn.watch.watch('/api/v1/namespaces', {}, () => undefined, (err) => (ended = err ?? 'closed'));
    await cluster.setFault('unreachable');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(ended).toBeDefined();
    await cluster.setFault('healthy');
  });

  it('reports refused credentials as unauthorized', async () => {
    const wrong = kubeconfigYaml([{ ...cluster.kubeconfig.entry, token: 'not-the-token' }]);
    expect(await connectCluster({ kubeconfigYaml: wrong }).probe()).toMatchObject({ state: 'unauthorized', httpStatus: 401 });
    const none = kubeconfigYaml([{ ...cluster.kubeconfig.entry, token: '' }]);
    expect(await connectCluster({ kubeconfigYaml: none }).probe()).toMatchObject({ state: 'unauthorized', httpStatus: 401 });
  });

  it('reports a server certificate the kubeconfig does not trust as a TLS failure', async () => {
    const stranger = selfSignedCertificate(['127.0.0.1']).certPem;
    const yaml = kubeconfigYaml([{ ...cluster.kubeconfig.entry, caPem: stranger }]);
    expect(await connectCluster({ kubeconfigYaml: yaml }).probe()).toMatchObject({ state: 'unreachable', reason: 'tls' });
  });

  it('refuses a kubeconfig it cannot use with a stable code, without contacting anything', () => {
    const codeOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        if (error instanceof ClusterAccessError) return error.code;
        throw error;
      }
      return 'no error';
    };
    expect(codeOf(() => connectCluster({ kubeconfigPath: join(dir, 'missing') }))).toBe('KUBECONFIG_UNREADABLE');
    expect(codeOf(() => connectCluster({ kubeconfigYaml: cluster.kubeconfig.yaml, context: 'elsewhere' }))).toBe('KUBECONFIG_CONTEXT_NOT_FOUND');
  });

  it('starts the demo’s two clusters with a kubeconfig each and a combined one', async () => {
    const demo = await startDemoClusters({ directory: join(dir, 'demo'), nodes: 1 });
    try {
      expect(demo.clusters.map((c) => c.name)).toEqual(['sim-east', 'sim-west']);
      expect(demo.describe()).toEqual(demo.clusters.map((c) => `simulated cluster ${c.name} at ${c.url} — kubectl: KUBECONFIG=${join(dir, 'demo', `${c.name}.kubeconfig`)} kubectl get nodes`));
      for (const c of demo.clusters) {
        expect(await connectCluster({ kubeconfigPath: demo.kubeconfigs[c.name]! }).probe()).toMatchObject({ state: 'reachable' });
        expect(connectCluster({ kubeconfigPath: demo.combinedKubeconfig, context: c.name }).server).toBe(c.url);
      }
      expect(demo.describe().join('\n')).not.toContain(demo.clusters[0]!.token!);
    } finally {
      await demo.stop();
    }
  });

  it('writes one kubeconfig with a context per simulated cluster', async () => {
    const second = await startSimulatedCluster({ name: 'second', nodes: 1 });
    try {
      const path = join(dir, 'both.kubeconfig');
      await writeKubeconfig(path, [cluster, second]);
      for (const [context, url] of [
        ['faulty', cluster.url],
        ['second', second.url],
      ] as const) {
        const conn = connectCluster({ kubeconfigPath: path, context });
        expect(conn.server).toBe(url);
        expect((await conn.core.listNode()).items[0]?.metadata?.name).toBe(`${context}-node-1`);
      }
    } finally {
      await second.stop();
    }
  });
});
