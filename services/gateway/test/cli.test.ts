import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { EventLog, openPgliteEventStore } from '@canopy/eventstore';
import { openKeyStore } from '@canopy/keystore';
import { openReadModelDb } from '@canopy/projections';
import { PROJECTORS } from '../src/read-models.js';
import { canopyEventRegistry } from '@canopy/schema';
import { startWorkspacesService } from '@canopy/workspaces';
import { createAuthenticator, mintToken, resolveAuthConfig } from '../src/auth/index.js';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

/** The environment without CANOPY_* variables, but for the tests' PGlite template (it only makes new databases faster). */
const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('CANOPY_') || name === 'CANOPY_PGLITE_TEMPLATE_DIR'));

/** Runs `node dist/cli.js …` as `npx canopy …` does, with no CANOPY_* variable but those given. */
function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('canopy token', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'canopy-cli-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('prints a token alone on stdout that the server, resolving its configuration from the same data directory, accepts', async () => {
    const started = Date.now();
    const { code, stdout, stderr } = await run(['token', '--user', 'alice', '--name', 'Alice', '--ttl', '1h'], { CANOPY_DATA_DIR: dataDir });
    expect(code).toBe(0);
    expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expect(stderr).toContain(join(dataDir, 'dev-jwt-secret'));

    const auth = createAuthenticator(await resolveAuthConfig({ issuer: 'canopy', audience: 'canopy', dataDir }));
    const caller = await auth.authenticate(`Bearer ${stdout.trim()}`);
    expect(caller).toMatchObject({ userId: 'alice', name: 'Alice' });
    // Minted at some moment while the command ran (seconds, rounded down), to expire an hour later.
    const lifetime = caller.expiresAt!.getTime() - started;
    expect(lifetime).toBeGreaterThan(3590_000);
    expect(lifetime).toBeLessThanOrEqual(3601_000 + (Date.now() - started));
  });

  it('signs with CANOPY_JWT_SECRET, issuer and audience from the environment when set', async () => {
    const env = { CANOPY_DATA_DIR: dataDir, CANOPY_JWT_SECRET: 's'.repeat(40), CANOPY_JWT_ISSUER: 'https://canopy.example', CANOPY_JWT_AUDIENCE: 'api' };
    const { code, stdout } = await run(['token', '--user', 'bob'], env);
    expect(code).toBe(0);
    const config = await resolveAuthConfig({ jwtSecret: env.CANOPY_JWT_SECRET, issuer: env.CANOPY_JWT_ISSUER, audience: env.CANOPY_JWT_AUDIENCE, dataDir });
    expect((await createAuthenticator(config).authenticate(`Bearer ${stdout.trim()}`)).userId).toBe('bob');
  });

  it.each([
    [['token', '--user', 'alice', '--bogus']],
    [['token', '--user']],
    [['token']],
    [['token', '--user', 'alice', 'extra']],
    [['token', '--user', 'alice', '--ttl', '90d']],
    [['mint']],
    [['--help']],
    [[]],
  ])('%j prints the usage on stderr and exits 2', async (args) => {
    const { code, stdout, stderr } = await run(args, { CANOPY_DATA_DIR: dataDir });
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('Usage: canopy token --user <id>');
  });

  it('refuses with CANOPY_JWKS_URL set: tokens then come from the identity provider', async () => {
    const { code, stdout, stderr } = await run(['token', '--user', 'alice'], { CANOPY_DATA_DIR: dataDir, CANOPY_JWKS_URL: 'https://idp.example/jwks' });
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/CANOPY_JWKS_URL is set.*identity provider/);
  });

  it('refuses a CANOPY_JWT_SECRET shorter than 32 bytes, naming it', async () => {
    const { code, stderr } = await run(['token', '--user', 'alice'], { CANOPY_DATA_DIR: dataDir, CANOPY_JWT_SECRET: 'short' });
    expect(code).toBe(2);
    expect(stderr).toMatch(/CANOPY_JWT_SECRET is 5 bytes long/);
  });
});

describe('canopy history', () => {
  let dataDir: string;
  let workspaceId: string;
  let between: Date;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'canopy-history-'));
    // A real history, written through the command side into an embedded log, as a server would.
    const store = await openPgliteEventStore({ dataDir: join(dataDir, 'log') });
    const keys = await openKeyStore({ kind: 'pglite' }, randomBytes(32));
    const service = await startWorkspacesService({ log: new EventLog(store, canopyEventRegistry()), keys: keys.keys });
    try {
      const { commands } = service;
      const { organizationId } = await commands.createOrganization({ userId: 'ada' }, { name: 'Acme', kind: 'team' });
      ({ workspaceId } = await commands.createWorkspace({ userId: 'ada' }, { organizationId, name: 'web', kind: 'project' }));
      await commands.workspaceCommand({ userId: 'ada' }, workspaceId, 0, {}, () => ({ type: 'AddNamespace', namespace: 'web' }));
      await new Promise((resolve) => setTimeout(resolve, 20));
      between = new Date();
      await new Promise((resolve) => setTimeout(resolve, 20));
      await commands.workspaceCommand({ userId: 'ada' }, workspaceId, 1, {}, () => ({ type: 'AddMember', userId: 'bob', role: 'admin' }));
      await commands.writeSecret({ userId: 'bob' }, workspaceId, 2, 'db', [{ key: 'password', value: 'hunter2-plain' }]);
      await commands.renameWorkspace({ userId: 'bob' }, workspaceId, 3, 'frontend');
      // Another workspace's events never show up in this one's history.
      const other = await commands.createWorkspace({ userId: 'ada' }, { organizationId, name: 'api', kind: 'project' });
      await commands.workspaceCommand({ userId: 'ada' }, other.workspaceId, 0, {}, () => ({ type: 'AddNamespace', namespace: 'api' }));
    } finally {
      await service.close();
      await keys.close();
      await store.close();
    }
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  const history = async (...args: string[]) => {
    const { code, stdout, stderr } = await run(['history', ...args], { CANOPY_DATA_DIR: dataDir });
    expect({ code, stderr }).toMatchObject({ code: 0 });
    return stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { type: string; actor: string; stream: string; position: string; recordedAt: string; data: Record<string, unknown> });
  };

  it("prints a workspace's events with its organization's events about it, in log order, secrets without their values", async () => {
    const entries = await history('--workspace', workspaceId, '--json');
    expect(entries.map((e) => e.type)).toEqual(['WorkspaceCreated', 'NamespaceAdded', 'MemberAdded', 'SecretWritten', 'WorkspaceRenamed']);
    expect(entries.map((e) => Number(e.position))).toEqual([...entries.map((e) => Number(e.position))].sort((a, b) => a - b));
    expect(entries[0]!.stream).toMatch(/^organization-/);
    expect(entries.find((e) => e.type === 'SecretWritten')!.data['values']).toEqual({ password: '[sealed]' });
    const { stdout } = await run(['history', '--workspace', workspaceId], { CANOPY_DATA_DIR: dataDir });
    expect(stdout).not.toContain('hunter2-plain');
    expect(stdout.split('\n')[0]).toMatch(/^\d{4}-\d\d-\d\dT.*#\d+ {2}organization-\S+@\d+ {2}WorkspaceCreated {2}by ada/);
  });

  it('filters by actor and by time range', async () => {
    expect((await history('--workspace', workspaceId, '--actor', 'bob', '--json')).map((e) => e.type)).toEqual(['SecretWritten', 'WorkspaceRenamed']);
    const later = await history('--workspace', workspaceId, '--since', between.toISOString(), '--json');
    expect(later.map((e) => e.type)).toEqual(['MemberAdded', 'SecretWritten', 'WorkspaceRenamed']);
    const earlier = await history('--workspace', workspaceId, '--until', between.toISOString(), '--json');
    expect([...earlier, ...later]).toHaveLength(5);
  });

  // Three replays, each a process opening the embedded log and read models and rebuilding every read model.
  it('replay: rebuilds the read models from zero and finds them equal to the live ones; a tampered live table is reported and repaired', async () => {
    const replay = (...args: string[]) => run(['replay', ...args], { CANOPY_DATA_DIR: dataDir });
    const first = await replay();
    expect(first.code).toBe(0);
    expect(first.stdout.match(/: equal$/gm)).toHaveLength(PROJECTORS.length);
    expect(first.stdout).toMatch(/^membership v2: \d+ events rebuilt/m);

    const db = await openReadModelDb({ kind: 'pglite', dataDir: join(dataDir, 'read-models') });
    await db.query(`UPDATE rm_membership_v2.members SET role = 'owner' WHERE user_id = 'bob'`);
    await db.close();
    const tampered = await replay('--projection', 'membership');
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toMatch(/^membership v2: .*DIFFERENT$/m);
    expect((await replay('--projection', 'membership')).code).toBe(0);
    expect((await replay('--projection', 'nope')).code).toBe(2);
  }, 180_000);

  it('prints any one stream, and refuses unclear requests with exit code 2', async () => {
    expect((await history('--stream', `workspace-${workspaceId}`, '--json')).every((e) => e.stream === `workspace-${workspaceId}`)).toBe(true);
    expect((await run(['history'], { CANOPY_DATA_DIR: dataDir })).code).toBe(2);
    expect((await run(['history', '--workspace', 'a', '--stream', 'b'], { CANOPY_DATA_DIR: dataDir })).code).toBe(2);
    const badTime = await run(['history', '--workspace', workspaceId, '--since', 'yesterday-ish'], { CANOPY_DATA_DIR: dataDir });
    expect(badTime.code).toBe(2);
    expect(badTime.stderr).toContain('--since must be an ISO 8601 time');
  });
});

describe('canopy subgraph', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'canopy-subgraph-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('serves the workspaces subgraph alone, authenticating callers with the same secret, until SIGTERM', async () => {
    const secret = 'subgraph-test-secret-0123456789abcdef';
    const child = spawn(process.execPath, [cli, 'subgraph', 'workspaces', '--port', '0'], {
      env: { ...base, CANOPY_DATA_DIR: dataDir, CANOPY_JWT_SECRET: secret },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      // pino's JSON lines on stdout: the listening one carries the URL.
      const listening = await new Promise<{ url: string; serves: string }>((resolve, reject) => {
        let output = '';
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          const line = output.split('\n').find((candidate) => candidate.includes('"canopy listening"'));
          if (line) resolve(JSON.parse(line) as { url: string; serves: string });
        });
        void exited.then((code) => reject(new Error(`canopy subgraph exited with ${code} before listening: ${output}`)));
      });
      expect(listening.serves).toBe('the workspaces subgraph');
      const { url } = listening;
      const jwt = await mintToken({ secret: new TextEncoder().encode(secret), userId: 'ada', ttlSeconds: 600, issuer: 'canopy', audience: 'canopy', now: new Date() });
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${jwt}` },
        body: JSON.stringify({ query: '{ _service { sdl } organizations { nodes { id } } }' }),
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { data: { _service: { sdl: string }; organizations: { nodes: unknown[] } } };
      expect(body.data._service.sdl).toContain('@key(fields: "id")');
      expect(body.data.organizations.nodes).toEqual([]);
      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(200);
      expect(((await health.json()) as { projections: unknown[] }).projections).toHaveLength(PROJECTORS.length);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 120_000);

  it('refuses an unknown subgraph with exit code 2, naming the known ones', async () => {
    const { code, stderr } = await run(['subgraph', 'billing'], { CANOPY_DATA_DIR: dataDir });
    expect(code).toBe(2);
    expect(stderr).toContain('subgraph needs a subgraph name: workspaces');
  });
});
