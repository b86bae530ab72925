import { describe, expect, it } from '@jest/globals';
import { evolveWorkspace, initialWorkspaceState, type WorkspaceEvent, type WorkspaceState } from '@canopy/workspaces';
import { desiredHash, desiredObjects, objectKey, objectNames, workspaceIdentity, type KubeObject, type OpenedSecret } from '../src/index.js';

const W = 'ws-1';
const id = workspaceIdentity(W);
const fold = (events: WorkspaceEvent[]): WorkspaceState => events.reduce((state, event) => evolveWorkspace(state, event), initialWorkspaceState);
const ns = (namespace: string): WorkspaceEvent => ({ type: 'NamespaceAdded', data: { workspaceId: W, namespace } });
const attached = (clusterId: string): WorkspaceEvent => ({ type: 'ClusterAttached', data: { workspaceId: W, clusterId, name: clusterId, connection: { kind: 'simulator', simulator: clusterId } } });
const quota = (namespace: string, clusterId: string | null, cpu: number | 'unlimited', memory: number | 'unlimited'): WorkspaceEvent => ({
  type: 'NamespaceQuotaSet',
  data: { workspaceId: W, namespace, clusterId, cpu, memory },
});
const desired = (state: WorkspaceState, clusterId = 'east', clusterNamespaces: string[] = [], secrets = new Map<string, OpenedSecret>()) =>
  desiredObjects({ identity: id, clusterId, state, clusterNamespaces, secrets });
const ofKind = (objects: KubeObject[], kind: string) => objects.filter((o) => o.kind === kind);
const GI = 2 ** 30;

describe('desired objects of a workspace on one cluster', () => {
  const base = [attached('east'), attached('west'), ns('web'), ns('db')];

  it('a namespace per workspace namespace, every object labelled as Canopy’s and the workspace’s', () => {
    const objects = desired(fold(base));
    expect(objects.map(objectKey)).toEqual(['v1/Namespace//db', 'v1/Namespace//web']);
    for (const obj of objects) expect(obj.metadata.labels).toEqual({ 'app.kubernetes.io/managed-by': 'canopy', 'canopy.dev/workspace': W });
  });

  it("quotas: the cluster's override beats the namespace's quota; unlimited resources are left out; all-unlimited gives no ResourceQuota", () => {
    const state = fold([...base, quota('web', null, 2000, 4 * GI), quota('web', 'west', 1500, 2 * GI), quota('db', null, 'unlimited', GI), ns('tmp'), quota('tmp', null, 'unlimited', 'unlimited')]);
    const hard = (clusterId: string) => Object.fromEntries(ofKind(desired(state, clusterId), 'ResourceQuota').map((q) => [q.metadata.namespace, (q['spec'] as { hard: object }).hard]));
    expect(hard('east')).toEqual({ web: { 'requests.cpu': '2', 'requests.memory': '4Gi' }, db: { 'requests.memory': '1Gi' } });
    expect(hard('west')).toEqual({ web: { 'requests.cpu': '1500m', 'requests.memory': '2Gi' }, db: { 'requests.memory': '1Gi' } });
    expect(ofKind(desired(state), 'ResourceQuota')[0]!.metadata.name).toBe(objectNames.quota(id));
  });

  it("role bindings: named namespaces, and patterns matched against the workspace's and the cluster's namespaces, exclusions applied", () => {
    const state = fold([
      ...base,
      {
        type: 'RoleBindingAdded',
        data: { workspaceId: W, name: 'devs', namespaces: ['web', '/^team-/', '~/^team-secret$/'], role: { kind: 'Role', name: 'deployer' }, subjects: [{ kind: 'ServiceAccount', name: 'ci', namespace: 'ci' }] },
      },
    ]);
    const bindings = ofKind(desired(state, 'east', ['default', 'team-a', 'team-secret', 'web']), 'RoleBinding');
    expect(bindings.map((b) => b.metadata.namespace)).toEqual(['team-a', 'web']);
    expect(bindings[0]).toMatchObject({
      metadata: { name: objectNames.roleBinding(id, 'devs') },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'deployer' },
      subjects: [{ kind: 'ServiceAccount', name: 'ci', namespace: 'ci' }],
    });
  });

  it('image restrictions: one policy with a validation per restricted namespace, and a binding selecting exactly those namespaces', () => {
    const restrict = (namespace: string, image: string): WorkspaceEvent => ({ type: 'ImageRestricted', data: { workspaceId: W, namespace, image } });
    const objects = desired(fold([...base, restrict('web', 'docker.io/library/nginx:*'), restrict('web', 'redis:7'), restrict('db', 'busybox:*')]));
    const [policy, binding] = [ofKind(objects, 'ValidatingAdmissionPolicy')[0]!, ofKind(objects, 'ValidatingAdmissionPolicyBinding')[0]!];
    const validations = (policy['spec'] as { validations: { expression: string }[] }).validations.map((v) => v.expression);
    expect(validations).toEqual([
      'request.namespace != "db" || !variables.images.exists(i, i.startsWith("busybox:"))',
      'request.namespace != "web" || !variables.images.exists(i, i.startsWith("docker.io/library/nginx:") || i == "redis:7")',
    ]);
    expect(binding['spec']).toEqual({
      policyName: objectNames.imagePolicy(id),
      validationActions: ['Deny'],
      matchResources: { namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['db', 'web'] }] } },
    });
    expect(ofKind(desired(fold(base)), 'ValidatingAdmissionPolicy')).toEqual([]);
  });

  it('secrets: an Opaque Secret of the same name in every workspace namespace; the hash moves with the version, not with a value', () => {
    const state = fold(base);
    const secrets = (version: number, password: string) => new Map([['db-credentials', { version, values: { password } }]]);
    const objects = desired(state, 'east', [], secrets(1, 'hunter2'));
    const made = ofKind(objects, 'Secret');
    expect(made.map((s) => s.metadata.namespace)).toEqual(['db', 'web']);
    expect(made[0]).toMatchObject({ type: 'Opaque', data: { password: Buffer.from('hunter2').toString('base64') }, metadata: { name: 'db-credentials', annotations: { 'canopy.dev/secret-version': '1' } } });
    expect(desiredHash(objects)).toBe(desiredHash(desired(state, 'east', [], secrets(1, 'other'))));
    expect(desiredHash(objects)).not.toBe(desiredHash(desired(state, 'east', [], secrets(2, 'hunter2'))));
  });

  it('names keep workspaces apart and stay stable; an id that is no label value is labelled by its digest', () => {
    const other = workspaceIdentity('ws-2');
    expect(objectNames.quota(id)).not.toBe(objectNames.quota(other));
    expect(workspaceIdentity(W)).toEqual(id);
    expect(id.fieldManager).toMatch(/^canopy-[0-9a-f]{10}$/);
    expect(workspaceIdentity('not a label/value').label).toMatch(/^sha256-[0-9a-f]{40}$/);
  });
});
