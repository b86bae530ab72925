import { describe, expect, it } from '@jest/globals';
import { ErrorCode, type ClusterConnection, type WorkspaceRole } from '@canopy/schema';
import {
  effectiveQuota,
  initialWorkspaceState,
  UNLIMITED,
  type SealedValue,
  type WorkspaceCommand,
  type WorkspaceEvent,
} from '../src/index.js';
import { actors, as, given, team, W } from './workspace-fixtures.js';

const owner = actors.owner;

const GiB = 2 ** 30;
const MiB = 2 ** 20;
const simulator = (name: string): ClusterConnection => ({ kind: 'simulator', simulator: name });
const kubeconfig = (path: string, context: string | null): ClusterConnection => ({ kind: 'kubeconfig', path, context });
const attached = (clusterId: string, name: string, connection: ClusterConnection = simulator(name)): WorkspaceEvent => ({
  type: 'ClusterAttached',
  data: { workspaceId: W, clusterId, name, connection },
});
const detached = (clusterId: string, name: string): WorkspaceEvent => ({ type: 'ClusterDetached', data: { workspaceId: W, clusterId, name } });
const nsAdded = (namespace: string): WorkspaceEvent => ({ type: 'NamespaceAdded', data: { workspaceId: W, namespace } });
const nsRemoved = (namespace: string): WorkspaceEvent => ({ type: 'NamespaceRemoved', data: { workspaceId: W, namespace } });
const budgetSet = (cpu: number | 'unlimited', memory: number | 'unlimited'): WorkspaceEvent => ({ type: 'WorkspaceBudgetSet', data: { workspaceId: W, cpu, memory } });
const quotaSet = (namespace: string, clusterId: string | null, cpu: number | 'unlimited', memory: number | 'unlimited'): WorkspaceEvent => ({
  type: 'NamespaceQuotaSet',
  data: { workspaceId: W, namespace, clusterId, cpu, memory },
});
const quotaRemoved = (namespace: string, clusterId: string | null): WorkspaceEvent => ({ type: 'NamespaceQuotaRemoved', data: { workspaceId: W, namespace, clusterId } });
const carolUser = { kind: 'User' as const, name: 'carol', namespace: null };
const bindingAdded = (name: string, namespaces: string[]): WorkspaceEvent => ({
  type: 'RoleBindingAdded',
  data: { workspaceId: W, name, namespaces, role: { kind: 'ClusterRole', name: 'edit' }, subjects: [carolUser] },
});
const clusterBindingAdded = (name: string, clusterRole: string): WorkspaceEvent => ({
  type: 'ClusterRoleBindingAdded',
  data: { workspaceId: W, name, clusterRole, subjects: [carolUser] },
});
const restricted = (namespace: string, image: string): WorkspaceEvent => ({ type: 'ImageRestricted', data: { workspaceId: W, namespace, image } });
const sealed: SealedValue = { alg: 'A256GCM', iv: 'aXYxMjM0NTY3ODkw', ciphertext: 'Y2lwaGVydGV4dA==', tag: 'dGFnMTIzNDU2Nzg5MDEy' };
const secretWritten = (name: string, version: number): WorkspaceEvent => ({
  type: 'SecretWritten',
  data: { workspaceId: W, name, version, values: { password: sealed }, writtenBy: 'bob' },
});
const closed: WorkspaceEvent = { type: 'WorkspaceClosed', data: { workspaceId: W, organizationId: 'org-1' } };

/**
 * A governed workspace: cluster c1 "east", namespaces web and api, a quota on
 * web, role binding api-devs naming api, cluster role binding auditors, nginx
 * restricted in web and secret db at version 1.
 */
const governed: WorkspaceEvent[] = [
  ...team,
  attached('c1', 'east'),
  nsAdded('web'),
  nsAdded('api'),
  quotaSet('web', null, 1000, GiB),
  bindingAdded('api-devs', ['api']),
  clusterBindingAdded('auditors', 'view'),
  restricted('web', 'docker.io/library/nginx:*'),
  secretWritten('db', 1),
];

type Role = keyof typeof actors;
type Outcome = 'ok' | typeof ErrorCode.FORBIDDEN;
const FORBIDDEN = ErrorCode.FORBIDDEN;
const memberAndUp: Record<Role, Outcome> = { viewer: FORBIDDEN, member: 'ok', admin: 'ok', owner: 'ok' };
const adminAndUp: Record<Role, Outcome> = { viewer: FORBIDDEN, member: FORBIDDEN, admin: 'ok', owner: 'ok' };
const ownerOnly: Record<Role, Outcome> = { viewer: FORBIDDEN, member: FORBIDDEN, admin: FORBIDDEN, owner: 'ok' };

/** Every governance command, a history under which it succeeds, the event it then records and who may send it. */
const matrix: [WorkspaceCommand, WorkspaceEvent[], WorkspaceEvent['type'], Record<Role, Outcome>][] = [
  [{ type: 'AttachCluster', clusterId: 'c2', name: 'west', connection: simulator('west') }, governed, 'ClusterAttached', memberAndUp],
  [{ type: 'DetachCluster', clusterId: 'c1' }, governed, 'ClusterDetached', memberAndUp],
  [{ type: 'AddNamespace', namespace: 'jobs' }, governed, 'NamespaceAdded', memberAndUp],
  [{ type: 'RemoveNamespace', namespace: 'web' }, governed, 'NamespaceRemoved', memberAndUp],
  [{ type: 'SetWorkspaceBudget', cpu: '8', memory: '16Gi' }, governed, 'WorkspaceBudgetSet', adminAndUp],
  [{ type: 'SetNamespaceQuota', namespace: 'api', clusterId: null, cpu: '1', memory: '1Gi' }, governed, 'NamespaceQuotaSet', adminAndUp],
  [{ type: 'RemoveNamespaceQuota', namespace: 'web', clusterId: null }, governed, 'NamespaceQuotaRemoved', adminAndUp],
  [
    { type: 'AddRoleBinding', name: 'web-devs', namespaces: ['web'], role: { kind: 'ClusterRole', name: 'edit' }, subjects: [carolUser] },
    governed,
    'RoleBindingAdded',
    adminAndUp,
  ],
  [{ type: 'RemoveRoleBinding', name: 'api-devs' }, governed, 'RoleBindingRemoved', adminAndUp],
  [{ type: 'AddClusterRoleBinding', name: 'viewers', clusterRole: 'view', subjects: [carolUser] }, governed, 'ClusterRoleBindingAdded', adminAndUp],
  [{ type: 'RemoveClusterRoleBinding', name: 'auditors' }, governed, 'ClusterRoleBindingRemoved', adminAndUp],
  [{ type: 'RestrictImage', namespace: 'web', image: 'docker.io/library/redis:*' }, governed, 'ImageRestricted', adminAndUp],
  [{ type: 'LiftImageRestriction', namespace: 'web', image: 'docker.io/library/nginx:*' }, governed, 'ImageRestrictionLifted', adminAndUp],
  [{ type: 'WriteSecret', name: 'api-key', version: 1, values: { token: sealed } }, governed, 'SecretWritten', adminAndUp],
  [{ type: 'DeleteSecret', name: 'db' }, governed, 'SecretDeleted', adminAndUp],
  // A workspace with clusters cannot be closed, so this one has none.
  [{ type: 'CloseWorkspace', organizationId: 'org-1' }, team, 'WorkspaceClosed', ownerOnly],
];

describe('governance: who may do what', () => {
  const rows = matrix.flatMap(([command, history, eventType, outcomes]) =>
    (Object.keys(outcomes) as Role[]).map((role) => [command.type, role, command, history, eventType, outcomes[role]] as const),
  );

  it.each(rows)('%s as %s', (_label, role, command, history, eventType, outcome) => {
    const attempt = given(actors[role])(history).when(command);
    if (outcome === 'ok') expect(attempt.events().map((event) => event.type)).toEqual([eventType]);
    else attempt.thenFails(outcome, { role, required: outcomes(command.type) });
  });

  it.each(matrix.map(([command, history]) => [command.type, command, history] as const))('%s by a caller with no role is NOT_FOUND', (_label, command, history) => {
    given(as('eve', undefined))(history).when(command).thenFails(ErrorCode.NOT_FOUND, { workspaceId: W });
  });

  function outcomes(type: WorkspaceCommand['type']): WorkspaceRole {
    const row = matrix.find(([command]) => command.type === type)!;
    return (['viewer', 'member', 'admin', 'owner'] as const).find((role) => row[3][role] === 'ok')!;
  }
});

describe('a closed workspace', () => {
  const everyCommand: WorkspaceCommand[] = [
    ...matrix.map(([command]) => command),
    { type: 'DescribeWorkspace', description: 'Storefront' },
    { type: 'AddMember', userId: 'erin', role: 'viewer' },
    { type: 'ChangeMemberRole', userId: 'carol', role: 'admin' },
    { type: 'RemoveMember', userId: 'dan' },
  ];

  it.each(everyCommand.map((command) => [command.type, command] as const))('refuses %s with NOT_FOUND, even to its owner', (_label, command) => {
    // The history that made each command succeed, then the close.
    given(owner)([...governed, closed]).when(command).thenFails(ErrorCode.NOT_FOUND, { workspaceId: W });
    given(owner)([...team, closed]).when(command).thenFails(ErrorCode.NOT_FOUND, { workspaceId: W });
  });

  it('is closed only once its clusters are detached', () => {
    given(owner)([...team, attached('c1', 'east')])
      .when({ type: 'CloseWorkspace', organizationId: 'org-1' })
      .thenFails(ErrorCode.WORKSPACE_NOT_EMPTY, { workspaceId: W, clusters: 1 });
    given(owner)([...team, attached('c1', 'east'), detached('c1', 'east')])
      .when({ type: 'CloseWorkspace', organizationId: 'org-1' })
      .then([closed]);
  });
});

describe('clusters', () => {
  it('attaches a cluster by simulator or kubeconfig', () => {
    given(actors.member)(team).when({ type: 'AttachCluster', clusterId: 'c1', name: 'east', connection: simulator('east') }).then([attached('c1', 'east')]);
    given(actors.member)(team)
      .when({ type: 'AttachCluster', clusterId: 'c1', name: 'prod', connection: kubeconfig('/etc/kube/config', 'prod-admin') })
      .then([attached('c1', 'prod', kubeconfig('/etc/kube/config', 'prod-admin'))]);
    const { state } = given(owner)([...team, attached('c1', 'prod', kubeconfig('/etc/kube/config', null))]);
    expect(state.clusters.get('c1')).toEqual({ name: 'prod', connection: kubeconfig('/etc/kube/config', null) });
  });

  it.each(['East', 'east_1', '', '-east', 'east-', 'e'.repeat(64), 'east.1'])('refuses the cluster name %j with BAD_USER_INPUT', (name) => {
    given(owner)(team).when({ type: 'AttachCluster', clusterId: 'c1', name, connection: simulator('east') }).thenFails(ErrorCode.BAD_USER_INPUT, { field: 'name' });
  });

  it('accepts a cluster name of 63 characters', () => {
    const name = 'e'.repeat(63);
    given(owner)(team).when({ type: 'AttachCluster', clusterId: 'c1', name, connection: simulator('east') }).then([attached('c1', name, simulator('east'))]);
  });

  it.each([
    ['an unknown kind', { kind: 'gke', project: 'x' }],
    ['an empty kubeconfig path', { kind: 'kubeconfig', path: '', context: null }],
    ['a kubeconfig without its context field', { kind: 'kubeconfig', path: '/etc/kube/config' }],
    ['an empty context', { kind: 'kubeconfig', path: '/etc/kube/config', context: '' }],
    ['an oversized path', { kind: 'kubeconfig', path: '/'.repeat(1025), context: null }],
    ['a simulator that is not a Kubernetes name', { kind: 'simulator', simulator: 'East Coast' }],
    ['null', null],
    ['a string', 'kubeconfig'],
  ])('refuses %s as a connection with BAD_USER_INPUT', (_label, connection) => {
    given(owner)(team).when({ type: 'AttachCluster', clusterId: 'c1', name: 'east', connection }).thenFails(ErrorCode.BAD_USER_INPUT, { field: 'connection' });
  });

  it('refuses a second cluster of the same name with NAME_TAKEN', () => {
    given(owner)([...team, attached('c1', 'east')])
      .when({ type: 'AttachCluster', clusterId: 'c2', name: 'east', connection: simulator('other') })
      .thenFails(ErrorCode.NAME_TAKEN, { field: 'name', clusterId: 'c1' });
  });

  it('refuses the same connection twice with CONFLICT, under another name', () => {
    const config = kubeconfig('/etc/kube/config', 'prod');
    given(owner)([...team, attached('c1', 'prod', config)])
      .when({ type: 'AttachCluster', clusterId: 'c2', name: 'prod-again', connection: kubeconfig('/etc/kube/config', 'prod') })
      .thenFails(ErrorCode.CONFLICT, { field: 'connection', clusterId: 'c1' });
    given(owner)([...team, attached('c1', 'default', kubeconfig('/etc/kube/config', null))])
      .when({ type: 'AttachCluster', clusterId: 'c2', name: 'again', connection: kubeconfig('/etc/kube/config', null) })
      .thenFails(ErrorCode.CONFLICT, { field: 'connection', clusterId: 'c1' });
    given(owner)([...team, attached('c1', 'east', simulator('east'))])
      .when({ type: 'AttachCluster', clusterId: 'c2', name: 'west', connection: simulator('east') })
      .thenFails(ErrorCode.CONFLICT, { field: 'connection', clusterId: 'c1' });
  });

  it('another context of the same kubeconfig, or another file, is another cluster', () => {
    const history = [...team, attached('c1', 'prod', kubeconfig('/etc/kube/config', 'prod'))];
    given(owner)(history)
      .when({ type: 'AttachCluster', clusterId: 'c2', name: 'stage', connection: kubeconfig('/etc/kube/config', 'stage') })
      .then([attached('c2', 'stage', kubeconfig('/etc/kube/config', 'stage'))]);
    given(owner)(history)
      .when({ type: 'AttachCluster', clusterId: 'c2', name: 'prod2', connection: kubeconfig('/etc/kube/other', 'prod') })
      .then([attached('c2', 'prod2', kubeconfig('/etc/kube/other', 'prod'))]);
    given(owner)(history)
      .when({ type: 'AttachCluster', clusterId: 'c2', name: 'sim', connection: simulator('prod') })
      .then([attached('c2', 'sim', simulator('prod'))]);
  });

  it('refuses a cluster id that is already attached with CONFLICT', () => {
    given(owner)([...team, attached('c1', 'east')])
      .when({ type: 'AttachCluster', clusterId: 'c1', name: 'west', connection: simulator('west') })
      .thenFails(ErrorCode.CONFLICT, { field: 'clusterId', clusterId: 'c1' });
  });

  it('detaches a cluster, recording its name; an unknown one is NOT_FOUND', () => {
    given(actors.member)([...team, attached('c1', 'east')]).when({ type: 'DetachCluster', clusterId: 'c1' }).then([detached('c1', 'east')]);
    given(owner)([...team, attached('c1', 'east')]).when({ type: 'DetachCluster', clusterId: 'c9' }).thenFails(ErrorCode.NOT_FOUND, { field: 'clusterId' });
    given(owner)([...team, attached('c1', 'east'), detached('c1', 'east')]).when({ type: 'DetachCluster', clusterId: 'c1' }).thenFails(ErrorCode.NOT_FOUND, { field: 'clusterId' });
  });

  it("detaching drops that cluster's quota overrides, and quota entries left empty", () => {
    const history = [
      ...team,
      attached('c1', 'east'),
      attached('c2', 'west'),
      nsAdded('web'),
      nsAdded('api'),
      quotaSet('web', null, 2000, 4 * GiB),
      quotaSet('web', 'c1', 1000, 2 * GiB),
      quotaSet('web', 'c2', 500, GiB),
      quotaSet('api', 'c1', 3000, GiB),
    ];
    const { state } = given(owner)([...history, detached('c1', 'east')]);
    expect([...state.clusters.keys()]).toEqual(['c2']);
    expect(state.quotas.get('web')).toEqual({ default: { cpu: 2000, memory: 4 * GiB }, overrides: new Map([['c2', { cpu: 500, memory: GiB }]]) });
    expect(state.quotas.has('api')).toBe(false);
    // Attaching it again does not bring the override back: the default holds there.
    const again = given(owner)([...history, detached('c1', 'east'), attached('c1', 'east')]).state;
    expect(effectiveQuota(again.quotas.get('web'), 'c1')).toEqual({ cpu: 2000, memory: 4 * GiB });
    expect(effectiveQuota(again.quotas.get('api'), 'c1')).toBeUndefined();
  });
});

describe('namespaces', () => {
  it('adds a namespace; adding it again changes nothing', () => {
    given(actors.member)(team).when({ type: 'AddNamespace', namespace: 'web' }).then([nsAdded('web')]);
    given(actors.member)([...team, nsAdded('web')]).when({ type: 'AddNamespace', namespace: 'web' }).then([]);
    expect([...given(owner)([...team, nsAdded('web'), nsAdded('api')]).state.namespaces]).toEqual(['web', 'api']);
  });

  it('accepts a namespace name of 63 characters', () => {
    given(owner)(team).when({ type: 'AddNamespace', namespace: 'n'.repeat(63) }).then([nsAdded('n'.repeat(63))]);
  });

  it.each(['Web', 'n'.repeat(64), '', '-web', 'web-', 'we b', 'web.api', 'web_api'])('refuses the namespace name %j with BAD_USER_INPUT', (namespace) => {
    given(owner)(team).when({ type: 'AddNamespace', namespace }).thenFails(ErrorCode.BAD_USER_INPUT, { field: 'namespace' });
  });

  it('removes a namespace; an unknown one is NOT_FOUND', () => {
    given(actors.member)([...team, nsAdded('web')]).when({ type: 'RemoveNamespace', namespace: 'web' }).then([nsRemoved('web')]);
    given(owner)([...team, nsAdded('web')]).when({ type: 'RemoveNamespace', namespace: 'api' }).thenFails(ErrorCode.NOT_FOUND, { field: 'namespace' });
    given(owner)([...team, nsAdded('web'), nsRemoved('web')]).when({ type: 'RemoveNamespace', namespace: 'web' }).thenFails(ErrorCode.NOT_FOUND, { field: 'namespace' });
  });

  it('refuses to remove a namespace a role binding names, with CONFLICT naming the binding', () => {
    given(owner)(governed).when({ type: 'RemoveNamespace', namespace: 'api' }).thenFails(ErrorCode.CONFLICT, { field: 'namespace', roleBinding: 'api-devs' });
    const bindingGone: WorkspaceEvent = { type: 'RoleBindingRemoved', data: { workspaceId: W, name: 'api-devs' } };
    given(owner)([...governed, bindingGone]).when({ type: 'RemoveNamespace', namespace: 'api' }).then([nsRemoved('api')]);
  });

  it('a binding that only matches a namespace by pattern does not hold it', () => {
    given(owner)([...team, nsAdded('team-a'), bindingAdded('teams', ['/^team-/'])])
      .when({ type: 'RemoveNamespace', namespace: 'team-a' })
      .then([nsRemoved('team-a')]);
  });

  it('removing a namespace ends its quotas and image restrictions; adding it again starts clean', () => {
    const history = [
      ...team,
      attached('c1', 'east'),
      nsAdded('web'),
      nsAdded('api'),
      quotaSet('web', null, 1000, GiB),
      quotaSet('web', 'c1', 500, GiB),
      quotaSet('api', null, 1000, GiB),
      restricted('web', 'nginx'),
      restricted('api', 'redis'),
    ];
    const { state } = given(owner)([...history, nsRemoved('web')]);
    expect([...state.namespaces]).toEqual(['api']);
    expect([...state.quotas.keys()]).toEqual(['api']);
    expect([...state.restrictedImages.keys()]).toEqual(['api']);

    const readded = [...history, nsRemoved('web'), nsAdded('web')];
    given(owner)(readded).when({ type: 'RemoveNamespaceQuota', namespace: 'web', clusterId: null }).thenFails(ErrorCode.NOT_FOUND);
    given(owner)(readded).when({ type: 'RemoveNamespaceQuota', namespace: 'web', clusterId: 'c1' }).thenFails(ErrorCode.NOT_FOUND);
    given(owner)(readded).when({ type: 'LiftImageRestriction', namespace: 'web', image: 'nginx' }).thenFails(ErrorCode.NOT_FOUND, { field: 'image' });
  });
});

describe('budget and quotas: quantities', () => {
  it('a new workspace has an unlimited budget, said explicitly', () => {
    expect(initialWorkspaceState.budget).toEqual({ cpu: 'unlimited', memory: 'unlimited' });
    expect(UNLIMITED).toEqual({ cpu: 'unlimited', memory: 'unlimited' });
    given(owner)(team).when({ type: 'SetWorkspaceBudget', cpu: 'unlimited', memory: 'unlimited' }).then([]);
  });

  it.each([
    ['500m', '512Mi', 500, 512 * MiB],
    ['2', '4Gi', 2000, 4 * GiB],
    ['1.5', '1G', 1500, 1e9],
    ['0.25', '1.5Ki', 250, 1536],
    ['unlimited', '8Gi', 'unlimited', 8 * GiB],
    ['4', 'unlimited', 4000, 'unlimited'],
    [' 2 ', ' 1Gi ', 2000, GiB],
    ['100000', '1Pi', 100_000_000, 2 ** 50],
  ] as const)('sets the budget cpu %j memory %j as %j millicores and %j bytes', (cpu, memory, millicores, bytes) => {
    given(actors.admin)(team).when({ type: 'SetWorkspaceBudget', cpu, memory }).then([budgetSet(millicores, bytes)]);
  });

  it('setting the same budget again changes nothing, however it is written', () => {
    const history = [...team, budgetSet(4000, 8 * GiB)];
    given(owner)(history).when({ type: 'SetWorkspaceBudget', cpu: '4000m', memory: '8192Mi' }).then([]);
    given(owner)(history).when({ type: 'SetWorkspaceBudget', cpu: 'unlimited', memory: '8Gi' }).then([budgetSet('unlimited', 8 * GiB)]);
    expect(given(owner)(history).state.budget).toEqual({ cpu: 4000, memory: 8 * GiB });
  });

  const badCpu = ['-1', 'abc', '1e3', '', '   ', '200000', '100000.001', '0.0001', '1.5m', 'Unlimited', '1,5', '2 cores'];
  const badMemory = ['-1', 'abc', '1e3', '', '1.1Ki', '1.5', '2Pi', '1K', '1m', '1GB', '1 Gi', 'Unlimited'];

  it.each(badCpu)('refuses the CPU quantity %j with BAD_USER_INPUT naming cpu', (cpu) => {
    given(owner)(team).when({ type: 'SetWorkspaceBudget', cpu, memory: '1Gi' }).thenFails(ErrorCode.BAD_USER_INPUT, { field: 'cpu' });
    given(owner)([...team, nsAdded('web')]).when({ type: 'SetNamespaceQuota', namespace: 'web', clusterId: null, cpu, memory: '1Gi' }).thenFails(ErrorCode.BAD_USER_INPUT, { field: 'cpu' });
  });

  it.each(badMemory)('refuses the memory quantity %j with BAD_USER_INPUT naming memory', (memory) => {
    given(owner)(team).when({ type: 'SetWorkspaceBudget', cpu: '1', memory }).thenFails(ErrorCode.BAD_USER_INPUT, { field: 'memory' });
    given(owner)([...team, nsAdded('web')]).when({ type: 'SetNamespaceQuota', namespace: 'web', clusterId: null, cpu: '1', memory }).thenFails(ErrorCode.BAD_USER_INPUT, { field: 'memory' });
  });
});

describe('budget and quotas: the sum over namespaces × clusters', () => {
  // Budget 4 cores, two clusters, two namespaces.
  const twoClusters = [...team, budgetSet(4000, 'unlimited'), attached('c1', 'east'), attached('c2', 'west'), nsAdded('web'), nsAdded('api')];
  const webTwoCores = [...twoClusters, quotaSet('web', null, 2000, GiB)];

  it('a quota of 2 cores on two clusters fills a budget of 4', () => {
    given(actors.admin)(twoClusters).when({ type: 'SetNamespaceQuota', namespace: 'web', clusterId: null, cpu: '2', memory: '1Gi' }).then([quotaSet('web', null, 2000, GiB)]);
    expect(given(owner)(webTwoCores).state.quotas.get('web')).toEqual({ default: { cpu: 2000, memory: GiB }, overrides: new Map() });
  });

  it('one core more for a second namespace exceeds it', () => {
    given(owner)(webTwoCores)
      .when({ type: 'SetNamespaceQuota', namespace: 'api', clusterId: null, cpu: '1', memory: '1Gi' })
      .thenFails(ErrorCode.QUOTA_EXCEEDS_BUDGET, { resource: 'cpu', total: '6', budget: '4' });
    given(owner)(webTwoCores)
      .when({ type: 'SetNamespaceQuota', namespace: 'api', clusterId: 'c1', cpu: '1m', memory: '1Gi' })
      .thenFails(ErrorCode.QUOTA_EXCEEDS_BUDGET, { resource: 'cpu', total: '4001m', budget: '4' });
  });

  it("a per-cluster override counts instead of the default on that cluster", () => {
    given(owner)(webTwoCores).when({ type: 'SetNamespaceQuota', namespace: 'web', clusterId: 'c2', cpu: '1', memory: '1Gi' }).then([quotaSet('web', 'c2', 1000, GiB)]);
    const overridden = [...webTwoCores, quotaSet('web', 'c2', 1000, GiB)];
    // 2 + 1 = 3: one core left, on one cluster.
    given(owner)(overridden).when({ type: 'SetNamespaceQuota', namespace: 'api', clusterId: 'c1', cpu: '1', memory: '1Gi' }).then([quotaSet('api', 'c1', 1000, GiB)]);
    given(owner)(overridden)
      .when({ type: 'SetNamespaceQuota', namespace: 'api', clusterId: null, cpu: '1', memory: '1Gi' })
      .thenFails(ErrorCode.QUOTA_EXCEEDS_BUDGET, { resource: 'cpu', total: '5', budget: '4' });
    // Raising the override past the default counts too.
    given(owner)(overridden)
      .when({ type: 'SetNamespaceQuota', namespace: 'web', clusterId: 'c2', cpu: '2500m', memory: '1Gi' })
      .thenFails(ErrorCode.QUOTA_EXCEEDS_BUDGET, { resource: 'cpu', total: '4500m', budget: '4' });
  });

  it('a namespace without a quota adds nothing, wherever it is', () => {
    given(owner)(webTwoCores).when({ type: 'AddNamespace', namespace: 'jobs' }).then([nsAdded('jobs')]);
  });

  it('attaching a cluster that would push the total over is QUOTA_EXCEEDS_BUDGET', () => {
    given(owner)(webTwoCores)
      .when({ type: 'AttachCluster', clusterId: 'c3', name: 'north', connection: simulator('north') })
      .thenFails(ErrorCode.QUOTA_EXCEEDS_BUDGET, { resource: 'cpu', total: '6', budget: '4' });
    // With quotas set only per cluster, a new cluster adds nothing.
    given(owner)([...twoClusters, quotaSet('web', 'c1', 2000, GiB), quotaSet('web', 'c2', 2000, GiB)])
      .when({ type: 'AttachCluster', clusterId: 'c3', name: 'north', connection: simulator('north') })
      .then([attached('c3', 'north')]);
  });

  it('lowering the budget below the current total is QUOTA_EXCEEDS_BUDGET; down to it is fine', () => {
    given(owner)(webTwoCores)
      .when({ type: 'SetWorkspaceBudget', cpu: '3', memory: 'unlimited' })
      .thenFails(ErrorCode.QUOTA_EXCEEDS_BUDGET, { resource: 'cpu', total: '4', budget: '3' });
    given(owner)(webTwoCores)
      .when({ type: 'SetWorkspaceBudget', cpu: '4', memory: '1Gi' })
      .thenFails(ErrorCode.QUOTA_EXCEEDS_BUDGET, { resource: 'memory', total: '2Gi', budget: '1Gi' });
    given(owner)(webTwoCores).when({ type: 'SetWorkspaceBudget', cpu: '4', memory: '2Gi' }).then([budgetSet(4000, 2 * GiB)]);
  });

  it('bounds memory the same way', () => {
    const history = [...twoClusters, budgetSet('unlimited', 8 * GiB), quotaSet('web', null, 1000, 4 * GiB)];
    given(owner)(history)
      .when({ type: 'SetNamespaceQuota', namespace: 'api', clusterId: 'c1', cpu: '1', memory: '1Mi' })
      .thenFails(ErrorCode.QUOTA_EXCEEDS_BUDGET, { resource: 'memory', total: '8193Mi', budget: '8Gi' });
  });

  it("an 'unlimited' quota under a finite budget is QUOTA_EXCEEDS_BUDGET", () => {
    given(owner)(twoClusters)
      .when({ type: 'SetNamespaceQuota', namespace: 'web', clusterId: null, cpu: 'unlimited', memory: '1Gi' })
      .thenFails(ErrorCode.QUOTA_EXCEEDS_BUDGET, { resource: 'cpu', total: 'unlimited', budget: '4' });
    given(owner)([...twoClusters, budgetSet('unlimited', 8 * GiB)])
      .when({ type: 'SetNamespaceQuota', namespace: 'web', clusterId: 'c1', cpu: '1', memory: 'unlimited' })
      .thenFails(ErrorCode.QUOTA_EXCEEDS_BUDGET, { resource: 'memory', total: 'unlimited', budget: '8Gi' });
    // Under the unlimited part of the budget it is fine.
    given(owner)(twoClusters)
      .when({ type: 'SetNamespaceQuota', namespace: 'web', clusterId: null, cpu: '1', memory: 'unlimited' })
      .then([quotaSet('web', null, 1000, 'unlimited')]);
  });

  it('an unlimited budget takes any quota', () => {
    given(owner)([...team, attached('c1', 'east'), attached('c2', 'west'), nsAdded('web')])
      .when({ type: 'SetNamespaceQuota', namespace: 'web', clusterId: null, cpu: '100000', memory: 'unlimited' })
      .then([quotaSet('web', null, 100_000_000, 'unlimited')]);
  });

  it('a quota for an unknown namespace or cluster is NOT_FOUND', () => {
    given(owner)(twoClusters).when({ type: 'SetNamespaceQuota', namespace: 'jobs', clusterId: null, cpu: '1', memory: '1Gi' }).thenFails(ErrorCode.NOT_FOUND, { field: 'namespace' });
    given(owner)(twoClusters).when({ type: 'SetNamespaceQuota', namespace: 'web', clusterId: 'c9', cpu: '1', memory: '1Gi' }).thenFails(ErrorCode.NOT_FOUND, { field: 'clusterId' });
  });

  it('setting the same quota again changes nothing; another value is recorded', () => {
    given(owner)(webTwoCores).when({ type: 'SetNamespaceQuota', namespace: 'web', clusterId: null, cpu: '2000m', memory: '1024Mi' }).then([]);
    const overridden = [...webTwoCores, quotaSet('web', 'c1', 1000, GiB)];
    given(owner)(overridden).when({ type: 'SetNamespaceQuota', namespace: 'web', clusterId: 'c1', cpu: '1', memory: '1Gi' }).then([]);
    given(owner)(overridden).when({ type: 'SetNamespaceQuota', namespace: 'web', clusterId: 'c1', cpu: '1', memory: '2Gi' }).then([quotaSet('web', 'c1', 1000, 2 * GiB)]);
    // An override equal to the default is still an override, recorded once.
    given(owner)(webTwoCores).when({ type: 'SetNamespaceQuota', namespace: 'web', clusterId: 'c1', cpu: '2', memory: '1Gi' }).then([quotaSet('web', 'c1', 2000, GiB)]);
  });

  it('removes a quota; a missing one is NOT_FOUND', () => {
    given(actors.admin)(webTwoCores).when({ type: 'RemoveNamespaceQuota', namespace: 'web', clusterId: null }).then([quotaRemoved('web', null)]);
    given(owner)(webTwoCores).when({ type: 'RemoveNamespaceQuota', namespace: 'api', clusterId: null }).thenFails(ErrorCode.NOT_FOUND, { field: 'namespace' });
    given(owner)(webTwoCores).when({ type: 'RemoveNamespaceQuota', namespace: 'web', clusterId: 'c1' }).thenFails(ErrorCode.NOT_FOUND, { field: 'namespace' });
    given(owner)(webTwoCores).when({ type: 'RemoveNamespaceQuota', namespace: 'jobs', clusterId: null }).thenFails(ErrorCode.NOT_FOUND, { field: 'namespace' });
    given(owner)([...webTwoCores, quotaRemoved('web', null)]).when({ type: 'RemoveNamespaceQuota', namespace: 'web', clusterId: null }).thenFails(ErrorCode.NOT_FOUND);
  });

  it('removing the default keeps the overrides; removing the last part drops the entry', () => {
    const history = [...webTwoCores, quotaSet('web', 'c1', 1000, GiB)];
    const withoutDefault = given(owner)([...history, quotaRemoved('web', null)]).state;
    expect(withoutDefault.quotas.get('web')).toEqual({ default: undefined, overrides: new Map([['c1', { cpu: 1000, memory: GiB }]]) });
    expect(effectiveQuota(withoutDefault.quotas.get('web'), 'c2')).toBeUndefined();
    expect(given(owner)([...history, quotaRemoved('web', null), quotaRemoved('web', 'c1')]).state.quotas.has('web')).toBe(false);
  });

  it("removing an override that the larger default would replace is held to the budget", () => {
    // Budget 3: web is 2 cores by default, 1 on c1 — 3 in all; without the override it would be 4.
    const history = [...twoClusters, budgetSet(3000, 'unlimited'), quotaSet('web', null, 2000, GiB), quotaSet('web', 'c1', 1000, GiB)];
    given(owner)(history)
      .when({ type: 'RemoveNamespaceQuota', namespace: 'web', clusterId: 'c1' })
      .thenFails(ErrorCode.QUOTA_EXCEEDS_BUDGET, { resource: 'cpu', total: '4', budget: '3' });
    given(owner)([...history, budgetSet(4000, 'unlimited')]).when({ type: 'RemoveNamespaceQuota', namespace: 'web', clusterId: 'c1' }).then([quotaRemoved('web', 'c1')]);
  });

  it('removing a namespace or detaching a cluster frees its share of the budget', () => {
    given(owner)([...webTwoCores, detached('c2', 'west')])
      .when({ type: 'SetNamespaceQuota', namespace: 'api', clusterId: null, cpu: '2', memory: '1Gi' })
      .then([quotaSet('api', null, 2000, GiB)]);
    given(owner)([...webTwoCores, nsRemoved('web')])
      .when({ type: 'SetNamespaceQuota', namespace: 'api', clusterId: null, cpu: '2', memory: '1Gi' })
      .then([quotaSet('api', null, 2000, GiB)]);
  });
});

describe('role bindings', () => {
  const history = [...team, nsAdded('web'), nsAdded('api')];
  const bind = (overrides: Partial<Extract<WorkspaceCommand, { type: 'AddRoleBinding' }>>): WorkspaceCommand => ({
    type: 'AddRoleBinding',
    name: 'devs',
    namespaces: ['web'],
    role: { kind: 'Role', name: 'deployer' },
    subjects: [carolUser],
    ...overrides,
  });

  it('binds a role in named and matched namespaces, minus excluded ones', () => {
    const subjects = [carolUser, { kind: 'Group' as const, name: 'oncall', namespace: null }, { kind: 'ServiceAccount' as const, name: 'ci', namespace: 'api' }];
    given(actors.admin)(history)
      .when(bind({ namespaces: ['web', '/^team-/', '~/sandbox/'], role: { kind: 'ClusterRole', name: 'edit' }, subjects }))
      .then([{ type: 'RoleBindingAdded', data: { workspaceId: W, name: 'devs', namespaces: ['web', '/^team-/', '~/sandbox/'], role: { kind: 'ClusterRole', name: 'edit' }, subjects } }]);
    const { state } = given(owner)([...history, bindingAdded('devs', ['api'])]);
    expect(state.roleBindings.get('devs')).toEqual({ namespaces: ['api'], role: { kind: 'ClusterRole', name: 'edit' }, subjects: [carolUser] });
  });

  it('accepts the role names Kubernetes accepts, such as system:aggregate-to-view', () => {
    const [event] = given(owner)(history).when(bind({ role: { kind: 'ClusterRole', name: 'system:aggregate-to-view' } })).events();
    expect(event).toMatchObject({ type: 'RoleBindingAdded', data: { role: { kind: 'ClusterRole', name: 'system:aggregate-to-view' } } });
  });

  it('a patterns-only binding needs no namespace of the workspace', () => {
    expect(given(owner)(team).when(bind({ namespaces: ['/^team-/'] })).events().map((e) => e.type)).toEqual(['RoleBindingAdded']);
    expect(given(owner)(team).when(bind({ namespaces: ['/^team-/', '~/sandbox/'] })).events().map((e) => e.type)).toEqual(['RoleBindingAdded']);
  });

  it('a named namespace must be part of the workspace', () => {
    given(owner)(history).when(bind({ namespaces: ['web', 'jobs'] })).thenFails(ErrorCode.NOT_FOUND, { field: 'namespaces.1' });
    given(owner)(history).when(bind({ namespaces: ['jobs'] })).thenFails(ErrorCode.NOT_FOUND, { field: 'namespaces.0' });
  });

  it.each([
    ['an invalid regex', ['/(/'], 'namespaces.0'],
    ['an invalid exclude regex', ['web', '~/[/'], 'namespaces.1'],
    ['an upper-case name', ['Web'], 'namespaces.0'],
    ['an empty pattern', ['//'], 'namespaces.0'],
    ['an empty selector', [''], 'namespaces.0'],
    ['only excludes', ['~/sandbox/'], 'namespaces'],
    ['no selector at all', [], 'namespaces'],
    ['51 selectors', Array.from({ length: 51 }, () => '/x/'), 'namespaces'],
    ['a 257-character selector', [`/${'a'.repeat(255)}/`], 'namespaces'],
  ])('refuses %s with BAD_USER_INPUT', (_label, namespaces, field) => {
    given(owner)(history).when(bind({ namespaces })).thenFails(ErrorCode.BAD_USER_INPUT, { field });
  });

  it.each([
    ['a role kind other than Role or ClusterRole', { role: { kind: 'Group', name: 'edit' } }, 'role.kind'],
    ['a lower-case role kind', { role: { kind: 'role', name: 'edit' } }, 'role.kind'],
    ['a role name with a slash', { role: { kind: 'Role', name: 'edit/all' } }, 'role.name'],
    ['a role name with a space', { role: { kind: 'Role', name: 'edit all' } }, 'role.name'],
    ['the role name ..', { role: { kind: 'Role', name: '..' } }, 'role.name'],
    ['an empty role name', { role: { kind: 'Role', name: '' } }, 'role.name'],
    ['a binding name that is not a Kubernetes name', { name: 'Devs' }, 'name'],
    ['no subjects', { subjects: [] }, 'subjects'],
    ['101 subjects', { subjects: Array.from({ length: 101 }, (_, i) => ({ kind: 'User', name: `u${i}`, namespace: null })) }, 'subjects'],
    ['a service account without a namespace', { subjects: [{ kind: 'ServiceAccount', name: 'ci', namespace: null }] }, 'subjects'],
    ['a user with a namespace', { subjects: [{ kind: 'User', name: 'carol', namespace: 'web' }] }, 'subjects'],
    ['a group with a namespace', { subjects: [carolUser, { kind: 'Group', name: 'ops', namespace: 'web' }] }, 'subjects'],
    ['an unknown subject kind', { subjects: [{ kind: 'Robot', name: 'r2', namespace: null }] }, 'subjects'],
    ['a subject without a name', { subjects: [{ kind: 'User', name: '', namespace: null }] }, 'subjects'],
    ['a service account in a namespace that is not a Kubernetes name', { subjects: [{ kind: 'ServiceAccount', name: 'ci', namespace: 'Web' }] }, 'subjects'],
  ] as [string, Partial<Extract<WorkspaceCommand, { type: 'AddRoleBinding' }>>, string][])('refuses %s with BAD_USER_INPUT', (_label, overrides, field) => {
    given(owner)(history).when(bind(overrides)).thenFails(ErrorCode.BAD_USER_INPUT, { field });
  });

  it('a subject may be a user, a group, or a service account of any namespace', () => {
    for (const subject of [
      { kind: 'ServiceAccount' as const, name: 'ci', namespace: 'kube-system' },
      { kind: 'User' as const, name: 'carol@example.com', namespace: null },
    ]) {
      const [event] = given(owner)(history).when(bind({ subjects: [subject] })).events();
      expect(event).toMatchObject({ type: 'RoleBindingAdded', data: { subjects: [subject] } });
    }
  });

  it('a second binding of the same name is NAME_TAKEN', () => {
    given(owner)([...history, bindingAdded('devs', ['api'])]).when(bind({})).thenFails(ErrorCode.NAME_TAKEN, { field: 'name' });
  });

  it('removes a binding; an unknown one is NOT_FOUND', () => {
    const withDevs = [...history, bindingAdded('devs', ['api'])];
    given(actors.admin)(withDevs).when({ type: 'RemoveRoleBinding', name: 'devs' }).then([{ type: 'RoleBindingRemoved', data: { workspaceId: W, name: 'devs' } }]);
    given(owner)(withDevs).when({ type: 'RemoveRoleBinding', name: 'ops' }).thenFails(ErrorCode.NOT_FOUND, { field: 'name' });
    const removed: WorkspaceEvent = { type: 'RoleBindingRemoved', data: { workspaceId: W, name: 'devs' } };
    expect(given(owner)([...withDevs, removed]).state.roleBindings.size).toBe(0);
    given(owner)([...withDevs, removed]).when({ type: 'RemoveRoleBinding', name: 'devs' }).thenFails(ErrorCode.NOT_FOUND, { field: 'name' });
  });
});

describe('cluster role bindings', () => {
  const bind = (overrides: Partial<Extract<WorkspaceCommand, { type: 'AddClusterRoleBinding' }>>): WorkspaceCommand => ({
    type: 'AddClusterRoleBinding',
    name: 'auditors',
    clusterRole: 'view',
    subjects: [carolUser],
    ...overrides,
  });

  it('binds a cluster role', () => {
    const subjects = [{ kind: 'ServiceAccount' as const, name: 'scanner', namespace: 'security' }];
    given(actors.admin)(team)
      .when(bind({ clusterRole: 'aggregate.view', subjects }))
      .then([{ type: 'ClusterRoleBindingAdded', data: { workspaceId: W, name: 'auditors', clusterRole: 'aggregate.view', subjects } }]);
    expect(given(owner)([...team, clusterBindingAdded('auditors', 'view')]).state.clusterRoleBindings.get('auditors')).toEqual({ clusterRole: 'view', subjects: [carolUser] });
  });

  it.each([
    ['a binding name that is not a Kubernetes name', { name: 'Auditors' }, 'name'],
    ['a cluster role with a percent sign', { clusterRole: 'view%2F' }, 'clusterRole'],
    ['an empty cluster role', { clusterRole: '' }, 'clusterRole'],
    ['no subjects', { subjects: [] }, 'subjects'],
    ['a service account without a namespace', { subjects: [{ kind: 'ServiceAccount', name: 'ci', namespace: null }] }, 'subjects'],
    ['a user with a namespace', { subjects: [{ kind: 'User', name: 'carol', namespace: 'web' }] }, 'subjects'],
  ] as [string, Partial<Extract<WorkspaceCommand, { type: 'AddClusterRoleBinding' }>>, string][])('refuses %s with BAD_USER_INPUT', (_label, overrides, field) => {
    given(owner)(team).when(bind(overrides)).thenFails(ErrorCode.BAD_USER_INPUT, { field });
  });

  it('a second binding of the same name is NAME_TAKEN; a role binding of that name is another thing', () => {
    given(owner)([...team, clusterBindingAdded('auditors', 'view')]).when(bind({})).thenFails(ErrorCode.NAME_TAKEN, { field: 'name' });
    given(owner)([...team, bindingAdded('auditors', ['/x/'])])
      .when(bind({}))
      .then([{ type: 'ClusterRoleBindingAdded', data: { workspaceId: W, name: 'auditors', clusterRole: 'view', subjects: [carolUser] } }]);
  });

  it('removes a binding; an unknown one is NOT_FOUND', () => {
    const history = [...team, clusterBindingAdded('auditors', 'view')];
    given(actors.admin)(history).when({ type: 'RemoveClusterRoleBinding', name: 'auditors' }).then([{ type: 'ClusterRoleBindingRemoved', data: { workspaceId: W, name: 'auditors' } }]);
    given(owner)(history).when({ type: 'RemoveClusterRoleBinding', name: 'viewers' }).thenFails(ErrorCode.NOT_FOUND, { field: 'name' });
    // A role binding of that name is not a cluster role binding.
    given(owner)([...team, bindingAdded('viewers', ['/x/'])]).when({ type: 'RemoveClusterRoleBinding', name: 'viewers' }).thenFails(ErrorCode.NOT_FOUND, { field: 'name' });
  });
});

describe('image restrictions', () => {
  const history = [...team, nsAdded('web'), nsAdded('api')];

  it.each(['docker.io/library/nginx:*', 'ghcr.io/acme/app@sha256:abc', 'nginx', 'registry.example.com:5000/team/app:1.2.3', 'ghcr.io/acme/*', 'i'.repeat(255)])(
    'restricts %s',
    (image) => {
      given(actors.admin)(history).when({ type: 'RestrictImage', namespace: 'web', image }).then([restricted('web', image)]);
    },
  );

  it.each(['NGINX', 'nginx **', 'i'.repeat(300), 'i'.repeat(256), '', '*', 'nginx*:latest', ' nginx', 'nginx latest', '-nginx'])('refuses the image pattern %j with BAD_USER_INPUT', (image) => {
    given(owner)(history).when({ type: 'RestrictImage', namespace: 'web', image }).thenFails(ErrorCode.BAD_USER_INPUT, { field: 'image' });
  });

  it('an unknown namespace is NOT_FOUND', () => {
    given(owner)(history).when({ type: 'RestrictImage', namespace: 'jobs', image: 'nginx' }).thenFails(ErrorCode.NOT_FOUND, { field: 'namespace' });
    given(owner)(history).when({ type: 'LiftImageRestriction', namespace: 'jobs', image: 'nginx' }).thenFails(ErrorCode.NOT_FOUND, { field: 'namespace' });
  });

  it('restricting twice changes nothing; the same pattern elsewhere is another restriction', () => {
    const withNginx = [...history, restricted('web', 'nginx')];
    given(owner)(withNginx).when({ type: 'RestrictImage', namespace: 'web', image: 'nginx' }).then([]);
    given(owner)(withNginx).when({ type: 'RestrictImage', namespace: 'api', image: 'nginx' }).then([restricted('api', 'nginx')]);
    const { state } = given(owner)([...withNginx, restricted('web', 'redis:*')]);
    expect([...state.restrictedImages.get('web')!]).toEqual(['nginx', 'redis:*']);
  });

  it('lifts a restriction; an unknown one is NOT_FOUND', () => {
    const withNginx = [...history, restricted('web', 'nginx')];
    const lifted: WorkspaceEvent = { type: 'ImageRestrictionLifted', data: { workspaceId: W, namespace: 'web', image: 'nginx' } };
    given(actors.admin)(withNginx).when({ type: 'LiftImageRestriction', namespace: 'web', image: 'nginx' }).then([lifted]);
    given(owner)(withNginx).when({ type: 'LiftImageRestriction', namespace: 'web', image: 'redis' }).thenFails(ErrorCode.NOT_FOUND, { field: 'image' });
    given(owner)(withNginx).when({ type: 'LiftImageRestriction', namespace: 'api', image: 'nginx' }).thenFails(ErrorCode.NOT_FOUND, { field: 'image' });
    expect(given(owner)([...withNginx, lifted]).state.restrictedImages.has('web')).toBe(false);
    given(owner)([...withNginx, lifted]).when({ type: 'LiftImageRestriction', namespace: 'web', image: 'nginx' }).thenFails(ErrorCode.NOT_FOUND, { field: 'image' });
  });
});
