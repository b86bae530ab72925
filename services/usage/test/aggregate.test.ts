import { describe, expect, it } from '@jest/globals';
import { UsageSampled } from '@canopy/schema';
import { aggregateUsage, evenShares, type ClusterSnapshot, type PodLike } from '../src/index.js';

const owner = (kind: string, name: string) => [{ kind, name, controller: true }];

function pod(namespace: string, name: string, options: { owner?: [string, string]; cpu?: string; memory?: string; gpu?: string; phase?: string; containers?: number; limitsOnly?: boolean } = {}): PodLike {
  const resources = options.limitsOnly
    ? { limits: { ...(options.cpu ? { cpu: options.cpu } : {}), ...(options.memory ? { memory: options.memory } : {}) } }
    : { requests: { ...(options.cpu ? { cpu: options.cpu } : {}), ...(options.memory ? { memory: options.memory } : {}) }, ...(options.gpu ? { limits: { 'nvidia.com/gpu': options.gpu } } : {}) };
  return {
    metadata: { namespace, name, ...(options.owner ? { ownerReferences: owner(...options.owner) } : {}) },
    spec: { nodeName: 'n1', containers: Array.from({ length: options.containers ?? 1 }, (_, i) => ({ name: `c${i}`, resources })) },
    status: { phase: options.phase ?? 'Running' },
  };
}

const metrics = (namespace: string, name: string, ...usage: [string, string][]) => ({ metadata: { namespace, name }, containers: usage.map(([cpu, memory], i) => ({ name: `c${i}`, usage: { cpu, memory } })) });

const base: ClusterSnapshot = {
  nodes: [
    { metadata: { name: 'n1' }, status: { allocatable: { cpu: '4', memory: '16Gi' } } },
    { metadata: { name: 'n2' }, status: { allocatable: { cpu: '3500m', memory: '8Gi', 'nvidia.com/gpu': '2' } } },
    { metadata: { name: 'cordoned' }, spec: { unschedulable: true }, status: { allocatable: { cpu: '8', memory: '32Gi' } } },
  ],
  pods: [],
  podMetrics: [],
  replicaSets: [
    { metadata: { namespace: 'shop', name: 'web-5d4f', ownerReferences: owner('Deployment', 'web') } },
    { metadata: { namespace: 'shop', name: 'orphan-rs' } },
  ],
  jobs: [
    { metadata: { namespace: 'shop', name: 'nightly-29000000', ownerReferences: owner('CronJob', 'nightly') } },
    { metadata: { namespace: 'shop', name: 'once' } },
  ],
};

describe('aggregating one cluster sample', () => {
  it('sums the schedulable nodes’ allocatable capacity', () => {
    expect(aggregateUsage(base, () => []).capacity).toEqual({ cpu: 7500, memory: 24 * 2 ** 30, gpus: 2 });
  });

  it('resolves pods to their workloads: Deployment via ReplicaSet, CronJob via Job, StatefulSet, DaemonSet, bare pods, custom controllers', () => {
    const snapshot: ClusterSnapshot = {
      ...base,
      pods: [
        pod('shop', 'web-5d4f-a', { owner: ['ReplicaSet', 'web-5d4f'] }),
        pod('shop', 'web-5d4f-b', { owner: ['ReplicaSet', 'web-5d4f'] }),
        pod('shop', 'orphan-rs-x', { owner: ['ReplicaSet', 'orphan-rs'] }),
        pod('shop', 'nightly-29000000-q', { owner: ['Job', 'nightly-29000000'] }),
        pod('shop', 'once-z', { owner: ['Job', 'once'] }),
        pod('shop', 'db-0', { owner: ['StatefulSet', 'db'] }),
        pod('shop', 'agent-k', { owner: ['DaemonSet', 'agent'] }),
        pod('shop', 'debug'),
        pod('shop', 'pg-1', { owner: ['Cluster', 'pg'] }),
      ],
    };
    const rows = aggregateUsage(snapshot, () => ['w1']).rows;
    expect(rows.map((r) => `${r.kind}/${r.name}:${r.pods}`)).toEqual([
      'Cluster/pg:1',
      'CronJob/nightly:1',
      'DaemonSet/agent:1',
      'Deployment/web:2',
      'Job/once:1',
      'Pod/debug:1',
      'ReplicaSet/orphan-rs:1',
      'StatefulSet/db:1',
    ]);
  });

  it('sums usage and requests over a workload’s running pods and containers, in millicores and bytes; a pod without metrics counts its requests only', () => {
    const snapshot: ClusterSnapshot = {
      ...base,
      pods: [
        pod('shop', 'web-5d4f-a', { owner: ['ReplicaSet', 'web-5d4f'], cpu: '250m', memory: '128Mi', containers: 2 }),
        pod('shop', 'web-5d4f-b', { owner: ['ReplicaSet', 'web-5d4f'], cpu: '250m', memory: '128Mi', containers: 2 }),
        pod('shop', 'web-5d4f-new', { owner: ['ReplicaSet', 'web-5d4f'], cpu: '250m', memory: '128Mi', containers: 2 }),
        pod('shop', 'web-5d4f-pending', { owner: ['ReplicaSet', 'web-5d4f'], cpu: '250m', memory: '128Mi', phase: 'Pending' }),
        pod('shop', 'web-5d4f-done', { owner: ['ReplicaSet', 'web-5d4f'], cpu: '250m', memory: '128Mi', phase: 'Succeeded' }),
        pod('shop', 'train', { cpu: '2', memory: '1Gi', gpu: '1' }),
        pod('shop', 'limited', { cpu: '1500m', memory: '1G', limitsOnly: true }),
      ],
      podMetrics: [
        metrics('shop', 'web-5d4f-a', ['100000000n', '65536Ki'], ['50400000n', '1Mi']),
        metrics('shop', 'web-5d4f-b', ['200m', '100Mi'], ['0', '0']),
        metrics('shop', 'train', ['2500m', '512Mi']),
        metrics('shop', 'gone', ['1', '1Gi']),
      ],
    };
    const rows = aggregateUsage(snapshot, () => ['w1']).rows;
    expect(rows).toEqual([
      { workspaceId: 'w1', namespace: 'shop', kind: 'Deployment', name: 'web', pods: 3, cpuUsage: 350, cpuRequest: 1500, memoryUsage: (64 + 1 + 100) * 2 ** 20, memoryRequest: 6 * 128 * 2 ** 20, gpus: 0 },
      { workspaceId: 'w1', namespace: 'shop', kind: 'Pod', name: 'limited', pods: 1, cpuUsage: 0, cpuRequest: 1500, memoryUsage: 0, memoryRequest: 1e9, gpus: 0 },
      { workspaceId: 'w1', namespace: 'shop', kind: 'Pod', name: 'train', pods: 1, cpuUsage: 2500, cpuRequest: 2000, memoryUsage: 512 * 2 ** 20, memoryRequest: 2 ** 30, gpus: 1 },
    ]);
  });

  it('maps namespaces to workspaces: none → null (charged to no one), several → the quantities shared evenly, summing exactly', () => {
    const snapshot: ClusterSnapshot = {
      ...base,
      pods: [pod('kube-system', 'coredns', { owner: ['ReplicaSet', 'coredns-1'], cpu: '100m', memory: '70Mi' }), pod('shared', 'api', { cpu: '1001m', memory: '3' })],
      podMetrics: [metrics('shared', 'api', ['333m', '7'])],
    };
    const holders: Record<string, string[]> = { shared: ['w2', 'w1', 'w3'] };
    const { rows } = aggregateUsage(snapshot, (namespace) => holders[namespace] ?? []);
    expect(rows.map((r) => [r.workspaceId, r.namespace, r.name, r.pods, r.cpuRequest, r.cpuUsage, r.memoryRequest, r.memoryUsage])).toEqual([
      [null, 'kube-system', 'coredns-1', 1, 100, 0, 70 * 2 ** 20, 0],
      ['w1', 'shared', 'api', 1, 334, 111, 1, 3],
      ['w2', 'shared', 'api', 1, 334, 111, 1, 2],
      ['w3', 'shared', 'api', 1, 333, 111, 1, 2],
    ]);
    expect(evenShares(10, 4)).toEqual([3, 3, 2, 2]);
  });

  it('makes a payload the UsageSampled contract accepts', () => {
    const snapshot: ClusterSnapshot = { ...base, pods: [pod('shop', 'web-5d4f-a', { owner: ['ReplicaSet', 'web-5d4f'], cpu: '100m', memory: '64Mi' })], podMetrics: [metrics('shop', 'web-5d4f-a', ['12345678n', '2048Ki'])] };
    const { capacity, rows } = aggregateUsage(snapshot, () => ['w1']);
    expect(() => UsageSampled.payload.parse({ clusterId: 'c1', start: '2026-03-01T10:00:00Z', end: '2026-03-01T10:01:00Z', capacity, rows })).not.toThrow();
  });
});
