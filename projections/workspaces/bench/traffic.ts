/**
 * Realistic organization and workspace traffic for the projections
 * benchmark: what the workspaces service appends when teams create
 * organizations and workspaces and then govern them — members, namespaces,
 * clusters, budgets, quotas, role bindings, image restrictions, secrets
 * (sealed-looking values), descriptions, renames, owner and auditor changes
 * and a few deletions.
 *
 * Deterministic (a seeded generator), consistent as the domain's deciders
 * would keep it (a workspace's events follow its creation on its
 * organization's stream; members are changed or removed only when present;
 * quotas are set on existing namespaces and attached clusters; a deleted
 * workspace gets no event after its closing), and written through
 * `EventLog.append`, so every payload is validated against its contract in
 * schema/ and every event carries the metadata the service stamps
 * (schemaVersion, occurredAt, actor, correlationId). Each append holds one
 * stream's events: an organization's (1–3) or a burst of one workspace's
 * (20–200, as a team configuring it), with exact expected revisions.
 */
import { performance } from 'node:perf_hooks';
import type { DomainEvent, EventLog } from '@canopy/eventstore';

/** mulberry32: small, fast, good enough to pick realistic values. */
class Random {
  constructor(private state: number) {}
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  hex(length: number): string {
    let out = '';
    while (out.length < length) out += ((this.next() * 0x100000000) >>> 0).toString(16).padStart(8, '0');
    return out.slice(0, length);
  }
  uuid(): string {
    const h = this.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[this.int(0, 3)]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
  base64(bytes: number): string {
    const buffer = Buffer.allocUnsafe(bytes);
    for (let i = 0; i < bytes; i++) buffer[i] = (this.next() * 256) | 0;
    return buffer.toString('base64');
  }
}

type Role = 'viewer' | 'member' | 'admin' | 'owner';

interface Organization {
  id: string;
  revision: bigint;
  owners: string[];
  auditors: string[];
  /** The people of the organization: members, binding subjects and actors come from here. */
  users: string[];
  /** Live workspaces' names, unique in the organization. */
  names: Set<string>;
  workspaces: Workspace[];
}

interface Workspace {
  id: string;
  organization: Organization;
  name: string;
  isDefault: boolean;
  revision: bigint;
  closed: boolean;
  namespaces: string[];
  clusters: Map<string, string>;
  members: Map<string, Role>;
  /** `${namespace}|${clusterId or ''}` */
  quotas: Set<string>;
  roleBindings: string[];
  clusterRoleBindings: string[];
  /** `${namespace}|${image}` */
  images: Set<string>;
  secrets: Map<string, number>;
  serial: number;
}

export interface PlannedAppend {
  stream: string;
  events: DomainEvent[];
  expectedRevision: bigint | 'no_stream';
  actor: string;
}

const NAMESPACES = ['web', 'api', 'worker', 'payments', 'search', 'auth', 'ingest', 'reports', 'ml', 'cache', 'gateway', 'billing', 'notifications', 'batch', 'monitoring', 'logging', 'frontend', 'backend', 'data', 'etl'];
const STAGES = ['dev', 'staging', 'production'];
const REGIONS = ['eu-west-1', 'eu-central-1', 'us-east-1', 'us-west-2', 'ap-southeast-1'];
const PROJECTS = ['storefront', 'checkout', 'catalog', 'platform', 'analytics', 'mobile-api', 'identity', 'fulfilment', 'pricing', 'recommendations', 'support', 'internal-tools'];
const IMAGES = ['docker.io/library/nginx:*', 'docker.io/library/redis:7*', 'ghcr.io/acme/api:1.4.2', 'quay.io/prometheus/*', 'docker.io/bitnami/postgresql:*', 'registry.k8s.io/ingress-nginx/controller:*', 'docker.io/library/busybox:latest', 'gcr.io/distroless/static:nonroot'];
const CLUSTER_ROLES = ['view', 'edit', 'admin', 'system:aggregate-to-view', 'monitoring-reader'];
const SECRET_NAMES = ['db-credentials', 'api-token', 'tls.certificate', 'smtp', 'oauth-client', 'registry-pull', 'stripe.keys', 'sentry-dsn', 'redis-password', 'signing-key'];
const SECRET_KEYS = ['username', 'password', 'host', 'port', 'token', 'tls.crt', 'tls.key', 'client_id', 'client_secret', 'dsn'];
const DESCRIPTIONS = [
  'Customer-facing services and their ingress.',
  'Staging mirror of production; reset every Monday.',
  'Batch jobs and the nightly exports to the warehouse.',
  'Owned by the platform team. Ask in #platform before changing quotas.',
  'Experimental: models served behind the recommendations API.',
];

/** Relative weights of the workspace stream's event kinds in a burst (before each kind's precondition). */
const BURST_MIX: [kind: string, weight: number][] = [
  ['NamespaceAdded', 10],
  ['NamespaceRemoved', 2],
  ['ClusterAttached', 3],
  ['ClusterDetached', 1],
  ['WorkspaceBudgetSet', 4],
  ['NamespaceQuotaSet', 16],
  ['NamespaceQuotaRemoved', 3],
  ['MemberAdded', 9],
  ['MemberRoleChanged', 5],
  ['MemberRemoved', 3],
  ['RoleBindingAdded', 7],
  ['RoleBindingRemoved', 2],
  ['ClusterRoleBindingAdded', 3],
  ['ClusterRoleBindingRemoved', 1],
  ['ImageRestricted', 6],
  ['ImageRestrictionLifted', 2],
  ['SecretWritten', 14],
  ['SecretDeleted', 2],
  ['WorkspaceDescribed', 2],
];
const BURST_TOTAL = BURST_MIX.reduce((sum, [, weight]) => sum + weight, 0);

/** Average events per workspace over the log, and workspaces per organization: they set how many of each the log holds. */
const EVENTS_PER_WORKSPACE = 150;
const WORKSPACES_PER_ORGANIZATION = 8;

export interface FillFigures {
  events: number;
  appends: number;
  organizations: number;
  workspaces: number;
  deletedWorkspaces: number;
  seconds: number;
  /** Events per type, most frequent first. */
  mix: [type: string, count: number][];
}

export class Traffic {
  private readonly random: Random;
  private readonly organizations: Organization[] = [];
  private readonly live: Workspace[] = [];
  private readonly pending: PlannedAppend[] = [];
  private workspaceCount = 0;
  private deleted = 0;
  private userSerial = 0;
  private produced = 0;
  private readonly counts = new Map<string, number>();

  /** `total`: the events the log will hold, which sets how many organizations and workspaces they spread over. */
  constructor(
    private readonly total: number,
    seed = 20261123,
  ) {
    this.random = new Random(seed);
  }

  get events(): number {
    return this.produced;
  }

  /** The next append, in log order, of at most `maxEvents` (≥ 1) events (its state is already applied here: append it before asking for the next). */
  next(maxEvents = Number.POSITIVE_INFINITY): PlannedAppend {
    const planned = this.plan(maxEvents);
    this.produced += planned.events.length;
    for (const event of planned.events) this.counts.set(event.type, (this.counts.get(event.type) ?? 0) + 1);
    return planned;
  }

  /** One event on one of the live workspaces (for the live phase): the mutation a user's request makes. */
  single(workspaceIndex: number): PlannedAppend {
    const workspace = this.live[workspaceIndex % this.live.length]!;
    const event = this.burstEvent(workspace);
    return this.onWorkspace(workspace, [event]);
  }

  /** Live workspaces to send single events to (not deleted). */
  get liveWorkspaces(): number {
    return this.live.length;
  }

  summary(seconds: number, appends: number): FillFigures {
    return {
      events: this.produced,
      appends,
      organizations: this.organizations.length,
      workspaces: this.workspaceCount,
      deletedWorkspaces: this.deleted,
      seconds,
      mix: [...this.counts].sort((a, b) => b[1] - a[1]),
    };
  }

  private plan(maxEvents: number): PlannedAppend {
    const queued = this.pending.shift();
    if (queued) return queued;
    // Near the end, a burst of exactly what is left (every other kind of append holds fewer than 30 events).
    if (maxEvents < 30) return this.burst(maxEvents);
    const progress = Math.min(1, (this.produced + 1) / this.total);
    const targetWorkspaces = Math.max(1, Math.ceil((this.total / EVENTS_PER_WORKSPACE) * progress));
    const targetOrganizations = Math.max(1, Math.ceil(targetWorkspaces / WORKSPACES_PER_ORGANIZATION));
    if (this.organizations.length < targetOrganizations) return this.createOrganization();
    if (this.workspaceCount < targetWorkspaces) return this.createWorkspaces();
    if (this.random.chance(0.03)) return this.organizationChange();
    if (this.random.chance(0.004)) {
      const deletion = this.deleteWorkspace();
      if (deletion) return deletion;
    }
    return this.burst(maxEvents);
  }

  private user(organization?: Organization): string {
    if (organization && organization.users.length > 0 && this.random.chance(0.85)) return this.random.pick(organization.users);
    const id = `user-${(this.userSerial++).toString(36).padStart(5, '0')}@example.com`;
    organization?.users.push(id);
    return id;
  }

  private createOrganization(): PlannedAppend {
    const id = this.random.uuid();
    const owner = this.user();
    const organization: Organization = { id, revision: -1n, owners: [owner], auditors: [], users: [owner], names: new Set(['default']), workspaces: [] };
    this.organizations.push(organization);
    for (let i = this.random.int(4, 20); i > 0; i--) this.user(organization);
    const defaultWorkspace = this.newWorkspace(organization, 'default', true);
    const team = this.random.chance(0.8);
    const events: DomainEvent[] = [
      {
        type: 'OrganizationCreated',
        data: { organizationId: id, name: team ? `${this.random.pick(['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Stark'])} ${this.random.pick(['Platform', 'Retail', 'Labs', 'Cloud', 'Payments'])} ${this.organizations.length}` : owner, kind: team ? 'team' : 'personal', ownerId: owner, defaultWorkspace: { workspaceId: defaultWorkspace.id, name: 'default' } },
      },
    ];
    if (team) {
      for (let i = this.random.int(0, 2); i > 0; i--) {
        const userId = this.random.pick(organization.users);
        if (!organization.owners.includes(userId)) {
          organization.owners.push(userId);
          events.push({ type: 'OrganizationOwnerAdded', data: { organizationId: id, userId } });
        }
      }
      if (this.random.chance(0.3)) {
        const auditor = this.user(organization);
        organization.auditors.push(auditor);
        events.push({ type: 'OrganizationAuditorAdded', data: { organizationId: id, userId: auditor } });
      }
    }
    return this.onOrganization(organization, events, owner);
  }

  private newWorkspace(organization: Organization, name: string, isDefault: boolean): Workspace {
    const workspace: Workspace = {
      id: this.random.uuid(),
      organization,
      name,
      isDefault,
      revision: -1n,
      closed: false,
      namespaces: [],
      clusters: new Map(),
      members: new Map(),
      quotas: new Set(),
      roleBindings: [],
      clusterRoleBindings: [],
      images: new Set(),
      secrets: new Map(),
      serial: 0,
    };
    organization.names.add(name);
    organization.workspaces.push(workspace);
    this.live.push(workspace);
    this.workspaceCount++;
    return workspace;
  }

  /** A project workspace, or a project's three environments (dev, staging, production) in one append. */
  private createWorkspaces(): PlannedAppend {
    const organization = this.random.pick(this.organizations.slice(-Math.max(8, Math.ceil(this.organizations.length / 4))));
    const actor = this.random.pick(organization.owners);
    let project = this.random.pick(PROJECTS);
    for (let n = 2; organization.names.has(project) || STAGES.some((stage) => organization.names.has(`${project}-${stage}`)); n++) project = `${this.random.pick(PROJECTS)}-${n}`;
    const environments = this.random.chance(0.4);
    const created = environments ? STAGES.map((stage) => ({ workspace: this.newWorkspace(organization, `${project}-${stage}`, false), stage })) : [{ workspace: this.newWorkspace(organization, project, false), stage: null }];
    const events = created.map(({ workspace, stage }) => ({
      type: 'WorkspaceCreated',
      data: {
        organizationId: organization.id,
        workspaceId: workspace.id,
        name: workspace.name,
        kind: stage ? 'environment' : 'project',
        stage,
        description: this.random.chance(0.5) ? this.random.pick(DESCRIPTIONS) : '',
        createdBy: actor,
      },
    }));
    return this.onOrganization(organization, events, actor);
  }

  /** A rename, an owner or an auditor added or removed. */
  private organizationChange(): PlannedAppend {
    const organization = this.random.pick(this.organizations);
    const roll = this.random.next();
    const actor = this.random.pick(organization.owners);
    const renamable = organization.workspaces.filter((w) => !w.closed && !w.isDefault);
    if (roll < 0.4 && renamable.length > 0) {
      const workspace = this.random.pick(renamable);
      let name = `${workspace.name.replace(/-r\d+$/, '').slice(0, 50)}-r${this.random.int(2, 99)}`;
      while (organization.names.has(name)) name = `${name.slice(0, 55)}-${this.random.int(0, 9)}`;
      const previousName = workspace.name;
      organization.names.delete(previousName);
      organization.names.add(name);
      workspace.name = name;
      return this.onOrganization(organization, [{ type: 'WorkspaceRenamed', data: { organizationId: organization.id, workspaceId: workspace.id, name, previousName } }], actor);
    }
    if (roll < 0.65 && organization.owners.length > 1) {
      const userId = this.random.pick(organization.owners.filter((o) => o !== actor));
      organization.owners = organization.owners.filter((o) => o !== userId);
      return this.onOrganization(organization, [{ type: 'OrganizationOwnerRemoved', data: { organizationId: organization.id, userId } }], actor);
    }
    if (roll < 0.85) {
      const userId = this.user(organization);
      if (!organization.owners.includes(userId)) {
        organization.owners.push(userId);
        return this.onOrganization(organization, [{ type: 'OrganizationOwnerAdded', data: { organizationId: organization.id, userId } }], actor);
      }
    }
    if (organization.auditors.length > 0 && this.random.chance(0.4)) {
      const userId = this.random.pick(organization.auditors);
      organization.auditors = organization.auditors.filter((a) => a !== userId);
      return this.onOrganization(organization, [{ type: 'OrganizationAuditorRemoved', data: { organizationId: organization.id, userId } }], actor);
    }
    const userId = this.user();
    organization.auditors.push(userId);
    return this.onOrganization(organization, [{ type: 'OrganizationAuditorAdded', data: { organizationId: organization.id, userId } }], actor);
  }

  /** Detaches its clusters and closes the workspace stream; `WorkspaceDeleted` on the organization's stream is the next append. */
  private deleteWorkspace(): PlannedAppend | undefined {
    const candidates = this.live.filter((w) => !w.isDefault);
    if (candidates.length < 20) return undefined;
    const workspace = this.random.pick(candidates);
    const organization = workspace.organization;
    const actor = this.random.pick(organization.owners);
    const events: DomainEvent[] = [];
    for (const [clusterId, name] of workspace.clusters) events.push({ type: 'ClusterDetached', data: { workspaceId: workspace.id, clusterId, name } });
    workspace.clusters.clear();
    events.push({ type: 'WorkspaceClosed', data: { workspaceId: workspace.id, organizationId: organization.id } });
    const closing = this.onWorkspace(workspace, events, actor);
    workspace.closed = true;
    this.live.splice(this.live.indexOf(workspace), 1);
    organization.names.delete(workspace.name);
    this.deleted++;
    this.pending.push(this.onOrganization(organization, [{ type: 'WorkspaceDeleted', data: { organizationId: organization.id, workspaceId: workspace.id, name: workspace.name } }], actor));
    return closing;
  }

  /** 20–200 events on one workspace, newer workspaces more often (teams set up what they just created). */
  private burst(maxEvents: number): PlannedAppend {
    const skew = this.random.next() ** 2;
    let workspace = this.live[this.live.length - 1 - Math.floor(skew * this.live.length)]!;
    const events: DomainEvent[] = [];
    if (workspace.revision < 0n) {
      // A new workspace's set-up is at most 14 events; with less room left, another workspace gets the burst.
      if (maxEvents < 30) workspace = this.live.find((w) => w.revision >= 0n) ?? workspace;
      else events.push(...this.bootstrap(workspace));
    }
    for (let n = Math.min(this.random.int(20, 200), maxEvents) - events.length; n > 0; n--) events.push(this.burstEvent(workspace));
    return this.onWorkspace(workspace, events);
  }

  /** What a new workspace gets first: a budget, a few namespaces, a cluster or two, its team. */
  private bootstrap(workspace: Workspace): DomainEvent[] {
    const events = [this.budget(workspace)];
    for (let i = this.random.int(2, 5); i > 0; i--) events.push(this.addNamespace(workspace));
    for (let i = this.random.int(1, 2); i > 0; i--) events.push(this.attachCluster(workspace));
    for (let i = this.random.int(2, 6); i > 0; i--) {
      const member = this.addMember(workspace);
      if (member) events.push(member);
    }
    return events;
  }

  private burstEvent(workspace: Workspace): DomainEvent {
    for (;;) {
      let roll = this.random.next() * BURST_TOTAL;
      let kind = BURST_MIX[0]![0];
      for (const [k, weight] of BURST_MIX) {
        if ((roll -= weight) < 0) {
          kind = k;
          break;
        }
      }
      const event = this.eventOf(kind, workspace);
      if (event) return event;
    }
  }

  /** One event of `kind` on the workspace, or undefined when its precondition does not hold (the caller draws again). */
  private eventOf(kind: string, w: Workspace): DomainEvent | undefined {
    const r = this.random;
    const workspaceId = w.id;
    switch (kind) {
      case 'NamespaceAdded':
        return w.namespaces.length < 40 ? this.addNamespace(w) : undefined;
      case 'NamespaceRemoved': {
        if (w.namespaces.length <= 3) return undefined;
        const namespace = w.namespaces.splice(r.int(0, w.namespaces.length - 1), 1)[0]!;
        for (const key of [...w.quotas]) if (key.startsWith(`${namespace}|`)) w.quotas.delete(key);
        for (const key of [...w.images]) if (key.startsWith(`${namespace}|`)) w.images.delete(key);
        return { type: 'NamespaceRemoved', data: { workspaceId, namespace } };
      }
      case 'ClusterAttached':
        return w.clusters.size < 6 ? this.attachCluster(w) : undefined;
      case 'ClusterDetached': {
        if (w.clusters.size <= 1) return undefined;
        const [clusterId, name] = r.pick([...w.clusters]);
        w.clusters.delete(clusterId);
        for (const key of [...w.quotas]) if (key.endsWith(`|${clusterId}`)) w.quotas.delete(key);
        return { type: 'ClusterDetached', data: { workspaceId, clusterId, name } };
      }
      case 'WorkspaceBudgetSet':
        return this.budget(w);
      case 'NamespaceQuotaSet': {
        if (w.namespaces.length === 0) return undefined;
        const namespace = r.pick(w.namespaces);
        const clusterId = w.clusters.size > 0 && r.chance(0.3) ? r.pick([...w.clusters.keys()]) : null;
        w.quotas.add(`${namespace}|${clusterId ?? ''}`);
        return {
          type: 'NamespaceQuotaSet',
          data: { workspaceId, namespace, clusterId, cpu: r.chance(0.05) ? 'unlimited' : r.int(1, 32) * 500, memory: r.chance(0.05) ? 'unlimited' : r.int(1, 128) * 512 * 1024 ** 2 },
        };
      }
      case 'NamespaceQuotaRemoved': {
        if (w.quotas.size === 0) return undefined;
        const key = r.pick([...w.quotas]);
        w.quotas.delete(key);
        const [namespace, cluster] = key.split('|') as [string, string];
        return { type: 'NamespaceQuotaRemoved', data: { workspaceId, namespace, clusterId: cluster === '' ? null : cluster } };
      }
      case 'MemberAdded':
        return this.addMember(w);
      case 'MemberRoleChanged': {
        if (w.members.size === 0) return undefined;
        const [userId, previousRole] = r.pick([...w.members]);
        const role = r.pick((['viewer', 'member', 'admin'] as const).filter((x) => x !== previousRole));
        w.members.set(userId, role);
        return { type: 'MemberRoleChanged', data: { workspaceId, userId, role, previousRole } };
      }
      case 'MemberRemoved': {
        if (w.members.size <= 1) return undefined;
        const [userId, previousRole] = r.pick([...w.members]);
        w.members.delete(userId);
        return { type: 'MemberRemoved', data: { workspaceId, userId, previousRole } };
      }
      case 'RoleBindingAdded': {
        if (w.namespaces.length === 0 || w.roleBindings.length >= 30) return undefined;
        const name = `${r.pick(['deployers', 'readers', 'oncall', 'ci', 'developers', 'debug'])}-${w.serial++}`;
        w.roleBindings.push(name);
        const namespaces = r.chance(0.2) ? ['/^team-.*$/'] : [...new Set([r.pick(w.namespaces), r.pick(w.namespaces)])];
        return { type: 'RoleBindingAdded', data: { workspaceId, name, namespaces, role: r.chance(0.7) ? { kind: 'ClusterRole', name: r.pick(['view', 'edit', 'admin']) } : { kind: 'Role', name: 'deployer' }, subjects: this.subjects(w) } };
      }
      case 'RoleBindingRemoved': {
        if (w.roleBindings.length === 0) return undefined;
        const name = w.roleBindings.splice(r.int(0, w.roleBindings.length - 1), 1)[0]!;
        return { type: 'RoleBindingRemoved', data: { workspaceId, name } };
      }
      case 'ClusterRoleBindingAdded': {
        if (w.clusterRoleBindings.length >= 10) return undefined;
        const name = `${r.pick(['cluster-readers', 'monitoring', 'auditors', 'sre'])}-${w.serial++}`;
        w.clusterRoleBindings.push(name);
        return { type: 'ClusterRoleBindingAdded', data: { workspaceId, name, clusterRole: r.pick(CLUSTER_ROLES), subjects: this.subjects(w) } };
      }
      case 'ClusterRoleBindingRemoved': {
        if (w.clusterRoleBindings.length === 0) return undefined;
        const name = w.clusterRoleBindings.splice(r.int(0, w.clusterRoleBindings.length - 1), 1)[0]!;
        return { type: 'ClusterRoleBindingRemoved', data: { workspaceId, name } };
      }
      case 'ImageRestricted': {
        if (w.namespaces.length === 0) return undefined;
        const namespace = r.pick(w.namespaces);
        const image = r.pick(IMAGES);
        w.images.add(`${namespace}|${image}`);
        return { type: 'ImageRestricted', data: { workspaceId, namespace, image } };
      }
      case 'ImageRestrictionLifted': {
        if (w.images.size === 0) return undefined;
        const key = r.pick([...w.images]);
        w.images.delete(key);
        const [namespace, image] = key.split('|') as [string, string];
        return { type: 'ImageRestrictionLifted', data: { workspaceId, namespace, image } };
      }
      case 'SecretWritten': {
        const name = w.secrets.size > 0 && r.chance(0.5) ? r.pick([...w.secrets.keys()]) : r.pick(SECRET_NAMES);
        const version = (w.secrets.get(name) ?? 0) + 1;
        w.secrets.set(name, version);
        const values: Record<string, { alg: 'A256GCM'; iv: string; ciphertext: string; tag: string }> = {};
        for (let i = r.int(1, 4); i > 0; i--) values[r.pick(SECRET_KEYS)] = { alg: 'A256GCM', iv: r.base64(12), ciphertext: r.base64(r.int(8, 96)), tag: r.base64(16) };
        const writer = [...w.members].find(([, role]) => role === 'admin')?.[0] ?? r.pick(w.organization.owners);
        return { type: 'SecretWritten', data: { workspaceId, name, version, values, writtenBy: writer } };
      }
      case 'SecretDeleted': {
        if (w.secrets.size === 0) return undefined;
        const name = r.pick([...w.secrets.keys()]);
        w.secrets.delete(name);
        return { type: 'SecretDeleted', data: { workspaceId, name } };
      }
      case 'WorkspaceDescribed':
        return { type: 'WorkspaceDescribed', data: { workspaceId, description: r.pick(DESCRIPTIONS) } };
      default:
        throw new Error(`unknown event kind ${kind}`);
    }
  }

  private addNamespace(w: Workspace): DomainEvent {
    let namespace = this.random.pick(NAMESPACES);
    while (w.namespaces.includes(namespace)) namespace = `${this.random.pick(NAMESPACES)}-${this.random.int(2, 99)}`;
    w.namespaces.push(namespace);
    return { type: 'NamespaceAdded', data: { workspaceId: w.id, namespace } };
  }

  private attachCluster(w: Workspace): DomainEvent {
    const clusterId = this.random.uuid();
    let name = `${this.random.pick(REGIONS)}-${this.random.pick(['prod', 'nonprod', 'shared', 'gpu'])}`;
    while ([...w.clusters.values()].includes(name)) name = `${name}-${this.random.int(2, 9)}`;
    w.clusters.set(clusterId, name);
    const connection = this.random.chance(0.8) ? { kind: 'kubeconfig', path: `/etc/canopy/clusters/${name}.yaml`, context: this.random.chance(0.5) ? name : null } : { kind: 'simulator', simulator: name };
    return { type: 'ClusterAttached', data: { workspaceId: w.id, clusterId, name, connection } };
  }

  private addMember(w: Workspace): DomainEvent | undefined {
    const userId = this.user(w.organization);
    if (w.members.has(userId) || w.organization.owners.includes(userId)) return undefined;
    const role: Role = this.random.pick(['viewer', 'member', 'member', 'member', 'admin']);
    w.members.set(userId, role);
    return { type: 'MemberAdded', data: { workspaceId: w.id, userId, role } };
  }

  private budget(w: Workspace): DomainEvent {
    const r = this.random;
    return { type: 'WorkspaceBudgetSet', data: { workspaceId: w.id, cpu: r.chance(0.1) ? 'unlimited' : r.int(8, 256) * 1000, memory: r.chance(0.1) ? 'unlimited' : r.int(16, 1024) * 1024 ** 3 } };
  }

  private subjects(w: Workspace): { kind: 'User' | 'Group' | 'ServiceAccount'; name: string; namespace: string | null }[] {
    const r = this.random;
    const subjects: { kind: 'User' | 'Group' | 'ServiceAccount'; name: string; namespace: string | null }[] = [];
    for (let i = r.int(1, 3); i > 0; i--) {
      const roll = r.next();
      if (roll < 0.6) subjects.push({ kind: 'User', name: r.pick(w.organization.users), namespace: null });
      else if (roll < 0.85) subjects.push({ kind: 'Group', name: `team-${r.pick(PROJECTS)}`, namespace: null });
      else subjects.push({ kind: 'ServiceAccount', name: r.pick(['ci', 'deployer', 'argocd']), namespace: w.namespaces.length > 0 ? r.pick(w.namespaces) : 'default' });
    }
    return subjects;
  }

  private onOrganization(organization: Organization, events: DomainEvent[], actor: string): PlannedAppend {
    const expectedRevision = organization.revision < 0n ? 'no_stream' : organization.revision;
    organization.revision += BigInt(events.length);
    return { stream: `organization-${organization.id}`, events, expectedRevision, actor };
  }

  private onWorkspace(workspace: Workspace, events: DomainEvent[], actor?: string): PlannedAppend {
    const expectedRevision = workspace.revision < 0n ? 'no_stream' : workspace.revision;
    workspace.revision += BigInt(events.length);
    const admins = [...workspace.members].filter(([, role]) => role === 'admin').map(([user]) => user);
    return { stream: `workspace-${workspace.id}`, events, expectedRevision, actor: actor ?? this.random.pick([...admins, ...workspace.organization.owners]) };
  }

  /** A correlation id per append, as the gateway gives each request. */
  correlationId(): string {
    return this.random.uuid();
  }
}

/** A clock for `EventLog`'s `occurredAt`: the fill's appends spread over the last 90 days, in order (never past the present). */
export class SimulatedClock {
  private at: number;
  private readonly step: number;
  /** `events`: the events the fill will append (about 75 per append). */
  constructor(events: number) {
    const span = 90 * 24 * 3600 * 1000;
    this.at = Date.now() - span;
    this.step = span / Math.max(1, events / 75);
  }
  tick(): void {
    this.at += this.step;
  }
  now = (): Date => new Date(Math.min(this.at, Date.now()));
}

/**
 * Appends `traffic` until the log holds at least `total` events (the last
 * append may pass it by up to one burst); `log` is an EventLog on the store
 * being filled (built with the clock's `now`).
 */
export async function fill(log: EventLog, traffic: Traffic, clock: SimulatedClock, total: number, progress?: (line: string) => void): Promise<FillFigures> {
  const started = performance.now();
  let appends = 0;
  let reported = 0;
  while (traffic.events < total) {
    const planned = traffic.next(total - traffic.events);
    clock.tick();
    await log.append(planned.stream, planned.events, { expectedRevision: planned.expectedRevision, context: { actor: planned.actor, correlationId: traffic.correlationId() } });
    appends++;
    if (progress && traffic.events - reported >= total / 10) {
      reported = traffic.events;
      const seconds = (performance.now() - started) / 1000;
      progress(`filled ${traffic.events.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} events (${Math.round(traffic.events / seconds).toLocaleString('en-US')}/s)`);
    }
  }
  return traffic.summary((performance.now() - started) / 1000, appends);
}
