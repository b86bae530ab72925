import { describe, expect, it } from '@jest/globals';
import type { ReadDomainEvent } from '@canopy/eventstore';
import { classify, ReconcilerFold, targetKey } from '../src/index.js';

let position = 0n;
const event = (stream: string, revision: number, type: string, data: object): ReadDomainEvent => ({
  id: `e${++position}`,
  stream,
  type,
  revision: BigInt(revision),
  position,
  data: data as ReadDomainEvent['data'],
  metadata: { schemaVersion: 1, occurredAt: '2026-01-01T00:00:00.000Z' } as ReadDomainEvent['metadata'],
  createdAt: new Date(0),
});
const sim = (simulator: string) => ({ kind: 'simulator' as const, simulator });

describe('what the reconciler folds from the log', () => {
  it('attachments, their targets, and the release that ends one; an event seen twice is folded once', () => {
    const fold = new ReconcilerFold();
    const attach = event('workspace-w', 0, 'ClusterAttached', { workspaceId: 'w', clusterId: 'c1', name: 'east', connection: sim('east') });
    expect(fold.apply(attach)).toBe('w');
    expect(fold.apply(attach)).toBeUndefined();
    fold.apply(event('workspace-w', 1, 'ClusterDetached', { workspaceId: 'w', clusterId: 'c1', name: 'east' }));
    fold.apply(event('workspace-w', 2, 'ClusterAttached', { workspaceId: 'w', clusterId: 'c2', name: 'east', connection: sim('east') }));
    const target = targetKey('w', sim('east'));
    expect([...fold.targets()]).toEqual([target]);
    expect(fold.attachmentsAt(target).map((a) => [a.clusterId, a.live, a.cause])).toEqual([
      ['c1', false, 'detached'],
      ['c2', true, undefined],
    ]);
    fold.apply(event('cluster-c1', 0, 'ClusterReleased', { workspaceId: 'w', clusterId: 'c1', cause: 'detached', deleted: 3, namespacesReleased: 1 }));
    expect(fold.attachmentsAt(target).map((a) => a.clusterId)).toEqual(['c2']);
    fold.apply(event('workspace-w', 3, 'WorkspaceClosed', { workspaceId: 'w', organizationId: 'o' }));
    expect(fold.attachment('c2')).toMatchObject({ live: false, cause: 'workspace-deleted' });
    expect(fold.workspace('w')?.closed).toBe(true);
  });

  it('the last recorded outcome per attachment; other event types on the stream only move its revision', () => {
    const fold = new ReconcilerFold();
    fold.apply(event('cluster-c1', 0, 'ClusterSyncFailed', { workspaceId: 'w', clusterId: 'c1', desiredHash: null, reason: 'unreachable', message: 'connection refused', failedObjects: 0 }));
    fold.apply(event('cluster-c1', 1, 'SomethingElse', {}));
    expect(fold.clusterStream('c1')).toMatchObject({ revision: 1n, outcome: { kind: 'failed', reason: 'unreachable' } });
    fold.apply(event('cluster-c1', 2, 'ClusterRecovered', { workspaceId: 'w', clusterId: 'c1', desiredHash: 'h', objects: 1, applied: 1, deleted: 0, after: 'unreachable' }));
    expect(fold.clusterStream('c1').outcome).toMatchObject({ kind: 'synced', desiredHash: 'h' });
  });
});

describe('failures, classified', () => {
  const api = (code: number, message: string) => Object.assign(new Error(`HTTP ${code}`), { code, body: JSON.stringify({ kind: 'Status', message }) });
  it.each([
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), 'unreachable'],
    [api(503, 'the server is unavailable'), 'unreachable'],
    [api(401, 'Unauthorized'), 'unauthorized'],
    [api(403, 'secrets is forbidden: User "bob" cannot create resource "secrets"'), 'unauthorized'],
    [api(403, 'exceeded quota: compute, requested: pods=1'), 'rejected'],
    [api(409, 'Apply failed with 1 conflict: conflict with "kubectl": .data.password'), 'conflict'],
    [api(422, 'RoleBinding.rbac.authorization.k8s.io "x" is invalid: roleRef: Invalid value'), 'rejected'],
    [Object.assign(new Error('no simulated cluster "gone" runs in this process'), { name: 'ClusterAccessError', code: 'KUBECONFIG_UNREADABLE' }), 'connection-invalid'],
  ])('%s → %s', (error, reason) => {
    expect(classify(error, 'applying Secret web/db').reason).toBe(reason);
  });

  it("names the object and quotes the server's message", () => {
    expect(classify(api(409, 'Apply failed with 1 conflict'), 'applying Secret web/db').message).toBe('applying Secret web/db: HTTP 409: Apply failed with 1 conflict');
  });
});
