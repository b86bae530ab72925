import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { createTeam, Q, TestGateway, unique, type TeamSetup } from './client.js';
import { eventually, WsClient } from './ws-client.js';

/**
 * What an operator sees, over real HTTP: `/readyz` (200 when the log, the
 * read models' database and the projectors are ready; 503 naming what is
 * not), the GraphQL counters and histograms on `/metrics`, and a request's
 * correlation id in its response header, in every log line it made, and in
 * the metadata of the events it appended.
 */

let gateway: TestGateway;
let team: TeamSetup;

beforeAll(async () => {
  gateway = await TestGateway.start();
  team = await createTeam(gateway);
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
});

afterEach(() => {
  jest.restoreAllMocks();
});

interface Readiness {
  status: string;
  reasons: string[];
  log: string;
  readModels: string;
  projections: { name: string; status: string }[];
}

async function readyz(): Promise<{ status: number; body: Readiness }> {
  const response = await fetch(`${gateway.url}/readyz`);
  return { status: response.status, body: (await response.json()) as Readiness };
}

describe('/readyz', () => {
  it('answers 200 once the log and the read models answer and every projector is live', async () => {
    let answer = await readyz();
    for (let attempt = 0; attempt < 100 && answer.status !== 200; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      answer = await readyz();
    }
    expect(answer).toEqual({
      status: 200,
      body: { status: 'ready', reasons: [], log: 'ok', readModels: 'ok', projections: expect.arrayContaining([expect.objectContaining({ name: 'membership', status: 'live' })]) },
    });
    expect(answer.body.projections.map((p) => p.name).sort()).toEqual(['audit', 'backups', 'cost', 'membership', 'quotas', 'workloads', 'workspace_summary']);
  });

  it('answers 503 naming the log while the log does not answer, and 200 again once it does', async () => {
    const headPosition = jest.spyOn(gateway.store, 'headPosition').mockRejectedValue(new Error('connect ECONNREFUSED 10.0.0.7:5432'));
    const down = await readyz();
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ status: 'not-ready', log: 'unavailable', readModels: 'ok', reasons: [expect.stringMatching(/The event log did not answer/)] });
    // The probe's error is logged, not answered: the endpoint is unauthenticated.
    expect(JSON.stringify(down.body)).not.toMatch(/10\.0\.0\.7/);
    expect(gateway.logText()).toMatch(/readiness: the event log does not answer/);
    headPosition.mockRestore();
    expect((await readyz()).status).toBe(200);
  });
});

describe('/metrics', () => {
  async function metrics(): Promise<string> {
    return (await fetch(`${gateway.url}/metrics`)).text();
  }

  function value(text: string, series: string): number {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? 0 : Number(line.slice(series.length + 1));
  }

  it('counts operations by name, type and outcome, and times them', async () => {
    const before = await metrics();
    await gateway.ok(team.owner, Q.organizations);
    await gateway.gql(team.owner, Q.describeWorkspace, { workspaceId: team.defaultWorkspaceId, expectedVersion: 999, description: 'stale' });
    await gateway.gql(team.owner, 'query Broken { nothingHere }');
    await gateway.gql(null, Q.organizations);
    const after = await metrics();
    const delta = (series: string) => value(after, series) - value(before, series);
    expect(delta('canopy_graphql_operations_total{operation="Organizations",type="query",outcome="success"}')).toBe(1);
    expect(delta('canopy_graphql_operations_total{operation="DescribeWorkspace",type="mutation",outcome="error"}')).toBe(1);
    expect(delta('canopy_graphql_operations_total{operation="unknown",type="unknown",outcome="refused"}')).toBe(1);
    expect(delta('canopy_graphql_requests_refused_total{code="UNAUTHENTICATED"}')).toBe(1);
    expect(delta('canopy_graphql_operation_duration_seconds_count{operation="Organizations",type="query"}')).toBe(1);
    expect(after).toMatch(/^canopy_graphql_operation_duration_seconds_bucket\{[^}]*operation="Organizations"[^}]*\} [1-9]\d*$/m);
    expect(after).toMatch(/^canopy_graphql_subscriptions_open 0$/m);
    expect(after).toMatch(/^canopy_projection_lag_events\{projector="membership",version="\d+"\} \d+$/m);
  });

  it('counts the subscriptions open', async () => {
    const open = async () => value(await metrics(), 'canopy_graphql_subscriptions_open');
    const client = await WsClient.as(gateway, team.owner);
    try {
      const stream = client.events(team.defaultWorkspaceId);
      await eventually(() => gateway.running.subscriptions.stats().subscriptions === 1, 'the subscription to open');
      expect(await open()).toBe(1);
      stream.unsubscribe();
      await eventually(() => gateway.running.subscriptions.stats().subscriptions === 0, 'the subscription to end');
      expect(await open()).toBe(0);
    } finally {
      await client.dispose();
    }
  });
});

describe('correlation ids', () => {
  it("returns the client's x-correlation-id, puts it in every log line of the request and in the metadata of the events it appended", async () => {
    const correlationId = `test-${randomUUID()}`;
    const { workspaceId } = (await gateway.ok(team.owner, Q.createWorkspace, { organizationId: team.organizationId, name: unique('traced'), kind: 'PROJECT' })).createWorkspace;
    const linesBefore = gateway.logLines.length;
    const response = await gateway.gql(team.owner, Q.addNamespace, { workspaceId, expectedVersion: 0, namespace: 'traced' }, { headers: { 'x-correlation-id': correlationId } });
    expect(response.body.errors).toBeUndefined();
    expect(response.headers.get('x-correlation-id')).toBe(correlationId);

    const lines = gateway.logLines.slice(linesBefore).map((line) => JSON.parse(line) as Record<string, unknown>);
    const ofRequest = lines.filter((line) => line['correlationId'] === correlationId);
    expect(ofRequest).toEqual(expect.arrayContaining([expect.objectContaining({ msg: 'mutation', operation: 'AddNamespace', user: team.owner })]));
    // Lines of the request carry no other id.
    expect(lines.filter((line) => line['msg'] === 'mutation' && line['correlationId'] !== correlationId)).toEqual([]);

    const events = await gateway.streamEvents(`workspace-${workspaceId}`);
    const added = events.find((event) => event.type === 'NamespaceAdded');
    expect(added?.metadata).toMatchObject({ correlationId, actor: team.owner });
  });

  it('generates one when the client sends none, and refuses one that cannot be logged safely', async () => {
    const response = await gateway.gql(team.owner, Q.organizations);
    expect(response.headers.get('x-correlation-id')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);

    const refused = await gateway.gql(team.owner, Q.organizations, {}, { headers: { 'x-correlation-id': 'has spaces\tand a tab' } });
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([{ message: expect.stringMatching(/x-correlation-id/), extensions: { code: 'BAD_USER_INPUT', field: 'x-correlation-id' } }]);
  });
});
