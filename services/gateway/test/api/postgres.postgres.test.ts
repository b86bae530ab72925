import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { requirePostgresUrl } from '@canopy/eventstore/testing';
import { createProject, createTeam, Q, TestGateway, type TeamSetup } from './client.js';
import { PROJECTORS } from '../../src/read-models.js';
import { GatewayPair } from './gateway-pair.js';

/**
 * The gateway on PostgreSQL: log, keys and read models on the server, two
 * gateway processes' worth of servers sharing them (nothing is locked).
 * A change made through one is answered once its read models show it, and
 * the other serves it too; a restart resumes the projections where they were.
 */
const url = requirePostgresUrl();

const DESCRIBE = `mutation ($workspaceId: ID!, $expectedVersion: Int!, $description: String!) {
  describeWorkspace(workspaceId: $workspaceId, expectedVersion: $expectedVersion, description: $description) { version position }
}`;
/** How long the read models are held; well under the wait bound (5 s by default). */
const HOLD_MS = 400;

let pair: GatewayPair;
let a: TestGateway;
let b: TestGateway;
let schema: string;
let team: TeamSetup;

beforeAll(async () => {
  pair = await GatewayPair.start(url, 'canopy_api');
  ({ a, b, schema } = pair);
  team = await createTeam(a);
}, 120_000);

afterAll(async () => {
  await pair?.stop();
});

describe('the gateway on PostgreSQL (log, keys and read models on the server)', () => {
  it('answers a mutation once queries show it, on this gateway and on the other one', async () => {
    let { workspaceId, version } = await createProject(a, team);
    for (let i = 0; i < 5; i++) {
      const gateway = i % 2 === 0 ? a : b;
      const change = (await gateway.ok(team.owner, Q.describeWorkspace, { workspaceId, expectedVersion: version, description: `take ${i}` })).describeWorkspace;
      expect(change).toMatchObject({ changed: true, consistent: true, workspace: { description: `take ${i}` } });
      version = change.version;
      for (const reader of [a, b]) {
        await expect(reader.ok(team.owner, Q.workspace, { id: workspaceId })).resolves.toBeDefined();
      }
      // The gateway that made the change serves it at once.
      expect((await gateway.ok(team.owner, Q.workspace, { id: workspaceId })).workspace.description).toBe(`take ${i}`);
    }
    const history = await a.ok(team.owner, Q.workspaceHistory, { workspaceId });
    expect(history.workspaceHistory.edges.map((e: { node: { type: string } }) => e.node.type)).toEqual(['WorkspaceCreated', ...Array(5).fill('WorkspaceDescribed')]);
  });

  it("does not make a mutation wait for read models its answer does not read; the caller's next query, and another gateway's query given canopy-read-after, wait until they show it", async () => {
    const { workspaceId, version } = await createProject(a, team);
    // Hold every projector: their checkpoint UPDATE waits for this lock, while reads of the read models go on.
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`LOCK TABLE ${schema}_canopy_projections.projection_state IN SHARE MODE`);
      const started = performance.now();
      const change = (await a.ok(team.owner, DESCRIBE, { workspaceId, expectedVersion: version, description: 'held' })).describeWorkspace;
      expect(performance.now() - started).toBeLessThan(HOLD_MS);
      const settled: string[] = [];
      const own = a.ok(team.owner, Q.workspace, { id: workspaceId }).then((data) => (settled.push('own'), data));
      const other = b
        .gql(team.owner, Q.workspace, { id: workspaceId }, { headers: { 'canopy-read-after': change.position } })
        .then((response) => (settled.push('other'), response));
      // Without the header, the other gateway knows nothing of the change: it answers at once, from what the read models hold.
      const unaware = await b.ok(team.owner, Q.workspace, { id: workspaceId });
      expect(unaware.workspace.description).not.toBe('held');
      await new Promise((resolve) => setTimeout(resolve, HOLD_MS));
      expect(settled).toEqual([]);
      await holder.query('COMMIT');
      expect((await own).workspace.description).toBe('held');
      expect((await other).body.data.workspace.description).toBe('held');
    } finally {
      await holder.end();
    }
  });

  it('resumes the projections after a restart, without rebuilding them', async () => {
    await b.stop();
    const created = () => a.logLines.filter((line) => line.includes('"msg":"new projector"')).length;
    // The first gateway created every read model; the restarted one finds them and resumes from their checkpoints.
    expect(created()).toBe(PROJECTORS.length);
    await a.restart(pair.env);
    expect(created()).toBe(PROJECTORS.length);
    const health = (await (await fetch(`${a.url}/healthz`)).json()) as { projections: { name: string; position: string }[] };
    for (const projector of health.projections) expect(BigInt(projector.position)).toBeGreaterThan(0n);
    expect((await a.ok(team.owner, Q.organization, { id: team.organizationId })).organization.id).toBe(team.organizationId);
  });
});
