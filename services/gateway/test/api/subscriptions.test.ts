import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import WebSocket from 'ws';
import { EventLog } from '@canopy/eventstore';
import { canopyEventRegistry } from '@canopy/schema';
import { loadConfig } from '../../src/config.js';
import type { RunningGateway } from '../../src/gateway.js';
import { startSubgraph } from '../../src/subgraph.js';
import { createProject, createTeam, freshDataDir, JWT_SECRET, Q, TestGateway, token, unique, type TeamSetup } from './client.js';
import { eventually, WORKSPACE_EVENTS, WsClient, type Stream } from './ws-client.js';

/**
 * `workspaceEvents` over graphql-ws, through real sockets to a started
 * gateway: events appended by HTTP mutations arrive with their cursor; a
 * cursor resumes with exactly what was missed, also while appends go on;
 * authentication, authorization at subscribe time and when a role changes,
 * token expiry, deletion, slow consumers, keep-alive, and routing.
 */

let gateway: TestGateway;
let team: TeamSetup;
let workspaceId: string;
const versions = new Map<string, number>();
const admin = unique('admin');
const viewer = unique('viewer');
const member = unique('member');
const auditor = unique('auditor');
const stranger = unique('stranger');
const clients: WsClient[] = [];

async function connect(userId: string): Promise<WsClient> {
  const client = await WsClient.as(gateway, userId);
  clients.push(client);
  return client;
}

function raw(params: Record<string, unknown>, target = gateway): WsClient {
  const client = new WsClient(target, params);
  clients.push(client);
  return client;
}

/** Runs a workspace mutation as `caller` at the workspace's current version; returns its answer. */
async function change(caller: string, mutation: keyof typeof Q, ws: string, variables: Record<string, unknown>, target = gateway): Promise<Record<string, any>> {
  const data = await target.ok(caller, Q[mutation], { workspaceId: ws, expectedVersion: versions.get(ws) ?? 0, ...variables });
  const answer = Object.values(data)[0] as { version: number };
  versions.set(ws, answer.version);
  return answer;
}

async function project(target = gateway, setup = team): Promise<string> {
  const created = await createProject(target, setup);
  versions.set(created.workspaceId, created.version);
  return created.workspaceId;
}

/** The log position of the workspace stream's last event. */
async function lastPosition(ws: string, target = gateway): Promise<string> {
  return (await target.streamEvents(`workspace-${ws}`)).at(-1)!.position.toString();
}

/** Positions of the workspace's own events after `after`, from the log. */
async function positionsAfter(ws: string, after: string, target = gateway): Promise<string[]> {
  return (await target.streamEvents(`workspace-${ws}`)).filter((event) => event.position > BigInt(after)).map((event) => event.position.toString());
}

/** Waits until `count` more subscriptions than `before` (a `followed` count) have started listening to the log: nothing appended from then on is missed. */
async function listening(before: number, count = 1, target = gateway): Promise<void> {
  await eventually(() => target.running.subscriptions.stats().followed >= before + count, 'the subscription to listen');
}

const stats = (target = gateway) => target.running.subscriptions.stats();

function lastError(stream: Stream): { message: string; extensions?: Record<string, unknown> } | undefined {
  return stream.results.at(-1)?.errors?.[0] as { message: string; extensions?: Record<string, unknown> } | undefined;
}

beforeAll(async () => {
  gateway = await TestGateway.start();
  team = await createTeam(gateway);
  workspaceId = await project();
  await change(team.owner, 'addMember', workspaceId, { userId: admin, role: 'ADMIN' });
  await change(team.owner, 'addMember', workspaceId, { userId: viewer, role: 'VIEWER' });
  await change(team.owner, 'addMember', workspaceId, { userId: member, role: 'MEMBER' });
  await gateway.ok(team.owner, Q.addOrganizationAuditor, { organizationId: team.organizationId, userId: auditor });
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((client) => client.dispose().catch(() => {})));
  await gateway?.stop();
});

describe('live events', () => {
  it('delivers an event appended by an HTTP mutation, with its cursor, as history shows it', async () => {
    const client = await connect(admin);
    const before = stats().followed;
    const stream = client.events(workspaceId);
    await listening(before);
    const response = await gateway.gql(admin, Q.addNamespace, { workspaceId, expectedVersion: versions.get(workspaceId), namespace: 'web' }, { headers: { 'x-correlation-id': 'sub-test-1' } });
    expect(response.body.errors).toBeUndefined();
    versions.set(workspaceId, response.body.data.addNamespace.version);
    const position = await lastPosition(workspaceId);
    await stream.through(position);
    expect(stream.events).toEqual([
      {
        cursor: position,
        position,
        stream: `workspace-${workspaceId}`,
        revision: expect.any(String),
        organizationId: team.organizationId,
        workspaceId,
        type: 'NamespaceAdded',
        actor: admin,
        correlationId: 'sub-test-1',
        recordedAt: expect.any(String),
        data: { workspaceId, namespace: 'web' },
      },
    ]);
    const history = await gateway.ok(admin, Q.workspaceHistory, { workspaceId, first: 500 });
    const entry = history.workspaceHistory.edges.at(-1).node;
    const { cursor: _cursor, ...event } = stream.events[0]!;
    expect(event).toEqual(entry);
    stream.unsubscribe();
  });

  it('resumes after a cursor with exactly the missed events, in order, then goes live: no gap, no duplicate', async () => {
    const client = await connect(admin);
    const before = stats().followed;
    const first = client.events(workspaceId);
    await listening(before);
    await change(admin, 'addNamespace', workspaceId, { namespace: 'resume-a' });
    const cursor = await lastPosition(workspaceId);
    await first.through(cursor);
    first.unsubscribe();
    await change(admin, 'addNamespace', workspaceId, { namespace: 'resume-b' });
    await change(admin, 'addNamespace', workspaceId, { namespace: 'resume-c' });
    const missed = await positionsAfter(workspaceId, cursor);
    expect(missed).toHaveLength(2);
    const resumed = client.events(workspaceId, cursor);
    await resumed.through(missed.at(-1)!);
    await change(admin, 'addNamespace', workspaceId, { namespace: 'resume-d' });
    const live = await lastPosition(workspaceId);
    await resumed.through(live);
    expect(resumed.positions).toEqual([...missed, live]);
    expect(resumed.events.map((event) => event.data['namespace'])).toEqual(['resume-b', 'resume-c', 'resume-d']);
    expect(resumed.events.map((event) => event.cursor)).toEqual(resumed.positions);
    resumed.unsubscribe();
  });

  it('has no gap and no duplicate when clients resume while appends go on', async () => {
    const ws = await project();
    await change(team.owner, 'addNamespace', ws, { namespace: 'race-0' });
    let writing = true;
    const writer = (async () => {
      for (let i = 1; i <= 40; i++) await change(team.owner, 'addNamespace', ws, { namespace: `race-${i}` });
      writing = false;
      return lastPosition(ws);
    })();
    const resumers: { cursor: string; stream: Stream }[] = [];
    while (writing && resumers.length < 8) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      const events = await gateway.streamEvents(`workspace-${ws}`);
      const cursor = events[Math.floor(events.length / 2)]!.position.toString();
      resumers.push({ cursor, stream: (await connect(team.owner)).events(ws, cursor) });
    }
    const last = await writer;
    expect(resumers.length).toBeGreaterThan(2);
    for (const { cursor, stream } of resumers) {
      await stream.through(last);
      expect(stream.positions).toEqual(await positionsAfter(ws, cursor));
      stream.unsubscribe();
    }
  }, 60_000);

  it("never delivers another workspace's events, nor organization events about other workspaces", async () => {
    const other = await project();
    const client = await connect(team.owner);
    const before = stats().followed;
    const stream = client.events(workspaceId);
    await listening(before);
    await change(team.owner, 'addNamespace', other, { namespace: 'elsewhere' });
    await change(team.owner, 'renameWorkspace', other, { name: unique('renamed') });
    await project(); // WorkspaceCreated of a third workspace, on the same organization stream
    await change(team.owner, 'addNamespace', workspaceId, { namespace: 'marker' });
    const marker = await lastPosition(workspaceId);
    await stream.through(marker);
    expect(stream.positions).toEqual([marker]);
    expect(stream.events[0]).toMatchObject({ workspaceId, type: 'NamespaceAdded', data: { namespace: 'marker' } });
    stream.unsubscribe();
  });

  it("includes the workspace's renames from the organization stream", async () => {
    const ws = await project();
    const client = await connect(team.owner);
    const before = stats().followed;
    const stream = client.events(ws);
    await listening(before);
    const name = unique('renamed');
    await change(team.owner, 'renameWorkspace', ws, { name });
    await stream.until((s) => s.events.length > 0, 'the rename');
    expect(stream.events[0]).toMatchObject({ stream: `organization-${team.organizationId}`, workspaceId: ws, type: 'WorkspaceRenamed', data: { name } });
    stream.unsubscribe();
  });

  it('never shows a secret value, plain or sealed', async () => {
    const client = await connect(team.owner);
    const before = stats().followed;
    const stream = client.events(workspaceId);
    await listening(before);
    await change(admin, 'writeSecret', workspaceId, { name: 'db', values: [{ key: 'password', value: 'hunter2-plain' }] });
    await stream.until((s) => s.events.some((event) => event.type === 'SecretWritten'), 'the secret event');
    const secret = stream.events.find((event) => event.type === 'SecretWritten')!;
    expect(secret.data['values']).toEqual({ password: '[sealed]' });
    const text = client.frames.join('\n');
    expect(text).not.toContain('hunter2-plain');
    expect(text).not.toContain('ciphertext');
    stream.unsubscribe();
  });
});

describe('who may subscribe', () => {
  it("admins, owners and the organization's auditors may; viewers and members get FORBIDDEN; strangers NOT_FOUND, as for history", async () => {
    for (const user of [admin, team.owner, auditor]) {
      const before = stats().followed;
      const stream = (await connect(user)).events(workspaceId);
      await listening(before);
      expect(stream.results).toEqual([]);
      stream.unsubscribe();
    }
    for (const [user, code] of [
      [viewer, 'FORBIDDEN'],
      [member, 'FORBIDDEN'],
      [stranger, 'NOT_FOUND'],
    ] as const) {
      const stream = (await connect(user)).events(workspaceId);
      await stream.ended();
      expect(stream.completed).toBe(true);
      expect(stream.errorCodes).toEqual([code]);
      expect(stream.events).toEqual([]);
    }
  });

  it('refuses a cursor that is not a log position, or beyond the log', async () => {
    const client = await connect(admin);
    const bad = client.events(workspaceId, 'yesterday');
    await bad.ended();
    expect(lastError(bad)?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    const beyond = client.events(workspaceId, String((await gateway.head()) + 1_000_000n));
    await beyond.ended();
    expect(lastError(beyond)?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  });

  it('ends with FORBIDDEN, then completes, when the caller is demoted below admin: the change itself is not delivered', async () => {
    const demoted = unique('demoted');
    await change(team.owner, 'addMember', workspaceId, { userId: demoted, role: 'ADMIN' });
    const owner = await connect(team.owner);
    const watched = await connect(demoted);
    const before = stats().followed;
    const ownerStream = owner.events(workspaceId);
    const stream = watched.events(workspaceId);
    await listening(before, 2);
    await change(team.owner, 'addNamespace', workspaceId, { namespace: 'seen-before' });
    await stream.through(await lastPosition(workspaceId));
    await change(team.owner, 'changeMemberRole', workspaceId, { userId: demoted, role: 'MEMBER' });
    const demotion = await lastPosition(workspaceId);
    await stream.ended();
    expect(stream.error).toBeUndefined();
    expect(stream.completed).toBe(true);
    expect(stream.events.map((event) => event.type)).toEqual(['NamespaceAdded']);
    expect(lastError(stream)?.extensions).toMatchObject({ code: 'FORBIDDEN', workspaceId });
    await change(team.owner, 'addNamespace', workspaceId, { namespace: 'seen-after' });
    await ownerStream.through(await lastPosition(workspaceId));
    expect(ownerStream.positions).toContain(demotion);
    expect(stream.events).toHaveLength(1);
    ownerStream.unsubscribe();
  });

  it('ends with FORBIDDEN when an auditor is removed from the organization', async () => {
    const removed = unique('auditor');
    await gateway.ok(team.owner, Q.addOrganizationAuditor, { organizationId: team.organizationId, userId: removed });
    const before = stats().followed;
    const stream = (await connect(removed)).events(workspaceId);
    await listening(before);
    await gateway.ok(team.owner, Q.removeOrganizationAuditor, { organizationId: team.organizationId, userId: removed });
    await stream.ended();
    expect(stream.completed).toBe(true);
    expect(stream.errorCodes).toEqual(['FORBIDDEN']);
  });

  it('delivers the deletion, then ends with NOT_FOUND; a cursor replays a deleted workspace up to its end', async () => {
    const ws = await project();
    const client = await connect(team.owner);
    const before = stats().followed;
    const live = client.events(ws);
    await listening(before);
    await change(team.owner, 'addNamespace', ws, { namespace: 'doomed' });
    const cursor = await lastPosition(ws);
    await change(team.owner, 'deleteWorkspace', ws, {});
    await live.ended();
    expect(live.events.map((event) => event.type)).toEqual(['NamespaceAdded', 'WorkspaceClosed', 'WorkspaceDeleted']);
    expect(lastError(live)?.extensions).toMatchObject({ code: 'NOT_FOUND', workspaceId: ws, deleted: true });
    expect(live.completed).toBe(true);

    const replay = client.events(ws, cursor);
    await replay.ended();
    expect(replay.events.map((event) => event.type)).toEqual(['WorkspaceClosed', 'WorkspaceDeleted']);
    expect(lastError(replay)?.extensions).toMatchObject({ code: 'NOT_FOUND', deleted: true });

    const none = client.events(ws);
    await none.ended();
    expect(none.events).toEqual([]);
    expect(none.errorCodes).toEqual(['NOT_FOUND']);
  });
});

describe('authentication', () => {
  it('closes the socket with 4401 without a token, with an invalid one, or an expired one', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{}, 'Unauthorized: missing_token'],
      [{ authorization: `Bearer ${await token(admin, { secret: 'another-secret-of-at-least-32-bytes!!' })}` }, 'Unauthorized: invalid_token'],
      [{ authorization: `Bearer ${await token(admin, { expiredSecondsAgo: 60 })}` }, 'Unauthorized: expired_token'],
      [{ authorization: 'Basic abc' }, 'Unauthorized: malformed_header'],
    ];
    for (const [params, reason] of cases) {
      const client = raw(params);
      const stream = client.events(workspaceId);
      expect(await client.closed()).toEqual({ code: 4401, reason });
      await stream.ended();
      expect(stream.events).toEqual([]);
    }
  });

  it('accepts the bare token as `token`', async () => {
    const client = raw({ token: await token(admin) });
    const before = stats().followed;
    const stream = client.events(workspaceId);
    await listening(before);
    stream.unsubscribe();
  });

  it('closes the socket with 4401 "token expired" when the token expires', async () => {
    const client = raw({ authorization: `Bearer ${await token(admin, { ttlSeconds: 2 })}` });
    const stream = client.events(workspaceId);
    expect(await client.closed()).toEqual({ code: 4401, reason: 'token expired' });
    await stream.ended();
  });
});

describe('routing', () => {
  it('answers queries and mutations over the socket with an error pointing to POST /graphql', async () => {
    const client = await connect(admin);
    const stream = client.subscribe('{ organizations { nodes { id } } }');
    await stream.ended();
    expect(stream.errorCodes).toEqual(['BAD_USER_INPUT']);
    expect(JSON.stringify(stream.error)).toContain('POST /graphql');
  });

  it('refuses a subscription sent over HTTP with 400 BAD_USER_INPUT, pointing to the WebSocket endpoint', async () => {
    const response = await gateway.expectLogUnchanged(() => gateway.gql(admin, WORKSPACE_EVENTS, { workspaceId }));
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', field: 'query' } })]);
    expect(response.body.errors![0]!.message).toContain('WebSocket');
  });

  it('refuses a subscription field nobody serves, naming the ones there are', async () => {
    const client = await connect(admin);
    const stream = client.subscribe('subscription { clusterStatus { id } }');
    await stream.ended();
    expect(stream.errorCodes).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(JSON.stringify(stream.error)).toContain('workspaceEvents');
  });
});

describe('limits', () => {
  let tight: TestGateway;
  let tightTeam: TeamSetup;
  let tightWorkspace: string;
  const QUEUE = 256;

  beforeAll(async () => {
    tight = await TestGateway.start({
      // No pings here: a client that stops reading would be dropped for its missing pong before it is found slow.
      env: { CANOPY_SUBSCRIPTION_QUEUE_EVENTS: String(QUEUE), CANOPY_SUBSCRIPTIONS_PER_CONNECTION: '2', CANOPY_SUBSCRIPTION_KEEPALIVE_MS: '0' },
    });
    tightTeam = await createTeam(tight);
    tightWorkspace = await project(tight, tightTeam);
  }, 60_000);

  afterAll(async () => {
    await tight?.stop();
  });

  it(`refuses more subscriptions on one connection than allowed with TOO_MANY_SUBSCRIPTIONS`, async () => {
    const ws = await project(tight, tightTeam);
    const client = new WsClient(tight, { authorization: await tight.authorization(tightTeam.owner) });
    clients.push(client);
    const open = [client.events(ws), client.events(ws)];
    const third = client.events(ws);
    await third.ended();
    expect({ codes: third.errorCodes, error: third.error }).toEqual({ codes: ['TOO_MANY_SUBSCRIPTIONS'], error: [expect.objectContaining({ extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', limit: 2 } })] });
    for (const stream of open) expect(stream.error).toBeUndefined();
    for (const stream of open) stream.unsubscribe();
  });

  it('closes a client that stops reading with 4503 "slow consumer", its queue never above the limit, while a reading client gets every event', async () => {
    const client = new WsClient(tight, { authorization: await tight.authorization(tightTeam.owner) });
    const reader = new WsClient(tight, { authorization: await tight.authorization(tightTeam.owner) });
    clients.push(client, reader);
    const before = stats(tight).followed;
    const stream = client.events(tightWorkspace);
    const control = reader.events(tightWorkspace);
    await listening(before, 2, tight);
    // Live (accepted, past the access check) once it delivers an event.
    await change(tightTeam.owner, 'addNamespace', tightWorkspace, { namespace: 'probe' }, tight);
    await stream.through(await lastPosition(tightWorkspace, tight));
    client.socket.pause(); // this client stops reading: the server's writes to it back up, then its queue fills
    const log = new EventLog(tight.store, canopyEventRegistry());
    const description = 'x'.repeat(1000);
    // Small appends, as commands make them: a client that reads keeps up with them.
    for (let batch = 0; stats(tight).slowConsumerCloses === 0; batch++) {
      if (batch >= 5000) throw new Error('the server never gave up on a client that does not read');
      await log.append(
        `workspace-${tightWorkspace}`,
        Array.from({ length: 4 }, () => ({ type: 'WorkspaceDescribed', data: { workspaceId: tightWorkspace, description } })),
      );
      await new Promise((resolve) => setTimeout(resolve, 1)); // let the server's timers run, as between requests
    }
    expect(stats(tight).slowConsumerCloses).toBe(1);
    expect(stats(tight).maxQueued).toBeLessThanOrEqual(QUEUE);
    client.socket.resume();
    expect(await client.closed()).toEqual({ code: 4503, reason: 'slow consumer' });
    await stream.ended();
    await control.through(await lastPosition(tightWorkspace, tight), 60_000);
    expect(control.positions).toEqual(await positionsAfter(tightWorkspace, control.positions[0]!, tight).then((after) => [control.positions[0]!, ...after]));
    expect(reader.closes).toEqual([]);
    control.unsubscribe();
    await eventually(() => stats(tight).listening === 0 && stats(tight).subscriptions === 0, 'the server to drop the subscriptions');
  }, 180_000);
});

describe('through a gateway routing to the workspaces subgraph in its own process (and pinging every 300 ms)', () => {
  let dataDir: string;
  let subgraph: RunningGateway;
  let routing: TestGateway;
  let remoteTeam: TeamSetup;

  beforeAll(async () => {
    dataDir = await freshDataDir();
    subgraph = await startSubgraph(loadConfig({ PORT: '0', HOST: '127.0.0.1', CANOPY_DATA_DIR: dataDir, CANOPY_JWT_SECRET: JWT_SECRET }), 'workspaces', pino({ level: 'silent' }));
    routing = await TestGateway.start({ env: { CANOPY_SUBGRAPH_WORKSPACES_URL: `${subgraph.url}/graphql`, CANOPY_SUBSCRIPTION_KEEPALIVE_MS: '300' } });
    remoteTeam = await createTeam(routing);
  }, 60_000);

  afterAll(async () => {
    await routing?.stop();
    await subgraph?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  /** The subgraph's log: the routing gateway has none. */
  async function remotePositions(ws: string): Promise<string[]> {
    const positions: string[] = [];
    for await (const event of subgraph.store!.readStream(`workspace-${ws}`)) positions.push(event.position.toString());
    return positions;
  }

  it('relays live events, a resume from a cursor, and the subgraph\'s refusals with their codes', async () => {
    const ws = await project(routing, remoteTeam);
    const client = new WsClient(routing, { authorization: await routing.authorization(remoteTeam.owner) });
    clients.push(client);
    const before = subgraph.subscriptions.stats().followed;
    const live = client.events(ws);
    await eventually(() => subgraph.subscriptions.stats().followed > before, 'the subgraph to listen');
    await change(remoteTeam.owner, 'addNamespace', ws, { namespace: 'one' }, routing);
    const [first] = await remotePositions(ws);
    await live.through(first!);
    expect(live.events).toEqual([expect.objectContaining({ cursor: first, workspaceId: ws, type: 'NamespaceAdded', actor: remoteTeam.owner })]);
    live.unsubscribe();

    await change(remoteTeam.owner, 'addNamespace', ws, { namespace: 'two' }, routing);
    await change(remoteTeam.owner, 'addNamespace', ws, { namespace: 'three' }, routing);
    const resumed = client.events(ws, first);
    const all = await remotePositions(ws);
    await resumed.through(all.at(-1)!);
    expect(resumed.positions).toEqual(all.slice(1));
    resumed.unsubscribe();

    const strangerClient = new WsClient(routing, { authorization: await routing.authorization(unique('stranger')) });
    clients.push(strangerClient);
    const refused = strangerClient.events(ws);
    await refused.ended();
    expect(refused.completed).toBe(true);
    expect(refused.errorCodes).toEqual(['NOT_FOUND']);
  });

  it('checks the token at the gateway too', async () => {
    const client = new WsClient(routing, {});
    clients.push(client);
    client.events(unique('ws'));
    expect(await client.closed()).toEqual({ code: 4401, reason: 'Unauthorized: missing_token' });
  });

  it('drops a socket that does not answer its pings, and keeps one that does', async () => {
    const url = `${routing.url.replace(/^http/, 'ws')}/graphql`;
    const silent = new WebSocket(url, 'graphql-transport-ws', { autoPong: false });
    const closed = new Promise<number>((resolve) => silent.once('close', (code) => resolve(code)));
    await new Promise((resolve) => silent.once('open', resolve));
    silent.send(JSON.stringify({ type: 'connection_init', payload: { authorization: await routing.authorization(remoteTeam.owner) } }));
    expect(await closed).toBe(1006); // terminated: no close frame

    const ws = await project(routing, remoteTeam);
    const client = new WsClient(routing, { authorization: await routing.authorization(remoteTeam.owner) });
    clients.push(client);
    const before = subgraph.subscriptions.stats().followed;
    const stream = client.events(ws);
    await eventually(() => subgraph.subscriptions.stats().followed > before, 'the subgraph to listen');
    await new Promise((resolve) => setTimeout(resolve, 1500)); // several ping intervals
    await change(remoteTeam.owner, 'addNamespace', ws, { namespace: 'still-here' }, routing);
    await stream.through((await remotePositions(ws)).at(-1)!);
    expect(client.closes).toEqual([]);
    stream.unsubscribe();
  });
});
