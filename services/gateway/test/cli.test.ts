import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createAuthenticator, resolveAuthConfig } from '../src/auth/index.js';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

/** Runs `node dist/cli.js …` as `npx canopy …` does, with no CANOPY_* variable but those given. */
function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('CANOPY_')));
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
    const lifetime = caller.expiresAt!.getTime() - started;
    expect(lifetime).toBeGreaterThan(3590_000);
    expect(lifetime).toBeLessThanOrEqual(3601_000);
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
