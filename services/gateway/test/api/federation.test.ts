import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import type { RunningGateway } from '../../src/gateway.js';
import { startSubgraph } from '../../src/subgraph.js';
import { createProject, createTeam, JWT_SECRET, Q, token, TestGateway, unique, type TeamSetup } from './client.js';

/**
 * Federation, seen from outside. The same data served two ways: by the
 * default gateway, with the workspaces subgraph in its own process, and by a
 * gateway routing to the workspaces subgraph served alone over HTTP (its own
 * server, real sockets). Both answer the same queries identically, errors
 * included; the subgraph alone authenticates every request and resolves
 * entity references only for callers who may see them.
 */

const DASHBOARD = `query Dashboard($organizationId: ID!, $workspaceId: ID!) {
  organizations { nodes { id name kind version owners workspaces { nodes { id name kind version } } } }
  workspaces(organizationId: $organizationId) {
    nodes {
      id name kind stage version memberCount clusterCount namespaceCount
      members { nodes { userId role source } }
      clusters { nodes { id workspaceId name connection { kind simulator } } }
      namespaces { nodes }
      budget { cpu memory }
      myPermissions { role canGovern canDelete }
    }
  }
  workspaceHistory(workspaceId: $workspaceId, first: 20) { edges { node { position type actor correlationId recordedAt data } } pageInfo { hasNextPage endCursor } }
}`;

const ENTITIES = `query ($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on Workspace { id name members { nodes { userId role } } }
    ... on Organization { id name owners }
    ... on Cluster { id workspaceId name }
  }
}`;

const ADD_NAMESPACE = `mutation ($workspaceId: ID!, $expectedVersion: Int!, $namespace: String!) {
  addNamespace(workspaceId: $workspaceId, expectedVersion: $expectedVersion, namespace: $namespace) { version position }
}`;

/** POSTs an operation straight to a server's /graphql (the subgraph alone), as `authorization` (or without the header). */
async function post(url: string, authorization: string | undefined, query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization === undefined ? {} : { authorization }) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as { data?: any; errors?: { message: string; path?: unknown[]; extensions?: Record<string, unknown> }[] } };
}

/** The workspaces subgraph served alone on `dataDir`, with the API tests' secret. */
function serveSubgraph(dataDir: string): Promise<RunningGateway> {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', CANOPY_DATA_DIR: dataDir, CANOPY_JWT_SECRET: JWT_SECRET, CANOPY_LOG_LEVEL: 'warn' });
  return startSubgraph(config, 'workspaces', pino({ level: 'silent' }));
}

describe('federation: the composed gateway, in process and over HTTP', () => {
  let inProcess: TestGateway;
  let subgraph: RunningGateway | undefined;
  let routing: TestGateway | undefined;
  let team: TeamSetup;
  let workspaceId: string;
  let version: number;
  let clusterId: string;
  const viewer = unique('viewer');
  const stranger = unique('stranger');
  /** What the in-process gateway answered, before it stopped. */
  const answered: { dashboard?: unknown; notFound?: unknown; conflict?: unknown; badTime?: unknown } = {};

  beforeAll(async () => {
    inProcess = await TestGateway.start();
    team = await createTeam(inProcess);
    ({ workspaceId, version } = await createProject(inProcess, team));
    version = (await inProcess.ok(team.owner, ADD_NAMESPACE, { workspaceId, expectedVersion: version, namespace: 'web' })).addNamespace.version;
    version = (await inProcess.ok(team.owner, Q.addMember, { workspaceId, expectedVersion: version, userId: viewer, role: 'VIEWER' })).addMember.version;
    const attached = (await inProcess.ok(team.owner, Q.attachCluster, { workspaceId, expectedVersion: version, name: 'sim', simulator: 'kind' })).attachCluster;
    ({ version, clusterId } = attached);

    answered.dashboard = await inProcess.gql(team.owner, DASHBOARD, { organizationId: team.organizationId, workspaceId });
    answered.notFound = (await inProcess.gql(stranger, Q.workspace, { id: workspaceId })).body;
    answered.conflict = (await inProcess.gql(team.owner, ADD_NAMESPACE, { workspaceId, expectedVersion: version - 1, namespace: 'late' })).body;
    const badTime = await inProcess.gql(team.owner, Q.workspaceHistory, { workspaceId, since: 'yesterday-ish' });
    answered.badTime = { status: badTime.status, body: badTime.body };

    // The same data directory, now served by the subgraph alone, and a gateway routing to it.
    await inProcess.stopServer();
    subgraph = await serveSubgraph(inProcess.dataDir);
    routing = await TestGateway.start({ env: { CANOPY_SUBGRAPH_WORKSPACES_URL: `${subgraph.url}/graphql` } });
  }, 120_000);

  afterAll(async () => {
    await routing?.stop();
    await subgraph?.stop();
    await inProcess?.stop();
  });

  it('answers in process: queries spanning organizations, workspaces, their lists and history', () => {
    const { status, body } = answered.dashboard as { status: number; body: { data: any; errors?: unknown } };
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    const listed = body.data.workspaces.find((w: { id: string }) => w.id === workspaceId);
    expect(listed).toMatchObject({ namespaces: ['web'], clusters: [{ id: clusterId, workspaceId, name: 'sim' }], myPermissions: { role: 'OWNER' } });
    expect(body.data.workspaceHistory.edges.map((e: { node: { type: string } }) => e.node.type)).toEqual(['WorkspaceCreated', 'NamespaceAdded', 'MemberAdded', 'ClusterAttached']);
  });

  it('answers the same query identically through a gateway routing to the subgraph over HTTP', async () => {
    const { status, body } = await routing!.gql(team.owner, DASHBOARD, { organizationId: team.organizationId, workspaceId });
    expect({ status, body }).toEqual({ status: 200, body: (answered.dashboard as { body: unknown }).body });
  });

  it('keeps error codes, details and paths across the hop, without internals', async () => {
    const notFound = (await routing!.gql(stranger, Q.workspace, { id: workspaceId })).body;
    expect(notFound).toEqual(answered.notFound);
    expect(notFound.errors).toEqual([{ message: expect.any(String), path: ['workspace'], extensions: { code: 'NOT_FOUND', workspaceId } }]);
    const conflict = (await routing!.gql(team.owner, ADD_NAMESPACE, { workspaceId, expectedVersion: version - 1, namespace: 'late' })).body;
    expect(conflict).toEqual(answered.conflict);
    expect(conflict.errors?.[0]?.extensions).toEqual({ code: 'CONFLICT', field: 'expectedVersion', workspaceId, currentVersion: version });
    expect(JSON.stringify(conflict)).not.toMatch(/serviceName|stacktrace|DOWNSTREAM/);
  });

  it("refuses a bad custom scalar (DateTime) at the gateway with the subgraph's own rules: BAD_USER_INPUT, HTTP 400", async () => {
    expect(answered.badTime).toMatchObject({ status: 400, body: { errors: [{ extensions: { code: 'BAD_USER_INPUT' } }] } });
    const badTime = await routing!.gql(team.owner, Q.workspaceHistory, { workspaceId, since: 'yesterday-ish' });
    expect({ status: badTime.status, body: badTime.body }).toEqual(answered.badTime);
    const literal = await routing!.gql(team.owner, `{ workspaceHistory(workspaceId: "${workspaceId}", since: "yesterday-ish") { pageInfo { hasNextPage } } }`);
    expect(literal.status).toBe(400);
    expect(literal.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('refuses a request without a token at the gateway (401), and the subgraph alone refuses it too', async () => {
    const atGateway = await routing!.gql(null, Q.workspace, { id: workspaceId });
    expect(atGateway.status).toBe(401);
    expect(atGateway.body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'missing_token' });
    const atSubgraph = await post(subgraph!.url, undefined, Q.workspace, { id: workspaceId });
    expect(atSubgraph.status).toBe(401);
    expect(atSubgraph.body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'missing_token' });
  });

  it("forwards the caller's identity and correlation id: the subgraph records the change as theirs, and shows it to them in their next query", async () => {
    const correlationId = `federation-${unique('req')}`;
    const change = await routing!.gql(team.owner, ADD_NAMESPACE, { workspaceId, expectedVersion: version, namespace: 'api' }, { headers: { 'x-correlation-id': correlationId } });
    expect(change.body.errors).toBeUndefined();
    version = change.body.data.addNamespace.version;
    // Read-your-writes across the hop: the subgraph process remembers the caller's write.
    const after = await routing!.ok(team.owner, Q.workspace, { id: workspaceId });
    expect(after.workspace.namespaces).toEqual(['api', 'web']);
    const history = await routing!.ok(team.owner, Q.workspaceHistory, { workspaceId, newestFirst: true, first: 1 });
    expect(history.workspaceHistory.edges[0].node).toMatchObject({ type: 'NamespaceAdded', actor: team.owner, correlationId });
    // canopy-read-after is forwarded too (and checked at the gateway).
    const readAfter = await routing!.gql(team.owner, Q.workspace, { id: workspaceId }, { headers: { 'canopy-read-after': change.body.data.addNamespace.position } });
    expect(readAfter.body.data.workspace.version).toBe(version);
    expect((await routing!.gql(team.owner, Q.workspace, { id: workspaceId }, { headers: { 'canopy-read-after': 'soon' } })).status).toBe(400);
  });

  it('hides federation internals from the composed API', async () => {
    const response = await routing!.gql(team.owner, ENTITIES, { representations: [{ __typename: 'Workspace', id: workspaceId }] });
    expect(response.status).toBe(400);
    expect(response.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('serves health: the gateway reports the subgraph it routes to', async () => {
    const response = await fetch(`${routing!.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok', subgraphs: [{ name: 'workspaces', status: 'ok' }] });
  });

  describe('the subgraph alone', () => {
    const references = () => [
      { __typename: 'Workspace', id: workspaceId },
      { __typename: 'Organization', id: team.organizationId },
      { __typename: 'Cluster', workspaceId, id: clusterId },
    ];

    it('resolves entity references (_entities) for a caller with a role', async () => {
      const { status, body } = await post(subgraph!.url, `Bearer ${await token(viewer)}`, ENTITIES, { representations: references() });
      expect(status).toBe(200);
      expect(body.errors).toBeUndefined();
      const [ws, organization, cluster] = body.data._entities;
      expect(ws).toMatchObject({ __typename: 'Workspace', id: workspaceId });
      expect(ws.members.nodes.map((m: { userId: string }) => m.userId)).toContain(viewer);
      expect(organization).toMatchObject({ __typename: 'Organization', id: team.organizationId, owners: [team.owner] });
      expect(cluster).toEqual({ __typename: 'Cluster', id: clusterId, workspaceId, name: 'sim' });
    });

    it('resolves references to null for a caller with no role in them, saying nothing about them', async () => {
      const { status, body } = await post(subgraph!.url, `Bearer ${await token(stranger)}`, ENTITIES, { representations: references() });
      expect(status).toBe(200);
      expect(body).toEqual({ data: { _entities: [null, null, null] } });
      const unknown = await post(subgraph!.url, `Bearer ${await token(team.owner)}`, ENTITIES, {
        representations: [{ __typename: 'Cluster', workspaceId, id: '00000000-0000-4000-8000-000000000000' }],
      });
      expect(unknown.body).toEqual({ data: { _entities: [null] } });
    });

    it('publishes its SDL with @key entities and the Federation 2 @link', async () => {
      const { body } = await post(subgraph!.url, `Bearer ${await token(viewer)}`, '{ _service { sdl } }');
      const sdl: string = body.data._service.sdl;
      expect(sdl).toMatch(/@link\(url: "https:\/\/specs\.apollo\.dev\/federation\/v2\.\d+"/);
      expect(sdl).toMatch(/type Workspace\s+@key\(fields: "id"\)/);
      expect(sdl).toMatch(/type Organization\s+@key\(fields: "id"\)/);
      expect(sdl).toMatch(/type Cluster\s+@key\(fields: "workspaceId id"\)/);
    });
  });

  // Last: stops the subgraph.
  it('answers SUBGRAPH_UNAVAILABLE and reports it on /healthz when the subgraph does not answer', async () => {
    await subgraph!.stop();
    subgraph = undefined;
    const { status, body } = await routing!.gql(team.owner, Q.workspace, { id: workspaceId });
    expect(status).toBe(200);
    expect(body.data ?? null).toBeNull();
    expect(body.errors).toEqual([{ message: expect.stringContaining('retry'), extensions: { code: 'SUBGRAPH_UNAVAILABLE', subgraph: 'workspaces' } }]);
    const health = await fetch(`${routing!.url}/healthz`);
    expect(health.status).toBe(503);
    expect(await health.json()).toEqual({ status: 'unavailable', subgraphs: [{ name: 'workspaces', status: 'unavailable' }] });
    expect(routing!.logText()).toContain('a subgraph did not answer');
  });
});
