import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { buildSchema, execute, parse, subscribe, type ExecutionResult, type GraphQLObjectType, type GraphQLSchema } from 'graphql';
import { composeSupergraph } from '@canopy/schema/graphql';
import { effectiveRole } from '@canopy/workspaces';
import { buildWorkloadsSubgraph, workloadReads, workloadsSubgraphSdl, type WorkloadsContext, type WorkloadWatcher } from '../src/index.js';
import { deployment, eventually, startHarness, type Harness } from './harness.js';
import { logFeed } from './log-feed.js';

type Change = { cursor: string; change: string; kind: string; name: string; status: string | null; previousStatus: string | null; replicas: { desired: number; ready: number } | null; cause: string | null };

const WORKLOADS = parse(`
  query($id: ID!, $first: Int!, $after: String, $kind: [WorkloadKind!], $status: [WorkloadStatus!]) {
    _entities(representations: [{ __typename: "Workspace", id: $id }]) {
      ... on Workspace {
        workloads(first: $first, after: $after, kind: $kind, status: $status) {
          edges { cursor node { id name kind status replicas { desired ready available updated } cluster { id workspaceId } since observedAt } }
          nodes { name }
          pageInfo { hasNextPage endCursor }
          totalCount
        }
        workloadStatusCounts { status count }
      }
    }
  }
`);

const STATUS = parse(`
  subscription($ws: ID!, $cluster: ID, $ns: String, $after: String) {
    workloadStatus(workspaceId: $ws, clusterId: $cluster, namespace: $ns, after: $after) {
      cursor change kind name status previousStatus replicas { desired ready } cause
    }
  }
`);

/**
 * The workloads subgraph at the resolver level: the query a workload
 * browser pages with, and the live subscription, fed by a watcher of a
 * simulated cluster through the log (an EventFeed over the real log).
 */
describe('the workloads subgraph', () => {
  let h: Harness;
  let team: Awaited<ReturnType<Harness['team']>>;
  let watcher: WorkloadWatcher;
  let schema: GraphQLSchema;

  const roleOf = (userId: string) => async (workspaceId: string) => {
    const view = h.workspaces.directory.workspace(workspaceId);
    return view ? effectiveRole(view, userId) : undefined;
  };
  const context = (userId: string): WorkloadsContext => ({
    caller: { userId },
    reads: workloadReads({ db: h.db, schema: () => h.runner.activeSchema('workloads'), roleIn: roleOf(userId) }),
    live: {
      events: logFeed(h.log),
      reads: () => ({ roleIn: roleOf(userId), organizationOf: async (workspaceId) => h.workspaces.directory.workspace(workspaceId)?.organizationId }),
    },
  });
  const runFor = async (ms: number) => {
    for (let left = ms; left > 0; left -= 500) await h.sim.advance(500);
  };
  async function query(userId: string, variables: Record<string, unknown>) {
    return (await execute({ schema, document: WORKLOADS, contextValue: context(userId), variableValues: { id: team.workspaceId, ...variables } })) as ExecutionResult<{
      _entities: { workloads: { edges: { cursor: string; node: Record<string, unknown> }[]; nodes: { name: string }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null }; totalCount: number }; workloadStatusCounts: { status: string; count: number }[] }[];
    }>;
  }
  /** Subscribes and collects what arrives, until `stop`. */
  async function follow(userId: string, variables: Record<string, unknown>) {
    const result = await subscribe({ schema, document: STATUS, contextValue: context(userId), variableValues: { ws: team.workspaceId, ...variables } });
    if (!(Symbol.asyncIterator in result)) return { refused: result, changes: [] as Change[], errors: [] as unknown[], ended: Promise.resolve(), stop: async () => undefined };
    const changes: Change[] = [];
    const errors: unknown[] = [];
    const ended = (async () => {
      for await (const item of result) {
        if (item.errors) errors.push(...item.errors);
        else changes.push((item.data as { workloadStatus: Change }).workloadStatus);
      }
    })();
    return { refused: undefined, changes, errors, ended, stop: async () => void (await result.return?.()) };
  }

  beforeAll(async () => {
    h = await startHarness();
    team = await h.team();
    schema = await buildWorkloadsSubgraph();
    watcher = await h.startWatcher();
    for (const name of ['api', 'cart', 'web']) await h.kube.apps.createNamespacedDeployment({ namespace: 'shop', body: deployment(name, 1) });
    await runFor(3000);
    await eventually(async () => {
      await watcher.flush();
      await h.sync();
      const page = await query('bob', { first: 10, kind: ['DEPLOYMENT'], status: ['RUNNING'] });
      expect(page.data?._entities[0]?.workloads.totalCount).toBe(3);
    });
  }, 90_000);
  afterAll(async () => {
    await h?.close();
  });

  it('pages a workspace’s workloads for any member, filtered by kind and status, with counts by status', async () => {
    const first = await query('dan', { first: 2, kind: ['DEPLOYMENT'] });
    expect(first.errors).toBeUndefined();
    const workloads = first.data!._entities[0]!.workloads;
    expect(workloads.nodes.map((n) => n.name)).toEqual(['api', 'cart']);
    expect(workloads.totalCount).toBe(3);
    expect(workloads.pageInfo.hasNextPage).toBe(true);
    expect(workloads.edges[0]!.node).toMatchObject({ kind: 'DEPLOYMENT', status: 'RUNNING', replicas: { desired: 1, ready: 1, available: 1, updated: 1 }, cluster: { id: team.clusterId, workspaceId: team.workspaceId } });
    const next = await query('dan', { first: 2, kind: ['DEPLOYMENT'], after: workloads.pageInfo.endCursor });
    expect(next.data!._entities[0]!.workloads.nodes.map((n) => n.name)).toEqual(['web']);
    expect(next.data!._entities[0]!.workloads.pageInfo).toEqual({ hasNextPage: false, endCursor: next.data!._entities[0]!.workloads.edges[0]!.cursor });

    const counts = first.data!._entities[0]!.workloadStatusCounts;
    expect(counts.map((c) => c.status)).toEqual(['PENDING', 'PROGRESSING', 'RUNNING', 'DEGRADED', 'SUCCEEDED', 'FAILED', 'SUSPENDED']);
    expect(counts.find((c) => c.status === 'RUNNING')!.count).toBe(6); // three deployments and their pods
  });

  it('refuses callers without a role (NOT_FOUND) and bad cursors (BAD_USER_INPUT), changing nothing', async () => {
    const stranger = await query('eve', { first: 10 });
    expect(stranger.errors?.[0]?.extensions?.['code'] ?? (stranger.errors?.[0]?.originalError as { code?: string })?.code).toBe('NOT_FOUND');
    const bad = await query('bob', { first: 10, after: 'not-a-cursor' });
    expect((bad.errors?.[0]?.originalError as { code?: string; details?: unknown })).toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'after' } });
    const tooMany = await query('bob', { first: 501 });
    expect((tooMany.errors?.[0]?.originalError as { code?: string })?.code).toBe('BAD_USER_INPUT');
  });

  it('a deployment scaled in the simulator: the subscriber gets its status changes in order, and resumes after a reconnect without gap or duplicate', async () => {
    const live = await follow('dan', { cluster: team.clusterId, ns: 'shop' });
    expect(live.refused).toBeUndefined();
    await h.kube.apps.patchNamespacedDeploymentScale({ name: 'web', namespace: 'shop', body: [{ op: 'replace', path: '/spec/replicas', value: 3 }] });
    await eventually(() => expect(live.changes.filter((c) => c.kind === 'DEPLOYMENT').at(-1)).toMatchObject({ name: 'web', status: 'PROGRESSING', previousStatus: 'RUNNING', replicas: { desired: 3, ready: 1 } }));
    const firstCursor = live.changes[0]!.cursor;
    await runFor(3000);
    await eventually(() => expect(live.changes.filter((c) => c.kind === 'DEPLOYMENT').at(-1)).toMatchObject({ name: 'web', status: 'RUNNING', previousStatus: 'PROGRESSING', replicas: { desired: 3, ready: 3 } }));
    await watcher.flush();
    const positions = live.changes.map((c) => BigInt(c.cursor));
    expect([...positions].sort((a, b) => (a < b ? -1 : 1))).toEqual(positions);
    expect(live.changes.filter((c) => c.kind === 'POD' && c.status === 'RUNNING')).toHaveLength(2);

    // A client that saw only the first change reconnects with its cursor: it gets exactly what followed.
    const resumed = await follow('dan', { cluster: team.clusterId, ns: 'shop', after: firstCursor });
    await eventually(() => expect(resumed.changes.length).toBe(live.changes.length - 1));
    expect(resumed.changes).toEqual(live.changes.slice(1));
    await live.stop();
    await resumed.stop();

    // Another cluster's filter sees none of it.
    const other = await follow('dan', { cluster: 'another-cluster', after: firstCursor });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(other.changes).toEqual([]);
    await other.stop();
  });

  it('refuses a non-member with NOT_FOUND, and ends with FORBIDDEN when the subscriber loses their role', async () => {
    const stranger = await follow('eve', {});
    expect(stranger.refused?.errors?.[0]?.originalError).toMatchObject({ code: 'NOT_FOUND' });

    const bob = await follow('bob', {});
    await team.ws({ type: 'RemoveMember', userId: 'bob' });
    await h.kube.apps.patchNamespacedDeploymentScale({ name: 'api', namespace: 'shop', body: [{ op: 'replace', path: '/spec/replicas', value: 0 }] });
    await bob.ended;
    expect(bob.errors).toEqual([expect.objectContaining({ originalError: expect.objectContaining({ code: 'FORBIDDEN', details: expect.objectContaining({ revoked: true }) }) })]);
    expect(bob.changes).toEqual([]);
  });

  it('ends with NOT_FOUND when the workspace is deleted, and refuses new subscriptions to it', async () => {
    const dan = await follow('dan', {});
    await team.ws({ type: 'DetachCluster', clusterId: team.clusterId });
    await eventually(() => expect(dan.changes.filter((c) => c.change === 'REMOVED' && c.cause === 'CLUSTER_DETACHED').length).toBeGreaterThan(0));
    await watcher.flush();
    await h.workspaces.commands.deleteWorkspace({ userId: 'ada' }, team.workspaceId, h.workspaces.directory.workspace(team.workspaceId)!.version);
    await dan.ended;
    expect(dan.errors).toEqual([expect.objectContaining({ originalError: expect.objectContaining({ code: 'NOT_FOUND', details: expect.objectContaining({ deleted: true }) }) })]);
    const late = await follow('dan', {});
    expect(late.refused?.errors?.[0]?.originalError).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('composes with the workspaces subgraph (its committed SDL) as a Federation 2 supergraph', async () => {
    const workspacesSdl = await readFile(new URL('../../../schema/graphql/workspaces.graphql', import.meta.url), 'utf8');
    const composed = composeSupergraph([
      { name: 'workspaces', url: 'http://workspaces/graphql', sdl: workspacesSdl },
      { name: 'workloads', url: 'http://workloads/graphql', sdl: workloadsSubgraphSdl(schema) },
    ]);
    expect(composed.apiSdl).toContain('workloads(');
    expect(composed.apiSdl).toContain('workloadStatus(');
    const workspace = buildSchema(composed.apiSdl).getType('Workspace') as GraphQLObjectType;
    expect(Object.keys(workspace.getFields())).toEqual(expect.arrayContaining(['name', 'members', 'workloads', 'workloadStatusCounts']));
  });
});
