/**
 * The API suite's client: a gateway started in-process on a temporary data
 * directory (PORT 0, a fixed HS256 secret), spoken to with `fetch` over real
 * sockets, with the gateway's own pino output captured in memory.
 */
import { createHash, randomUUID } from 'node:crypto';
import { constants, cpSync } from 'node:fs';
import { access, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { expect } from '@jest/globals';
import { pino, type Level } from 'pino';
import { openPgliteEventStore, type EventStore, type RecordedEvent } from '@canopy/eventstore';
import { openKeyStore } from '@canopy/keystore';
import { openReadModelDb } from '@canopy/projections';
import { mintToken } from '../../src/auth/index.js';
import { loadConfig } from '../../src/config.js';
import { startGateway, type RunningGateway } from '../../src/gateway.js';

export const JWT_SECRET = 'canopy-api-tests-fixed-secret-0123456789abcdef';
export const ISSUER = 'canopy';
export const AUDIENCE = 'canopy';
const SECRET_BYTES = new TextEncoder().encode(JWT_SECRET);

export interface GqlError {
  message: string;
  path?: (string | number)[];
  extensions?: Record<string, unknown> & { code?: string; field?: string };
}

export interface GqlResponse<T = any> {
  status: number;
  headers: Headers;
  body: { data?: T | null; errors?: GqlError[] };
}

/** A user id (a valid token is minted for it), `null` (no Authorization header) or a raw Authorization header value. */
export type Caller = string | null | { authorization: string };

export interface GqlOptions {
  /** Sent as is instead of JSON-encoding { query, variables }. */
  rawBody?: string;
  headers?: Record<string, string>;
}

/** Mints a valid token for `userId` signed with `secret` (default: the gateway's), or one that expired `expiredSecondsAgo` ago. */
export async function token(userId: string, options: { secret?: string; expiredSecondsAgo?: number; ttlSeconds?: number } = {}): Promise<string> {
  const ttlSeconds = options.ttlSeconds ?? 3600;
  const now = options.expiredSecondsAgo === undefined ? new Date() : new Date(Date.now() - (options.expiredSecondsAgo + ttlSeconds) * 1000);
  return mintToken({
    secret: options.secret === undefined ? SECRET_BYTES : new TextEncoder().encode(options.secret),
    userId,
    ttlSeconds,
    issuer: ISSUER,
    audience: AUDIENCE,
    now,
  });
}

export class TestGateway {
  private readonly tokens = new Map<string, string>();
  private stopped = false;

  private constructor(
    readonly dataDir: string,
    private readonly ownsDataDir: boolean,
    /** Every line the gateway logged (pino JSON), in order, across restarts. */
    readonly logLines: string[],
    public running: RunningGateway,
    private readonly logLevel: Level,
  ) {}

  /** Starts a gateway on `dataDir` (a new temporary one, with empty PGlite databases for the log and the keys, when absent). */
  static async start(options: { dataDir?: string; env?: Record<string, string>; logLevel?: Level } = {}): Promise<TestGateway> {
    const dataDir = options.dataDir ?? (await freshDataDir());
    const lines: string[] = [];
    const level = options.logLevel ?? 'info';
    const running = await startGateway(TestGateway.config(dataDir, options.env), TestGateway.logger(lines, level));
    return new TestGateway(dataDir, options.dataDir === undefined, lines, running, level);
  }

  /** The per-caller rate is off unless a test sets it (safety.test.ts does): suites like concurrency.test.ts send thousands of operations a minute as one user. */
  private static config(dataDir: string, env: Record<string, string> = {}) {
    return loadConfig({ PORT: '0', HOST: '127.0.0.1', CANOPY_DATA_DIR: dataDir, CANOPY_JWT_SECRET: JWT_SECRET, CANOPY_LOG_LEVEL: 'info', CANOPY_RATE_LIMIT_PER_MINUTE: '0', ...env });
  }

  private static logger(lines: string[], level: Level) {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(line);
        callback();
      },
    });
    return pino({ level }, sink);
  }

  get url(): string {
    return this.running.url;
  }

  get store(): EventStore {
    if (!this.running.store) throw new Error('this gateway routes to a remote workspaces subgraph: it has no log of its own');
    return this.running.store;
  }

  /** Stops this gateway and starts a new one on the same data directory (same captured log). */
  async restart(env?: Record<string, string>): Promise<void> {
    await this.whileStopped(async () => {}, env);
  }

  /**
   * Stops the gateway, runs `work` (e.g. opening its PGlite databases, which serve one process at a
   * time), and starts it again on the same data directory, even when `work` throws.
   */
  async whileStopped<T>(work: () => Promise<T>, env?: Record<string, string>): Promise<T> {
    await this.stopServer();
    try {
      return await work();
    } finally {
      this.running = await startGateway(TestGateway.config(this.dataDir, env), TestGateway.logger(this.logLines, this.logLevel));
      this.stopped = false;
    }
  }

  /** Stops the gateway process part (idempotent), keeping the data directory: its databases can then be opened directly. */
  async stopServer(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.running.stop();
  }

  /** Stops the gateway (if still running) and removes the data directory when this helper created it. */
  async stop(options: { removeDataDir?: boolean } = {}): Promise<void> {
    await this.stopServer();
    if (options.removeDataDir ?? this.ownsDataDir) await rm(this.dataDir, { recursive: true, force: true });
  }

  /** Everything logged so far, as one string. */
  logText(): string {
    return this.logLines.join('\n');
  }

  async authorization(caller: Caller): Promise<string | undefined> {
    if (caller === null) return undefined;
    if (typeof caller === 'object') return caller.authorization;
    let minted = this.tokens.get(caller);
    if (!minted) {
      minted = await token(caller);
      this.tokens.set(caller, minted);
    }
    return `Bearer ${minted}`;
  }

  /** POSTs a GraphQL operation to /graphql as `caller`. */
  async gql<T = any>(caller: Caller, query: string, variables: Record<string, unknown> = {}, options: GqlOptions = {}): Promise<GqlResponse<T>> {
    const authorization = await this.authorization(caller);
    const response = await fetch(`${this.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization === undefined ? {} : { authorization }), ...options.headers },
      body: options.rawBody ?? JSON.stringify({ query, variables }),
    });
    const text = await response.text();
    let body: GqlResponse<T>['body'];
    try {
      body = JSON.parse(text) as GqlResponse<T>['body'];
    } catch {
      throw new Error(`/graphql answered ${response.status} with a body that is not JSON: ${text.slice(0, 500)}`);
    }
    return { status: response.status, headers: response.headers, body: withListsOfNodes(body) };
  }

  /** Runs an operation that must succeed; returns its data (fails the test with the errors otherwise). */
  async ok<T = any>(caller: Caller, query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const response = await this.gql<T>(caller, query, variables);
    if (response.status !== 200 || response.body.errors !== undefined || !response.body.data) {
      throw new Error(`expected success, got HTTP ${response.status}: ${JSON.stringify(response.body.errors ?? response.body)}`);
    }
    return response.body.data;
  }

  /** The log's head position (0n while empty). */
  async head(): Promise<bigint> {
    return (await this.store.headPosition()) ?? 0n;
  }

  /** Runs `call` and asserts nothing was appended to the log meanwhile; returns what `call` returned. */
  async expectLogUnchanged<T>(call: () => Promise<T>): Promise<T> {
    const before = await this.head();
    const result = await call();
    expect(await this.head()).toBe(before);
    return result;
  }

  /**
   * Sends an operation that must fail with one error of `code` (and `field`, when given), appending
   * nothing; returns the error.
   */
  async expectError(caller: Caller, query: string, variables: Record<string, unknown>, code: string, field?: string): Promise<GqlError> {
    const response = await this.expectLogUnchanged(() => this.gql(caller, query, variables));
    const errors = response.body.errors ?? [];
    if (errors.length !== 1 || errors[0]!.extensions?.code !== code) {
      throw new Error(`expected one ${code} error, got HTTP ${response.status}: ${JSON.stringify(response.body)}`);
    }
    const [error] = errors;
    if (field !== undefined) expect(error!.extensions?.field).toBe(field);
    // A failed mutation returns no data (its result type is non-null).
    expect(response.body.data ?? null).toBeNull();
    return error!;
  }

  /** Every event of a stream, in order. */
  async streamEvents(stream: string): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    for await (const event of this.store.readStream(stream)) events.push(event);
    return events;
  }

  /** Every event in the log, in order. */
  async allEvents(): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    for await (const event of this.store.readAll()) events.push(event);
    return events;
  }
}

/**
 * A new data directory whose `log`, `keys` and `read-models` are copies of empty, ready-made databases. Creating a PGlite
 * database (initdb) takes 4-5 s on a small machine, copying one a fraction of that: the empty databases are
 * made once, with the log's and the key store's own `open` (so with their tables), and kept in the temporary
 * directory under a name that changes with the PGlite version and with the code that creates the tables.
 * Every gateway gets copies.
 */
export async function freshDataDir(): Promise<string> {
  const templates = await emptyDatabaseTemplates();
  const dataDir = await mkdtemp(join(await scratchDir(), 'canopy-api-'));
  // cpSync: fs.promises.cp is several times slower on a directory of ~1,000 small files.
  cpSync(templates.log, join(dataDir, 'log'), { recursive: true });
  cpSync(templates.keys, join(dataDir, 'keys'), { recursive: true });
  cpSync(templates.readModels, join(dataDir, 'read-models'), { recursive: true });
  return dataDir;
}

async function emptyDatabaseTemplates(): Promise<{ log: string; keys: string; readModels: string }> {
  const root = await repositoryRoot();
  const pglite = JSON.parse(await readFile(join(root, 'node_modules', '@electric-sql', 'pglite', 'package.json'), 'utf8')) as { version: string };
  const hash = createHash('sha256').update(pglite.version).update('log,keys,read-models');
  for (const dir of [join(root, 'infra', 'eventstore', 'dist', 'src', 'sql'), join(root, 'infra', 'keystore', 'dist', 'src')]) {
    for (const file of (await readdir(dir)).filter((name) => name.endsWith('.js')).sort()) hash.update(file).update(await readFile(join(dir, file)));
  }
  const template = join(tmpdir(), `canopy-api-templates-${pglite.version}-${hash.digest('hex').slice(0, 12)}`);
  const ready = join(template, 'ready');
  if (!(await exists(ready))) {
    const building = `${template}.${process.pid}.${randomUUID().slice(0, 8)}`;
    const store = await openPgliteEventStore({ dataDir: join(building, 'log') });
    await store.close();
    const keys = await openKeyStore({ kind: 'pglite', dataDir: join(building, 'keys') }, Buffer.alloc(32));
    await keys.close();
    // The read models' database is left empty: the gateway's runner creates its tables.
    await (await openReadModelDb({ kind: 'pglite', dataDir: join(building, 'read-models') })).close();
    await writeFile(join(building, 'ready'), `${new Date().toISOString()}\n`);
    try {
      await rename(building, template);
    } catch {
      // Another test file made them first (or a half-made one is in the way): use this private copy.
      if (!(await exists(ready))) return { log: join(building, 'log'), keys: join(building, 'keys'), readModels: join(building, 'read-models') };
      await rm(building, { recursive: true, force: true });
    }
  }
  return { log: join(template, 'log'), keys: join(template, 'keys'), readModels: join(template, 'read-models') };
}

/**
 * Where data directories go (removed when their gateway stops): /dev/shm (memory) when there is one, the
 * temporary directory otherwise. PGlite writes and syncs its files like PostgreSQL; in memory the suite runs
 * markedly faster, with the same files and restarts. (The templates stay on disk, in the temporary directory.)
 */
async function scratchDir(): Promise<string> {
  const shm = '/dev/shm';
  try {
    await access(shm, constants.W_OK);
    return shm;
  } catch {
    return tmpdir();
  }
}

/** The monorepo's root: the nearest folder above this one holding node_modules/@electric-sql/pglite. */
async function repositoryRoot(): Promise<string> {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (await exists(join(dir, 'node_modules', '@electric-sql', 'pglite', 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error('cannot find node_modules/@electric-sql/pglite above the API tests');
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Every list of the API is a Relay connection. Where an operation selects
 * only a connection's `nodes`, the suite reads the nodes as a plain list
 * (`workspace.members[0]`); the paging itself is tested with `edges` and
 * `pageInfo` selected (connections.test.ts), which this leaves alone.
 */
function withListsOfNodes<T>(value: T): T {
  if (Array.isArray(value)) return value.map(withListsOfNodes) as T;
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  if (entries.length === 1 && entries[0]![0] === 'nodes' && Array.isArray(entries[0]![1])) return withListsOfNodes(entries[0]![1]) as T;
  return Object.fromEntries(entries.map(([key, inner]) => [key, withListsOfNodes(inner)])) as T;
}

/** A name nobody else in the suite uses (organizations, users). */
export function unique(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

// ---- The operations a frontend would send. -------------------------------------------------

export const WORKSPACE_FIELDS = `
  id organizationId name kind stage description version memberCount clusterCount namespaceCount
  members { nodes { userId role source } }
  clusters { nodes { id name connection { kind kubeconfigPath kubeconfigContext simulator } } }
  namespaces { nodes }
  budget { cpu memory }
  quotas { nodes { namespace clusterId cpu memory } }
  roleBindings { nodes { name namespaces roleKind roleName subjects { kind name namespace } } }
  clusterRoleBindings { nodes { name clusterRole subjects { kind name namespace } } }
  restrictedImages { nodes { namespace image } }
  secrets { nodes { name version keys updatedBy updatedAt } }
  myPermissions { role canRead canCreateResources canGovern canManageSecrets canManageMembers canRename canDelete }
`;

const HISTORY_PAGE = `edges { cursor node { position stream revision organizationId workspaceId type actor correlationId recordedAt data } } pageInfo { hasNextPage endCursor }`;

const CHANGE = `workspaceId version changed replayed clusterId position consistent workspace { ${WORKSPACE_FIELDS} }`;

export const Q = {
  createOrganization: `mutation CreateOrganization($name: String!, $kind: OrganizationKind!, $key: String) {
    createOrganization(name: $name, kind: $kind, idempotencyKey: $key) {
      organizationId version changed replayed organization { id name kind version owners workspaces { nodes { id name kind version } } }
    }
  }`,
  addOrganizationOwner: `mutation AddOrganizationOwner($organizationId: ID!, $userId: String!, $key: String) {
    addOrganizationOwner(organizationId: $organizationId, userId: $userId, idempotencyKey: $key) { organizationId version changed replayed organization { owners } }
  }`,
  createWorkspace: `mutation CreateWorkspace($organizationId: ID!, $name: String!, $kind: NewWorkspaceKind!, $stage: String, $description: String, $key: String) {
    createWorkspace(organizationId: $organizationId, name: $name, kind: $kind, stage: $stage, description: $description, idempotencyKey: $key) { ${CHANGE} }
  }`,
  renameWorkspace: `mutation RenameWorkspace($workspaceId: ID!, $expectedVersion: Int!, $name: String!, $key: String) {
    renameWorkspace(workspaceId: $workspaceId, expectedVersion: $expectedVersion, name: $name, idempotencyKey: $key) { ${CHANGE} }
  }`,
  describeWorkspace: `mutation DescribeWorkspace($workspaceId: ID!, $expectedVersion: Int!, $description: String!, $key: String) {
    describeWorkspace(workspaceId: $workspaceId, expectedVersion: $expectedVersion, description: $description, idempotencyKey: $key) { ${CHANGE} }
  }`,
  deleteWorkspace: `mutation DeleteWorkspace($workspaceId: ID!, $expectedVersion: Int!, $key: String) {
    deleteWorkspace(workspaceId: $workspaceId, expectedVersion: $expectedVersion, idempotencyKey: $key) { workspaceId version changed replayed workspace { id } }
  }`,
  addMember: `mutation AddMember($workspaceId: ID!, $expectedVersion: Int!, $userId: String!, $role: WorkspaceRole!, $key: String) {
    addMember(workspaceId: $workspaceId, expectedVersion: $expectedVersion, userId: $userId, role: $role, idempotencyKey: $key) { ${CHANGE} }
  }`,
  changeMemberRole: `mutation ChangeMemberRole($workspaceId: ID!, $expectedVersion: Int!, $userId: String!, $role: WorkspaceRole!, $key: String) {
    changeMemberRole(workspaceId: $workspaceId, expectedVersion: $expectedVersion, userId: $userId, role: $role, idempotencyKey: $key) { ${CHANGE} }
  }`,
  removeMember: `mutation RemoveMember($workspaceId: ID!, $expectedVersion: Int!, $userId: String!, $key: String) {
    removeMember(workspaceId: $workspaceId, expectedVersion: $expectedVersion, userId: $userId, idempotencyKey: $key) { ${CHANGE} }
  }`,
  attachCluster: `mutation AttachCluster($workspaceId: ID!, $expectedVersion: Int!, $name: String!, $kubeconfig: KubeconfigInput, $simulator: String, $key: String) {
    attachCluster(workspaceId: $workspaceId, expectedVersion: $expectedVersion, name: $name, kubeconfig: $kubeconfig, simulator: $simulator, idempotencyKey: $key) { ${CHANGE} }
  }`,
  detachCluster: `mutation DetachCluster($workspaceId: ID!, $expectedVersion: Int!, $clusterId: ID!, $key: String) {
    detachCluster(workspaceId: $workspaceId, expectedVersion: $expectedVersion, clusterId: $clusterId, idempotencyKey: $key) { ${CHANGE} }
  }`,
  addNamespace: `mutation AddNamespace($workspaceId: ID!, $expectedVersion: Int!, $namespace: String!, $key: String) {
    addNamespace(workspaceId: $workspaceId, expectedVersion: $expectedVersion, namespace: $namespace, idempotencyKey: $key) { workspaceId version changed replayed }
  }`,
  removeNamespace: `mutation RemoveNamespace($workspaceId: ID!, $expectedVersion: Int!, $namespace: String!, $key: String) {
    removeNamespace(workspaceId: $workspaceId, expectedVersion: $expectedVersion, namespace: $namespace, idempotencyKey: $key) { ${CHANGE} }
  }`,
  setWorkspaceBudget: `mutation SetWorkspaceBudget($workspaceId: ID!, $expectedVersion: Int!, $cpu: String!, $memory: String!, $key: String) {
    setWorkspaceBudget(workspaceId: $workspaceId, expectedVersion: $expectedVersion, cpu: $cpu, memory: $memory, idempotencyKey: $key) { ${CHANGE} }
  }`,
  setNamespaceQuota: `mutation SetNamespaceQuota($workspaceId: ID!, $expectedVersion: Int!, $namespace: String!, $clusterId: ID, $cpu: String!, $memory: String!, $key: String) {
    setNamespaceQuota(workspaceId: $workspaceId, expectedVersion: $expectedVersion, namespace: $namespace, clusterId: $clusterId, cpu: $cpu, memory: $memory, idempotencyKey: $key) { ${CHANGE} }
  }`,
  removeNamespaceQuota: `mutation RemoveNamespaceQuota($workspaceId: ID!, $expectedVersion: Int!, $namespace: String!, $clusterId: ID, $key: String) {
    removeNamespaceQuota(workspaceId: $workspaceId, expectedVersion: $expectedVersion, namespace: $namespace, clusterId: $clusterId, idempotencyKey: $key) { ${CHANGE} }
  }`,
  addRoleBinding: `mutation AddRoleBinding($workspaceId: ID!, $expectedVersion: Int!, $binding: RoleBindingInput!, $key: String) {
    addRoleBinding(workspaceId: $workspaceId, expectedVersion: $expectedVersion, binding: $binding, idempotencyKey: $key) { ${CHANGE} }
  }`,
  removeRoleBinding: `mutation RemoveRoleBinding($workspaceId: ID!, $expectedVersion: Int!, $name: String!, $key: String) {
    removeRoleBinding(workspaceId: $workspaceId, expectedVersion: $expectedVersion, name: $name, idempotencyKey: $key) { ${CHANGE} }
  }`,
  addClusterRoleBinding: `mutation AddClusterRoleBinding($workspaceId: ID!, $expectedVersion: Int!, $binding: ClusterRoleBindingInput!, $key: String) {
    addClusterRoleBinding(workspaceId: $workspaceId, expectedVersion: $expectedVersion, binding: $binding, idempotencyKey: $key) { ${CHANGE} }
  }`,
  removeClusterRoleBinding: `mutation RemoveClusterRoleBinding($workspaceId: ID!, $expectedVersion: Int!, $name: String!, $key: String) {
    removeClusterRoleBinding(workspaceId: $workspaceId, expectedVersion: $expectedVersion, name: $name, idempotencyKey: $key) { ${CHANGE} }
  }`,
  restrictImage: `mutation RestrictImage($workspaceId: ID!, $expectedVersion: Int!, $namespace: String!, $image: String!, $key: String) {
    restrictImage(workspaceId: $workspaceId, expectedVersion: $expectedVersion, namespace: $namespace, image: $image, idempotencyKey: $key) { ${CHANGE} }
  }`,
  liftImageRestriction: `mutation LiftImageRestriction($workspaceId: ID!, $expectedVersion: Int!, $namespace: String!, $image: String!, $key: String) {
    liftImageRestriction(workspaceId: $workspaceId, expectedVersion: $expectedVersion, namespace: $namespace, image: $image, idempotencyKey: $key) { ${CHANGE} }
  }`,
  writeSecret: `mutation WriteSecret($workspaceId: ID!, $expectedVersion: Int!, $name: String!, $values: [SecretValueInput!]!, $key: String) {
    writeSecret(workspaceId: $workspaceId, expectedVersion: $expectedVersion, name: $name, values: $values, idempotencyKey: $key) { ${CHANGE} }
  }`,
  deleteSecret: `mutation DeleteSecret($workspaceId: ID!, $expectedVersion: Int!, $name: String!, $key: String) {
    deleteSecret(workspaceId: $workspaceId, expectedVersion: $expectedVersion, name: $name, idempotencyKey: $key) { ${CHANGE} }
  }`,
  workspace: `query Workspace($id: ID!) { workspace(id: $id) { ${WORKSPACE_FIELDS} } }`,
  workspaces: `query Workspaces($organizationId: ID) { workspaces(organizationId: $organizationId) { nodes { ${WORKSPACE_FIELDS} } } }`,
  myPermissions: `query MyPermissions($workspaceId: ID!) {
    myPermissions(workspaceId: $workspaceId) { role canRead canCreateResources canGovern canManageSecrets canManageMembers canRename canDelete }
  }`,
  organizations: `query Organizations { organizations { nodes { id name kind version owners workspaces { nodes { id name kind } } } } }`,
  organization: `query Organization($id: ID!) { organization(id: $id) { id name kind version owners workspaces { nodes { id name kind } } } }`,
  addOrganizationAuditor: `mutation AddOrganizationAuditor($organizationId: ID!, $userId: String!, $key: String) {
    addOrganizationAuditor(organizationId: $organizationId, userId: $userId, idempotencyKey: $key) { organizationId version changed replayed consistent organization { id } }
  }`,
  removeOrganizationAuditor: `mutation RemoveOrganizationAuditor($organizationId: ID!, $userId: String!, $key: String) {
    removeOrganizationAuditor(organizationId: $organizationId, userId: $userId, idempotencyKey: $key) { organizationId version changed replayed consistent organization { id } }
  }`,
  workspaceHistory: `query WorkspaceHistory($workspaceId: ID!, $first: Int, $after: String, $since: DateTime, $until: DateTime, $actor: String, $types: [String!], $newestFirst: Boolean) {
    workspaceHistory(workspaceId: $workspaceId, first: $first, after: $after, since: $since, until: $until, actor: $actor, types: $types, newestFirst: $newestFirst) {
      ${HISTORY_PAGE}
    }
  }`,
  organizationHistory: `query OrganizationHistory($organizationId: ID!, $first: Int, $after: String, $actor: String, $types: [String!], $newestFirst: Boolean) {
    organizationHistory(organizationId: $organizationId, first: $first, after: $after, actor: $actor, types: $types, newestFirst: $newestFirst) {
      ${HISTORY_PAGE}
    }
  }`,
} as const;

// ---- Setup shortcuts. -----------------------------------------------------------------------

export interface TeamSetup {
  owner: string;
  organizationId: string;
  defaultWorkspaceId: string;
}

/** A team organization owned by a new user; returns its id and its default workspace's. */
export async function createTeam(gateway: TestGateway, owner = unique('owner')): Promise<TeamSetup> {
  const data = await gateway.ok(owner, Q.createOrganization, { name: unique('Team'), kind: 'TEAM' });
  const organization = data.createOrganization.organization;
  return { owner, organizationId: organization.id, defaultWorkspaceId: organization.workspaces[0].id };
}

/** A project workspace in the organization, created by its owner; returns its id and version. */
export async function createProject(gateway: TestGateway, team: TeamSetup, name = unique('ws')): Promise<{ workspaceId: string; version: number }> {
  const data = await gateway.ok(team.owner, Q.createWorkspace, { organizationId: team.organizationId, name, kind: 'PROJECT' });
  return { workspaceId: data.createWorkspace.workspaceId, version: data.createWorkspace.version };
}
