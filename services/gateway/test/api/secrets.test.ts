import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadOrCreateDevMasterKey, openKeyStore, SecretCipher, type SealedValue } from '@canopy/keystore';
import { secretAad } from '@canopy/workspaces';
import { DEV_MASTER_KEY_FILE } from '../../src/gateway.js';
import { createTeam, Q, TestGateway, unique, type TeamSetup } from './client.js';

/**
 * Secret values go in through writeSecret and never come out: not in answers, not in the gateway's log
 * output, not in the event log (only sealed with the workspace's data key), and not at all once the
 * workspace is deleted and its key destroyed.
 */
describe('API: secrets', () => {
  let gateway: TestGateway;
  let team: TeamSetup;
  let workspaceId: string;
  let version: number;
  /** A second workspace, deleted after a secret was written in it. */
  let shreddedId: string;
  const admin = unique('admin');
  const member = unique('member');
  /** Distinctive values: two keys of one secret, and the second version of one of them. */
  const value = `s3cr3t-${randomBytes(16).toString('hex')}`;
  const other = `another-${randomBytes(16).toString('hex')}`;
  const rewritten = `rewritten-${randomBytes(16).toString('hex')}`;
  const shredded = `shredded-${randomBytes(16).toString('hex')}`;
  const VALUES = [value, other, rewritten, shredded];
  /** Every answer received in this file, to search for the values. */
  const answers: string[] = [];

  /** Encodings a careless implementation might write a value in. */
  const encodings = (text: string) => [text, Buffer.from(text).toString('base64'), Buffer.from(text).toString('base64url'), Buffer.from(text).toString('hex')];

  async function call(caller: string, query: string, variables: Record<string, unknown>) {
    const response = await gateway.gql(caller, query, variables);
    answers.push(JSON.stringify(response.body));
    return response;
  }

  async function openKeys() {
    const { key } = await loadOrCreateDevMasterKey(join(gateway.dataDir, DEV_MASTER_KEY_FILE));
    return openKeyStore({ kind: 'pglite', dataDir: join(gateway.dataDir, 'keys') }, key);
  }

  async function secretEvents(id = workspaceId) {
    return (await gateway.streamEvents(`workspace-${id}`)).filter((e) => e.type === 'SecretWritten') as unknown as {
      data: { name: string; version: number; values: Record<string, SealedValue>; writtenBy: string };
    }[];
  }

  beforeAll(async () => {
    // Everything the gateway logs, down to trace.
    gateway = await TestGateway.start({ logLevel: 'trace' });
    team = await createTeam(gateway);
    const created = await gateway.ok(team.owner, Q.createWorkspace, { organizationId: team.organizationId, name: 'vault', kind: 'PROJECT' });
    workspaceId = created.createWorkspace.workspaceId;
    await gateway.ok(team.owner, Q.addMember, { workspaceId, expectedVersion: 0, userId: admin, role: 'ADMIN' });
    await gateway.ok(team.owner, Q.addMember, { workspaceId, expectedVersion: 1, userId: member, role: 'MEMBER' });
    version = 2;
    shreddedId = (await gateway.ok(team.owner, Q.createWorkspace, { organizationId: team.organizationId, name: 'shredded', kind: 'PROJECT' })).createWorkspace.workspaceId;
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  it('lets an admin write a secret and a new version of it; answers and queries show names, keys and versions only', async () => {
    const first = await call(admin, Q.writeSecret, { workspaceId, expectedVersion: version, name: 'db', values: [{ key: 'password', value }, { key: 'dsn', value: other }] });
    expect(first.body.errors).toBeUndefined();
    expect(first.body.data.writeSecret.workspace.secrets).toEqual([{ name: 'db', version: 1, keys: ['dsn', 'password'], updatedBy: admin, updatedAt: expect.any(String) }]);
    version = first.body.data.writeSecret.version;
    const second = await call(team.owner, Q.writeSecret, { workspaceId, expectedVersion: version, name: 'db', values: [{ key: 'password', value: rewritten }, { key: 'dsn', value: other }] });
    expect(second.body.data.writeSecret.workspace.secrets).toEqual([{ name: 'db', version: 2, keys: ['dsn', 'password'], updatedBy: team.owner, updatedAt: expect.any(String) }]);
    version = second.body.data.writeSecret.version;

    for (const caller of [team.owner, admin, member]) {
      await call(caller, Q.workspace, { id: workspaceId });
      await call(caller, Q.workspaces, {});
      await call(caller, Q.organizations, {});
    }
    // Refusals do not echo the value either.
    await call(admin, Q.writeSecret, { workspaceId, expectedVersion: 0, name: 'db', values: [{ key: 'password', value }] });
    await call(admin, Q.writeSecret, { workspaceId, expectedVersion: version, name: 'Bad Name', values: [{ key: 'password', value }] });
    await call(admin, Q.writeSecret, { workspaceId, expectedVersion: version, name: 'db', values: [{ key: '..bad', value }] });
    const all = answers.join('\n');
    expect(all).toContain('"db"');
    for (const secret of VALUES) for (const encoded of encodings(secret)) expect(all).not.toContain(encoded);
  });

  /** A workspace where only a member ever tried to write a secret. */
  let triedByMemberOnly: string;

  it('refuses a member writing a secret (FORBIDDEN) and a stranger (NOT_FOUND), recording nothing', async () => {
    const error = await gateway.expectError(member, Q.writeSecret, { workspaceId, expectedVersion: version, name: 'mine', values: [{ key: 'k', value }] }, 'FORBIDDEN');
    expect(error.extensions).toMatchObject({ role: 'member', required: 'admin' });
    await gateway.expectError(unique('stranger'), Q.writeSecret, { workspaceId, expectedVersion: version, name: 'mine', values: [{ key: 'k', value }] }, 'NOT_FOUND');
    await gateway.expectError(member, Q.deleteSecret, { workspaceId, expectedVersion: version, name: 'db' }, 'FORBIDDEN');
    const other = await createTeam(gateway);
    triedByMemberOnly = other.defaultWorkspaceId;
    await gateway.ok(other.owner, Q.addMember, { workspaceId: triedByMemberOnly, expectedVersion: 0, userId: member, role: 'MEMBER' });
    await gateway.expectError(member, Q.writeSecret, { workspaceId: triedByMemberOnly, expectedVersion: 1, name: 'mine', values: [{ key: 'k', value }] }, 'FORBIDDEN');
  });

  it('deletes a workspace holding a secret: the sealed values stay in the log', async () => {
    const written = await call(team.owner, Q.writeSecret, { workspaceId: shreddedId, expectedVersion: 0, name: 'db', values: [{ key: 'password', value: shredded }] });
    expect(written.body.data.writeSecret.version).toBe(1);
    const deleted = await gateway.ok(team.owner, Q.deleteWorkspace, { workspaceId: shreddedId, expectedVersion: 1 });
    expect(deleted.deleteWorkspace).toMatchObject({ changed: true, version: 2, workspace: null });
    expect((await gateway.streamEvents(`workspace-${shreddedId}`)).map((e) => e.type)).toEqual(['SecretWritten', 'WorkspaceClosed']);
    await gateway.expectError(team.owner, Q.workspace, { id: shreddedId }, 'NOT_FOUND');
    for (const encoded of encodings(shredded)) expect(answers.join('\n')).not.toContain(encoded);
  });

  it('never writes a value to the gateway’s log output, down to trace level', () => {
    const output = gateway.logText();
    // The output is there to search: the secret mutations were logged, without their variables.
    expect(output).toContain('"operation":"WriteSecret"');
    for (const secret of VALUES) for (const encoded of encodings(secret)) expect(output).not.toContain(encoded);
  });

  it('records only sealed values in the log: no value in any event, nor in any file of the data directory', async () => {
    const events = await gateway.allEvents();
    expect(events.some((e) => e.type === 'SecretWritten')).toBe(true);
    const raw = events.map((e) => JSON.stringify(e, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))).join('\n');
    for (const secret of VALUES) for (const encoded of encodings(secret)) expect(raw).not.toContain(encoded);

    // The databases on disk (log and keys), byte for byte: the plain value, or in base64.
    const files = await readdir(gateway.dataDir, { recursive: true, withFileTypes: true });
    const needles = VALUES.flatMap((secret) => [secret, Buffer.from(secret).toString('base64')]);
    let scanned = 0;
    const found: string[] = [];
    for (const file of files.filter((f) => f.isFile())) {
      const bytes = await readFile(join(file.parentPath, file.name));
      scanned += bytes.length;
      for (const needle of needles) if (bytes.includes(needle)) found.push(`${file.name}: ${needle}`);
    }
    expect(found).toEqual([]);
    expect(scanned).toBeGreaterThan(1_000_000);
  });
  it('does not echo a value in the error for a malformed $values variable', async () => {
    const secretValue = `echo-${randomBytes(16).toString('hex')}`;
    const team2 = await createTeam(gateway);
    const response = await gateway.expectLogUnchanged(() =>
      gateway.gql(team2.owner, Q.writeSecret, { workspaceId: team2.defaultWorkspaceId, expectedVersion: 0, name: 's', values: [{ key: 'k', value: secretValue, extra: 1 }] }),
    );
    expect(response.status).toBe(400);
    expect(response.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(response.body)).not.toContain(secretValue);
  });
  // Last: the key store's PGlite database serves one process at a time, so the gateway stops for good here.
  it('seals each value with the workspace’s data key, bound to its secret, key and version; a deleted workspace’s key is destroyed (SECRET_KEY_DESTROYED)', async () => {
    const written = await secretEvents();
    expect(written.map((e) => [e.data.name, e.data.version, Object.keys(e.data.values).sort(), e.data.writtenBy])).toEqual([
      ['db', 1, ['dsn', 'password'], admin],
      ['db', 2, ['dsn', 'password'], team.owner],
    ]);
    const [v1, v2] = written as [(typeof written)[number], (typeof written)[number]];
    const [gone] = await secretEvents(shreddedId);
    await gateway.stopServer();

    const keys = await openKeys();
    try {
      const cipher = new SecretCipher(keys.keys);
      const open = (sealed: SealedValue, version: number, key: string, id = workspaceId) => cipher.open(id, sealed, secretAad(id, 'db', version, key));
      expect(await open(v1.data.values['password']!, 1, 'password')).toBe(value);
      expect(await open(v1.data.values['dsn']!, 1, 'dsn')).toBe(other);
      expect(await open(v2.data.values['password']!, 2, 'password')).toBe(rewritten);
      // Moved to another version or key, a sealed value does not open.
      await expect(open(v1.data.values['password']!, 2, 'password')).rejects.toMatchObject({ code: 'INTERNAL' });
      await expect(open(v1.data.values['password']!, 1, 'dsn')).rejects.toMatchObject({ code: 'INTERNAL' });
      // The same value sealed twice does not give the same ciphertext.
      expect(v2.data.values['dsn']!.ciphertext).not.toBe(v1.data.values['dsn']!.ciphertext);
      // A refused write made no data key: only callers who may write secrets get one made.
      await expect(keys.keys.dataKey(triedByMemberOnly, { create: false })).rejects.toMatchObject({ code: 'INTERNAL', message: expect.stringMatching(/has no data key/) });

      // Crypto-shredding: the deleted workspace's values are in the log, and can never be opened again.
      expect(gone!.data.values['password']).toMatchObject({ alg: 'A256GCM' });
      await expect(open(gone!.data.values['password']!, 1, 'password', shreddedId)).rejects.toMatchObject({ code: 'SECRET_KEY_DESTROYED' });
      expect(await keys.keys.isDestroyed(shreddedId)).toBe(true);
      expect(await keys.keys.isDestroyed(workspaceId)).toBe(false);
      // Destroyed for good: asking for the key again does not make a new one.
      await expect(keys.keys.dataKey(shreddedId)).rejects.toMatchObject({ code: 'SECRET_KEY_DESTROYED' });
    } finally {
      await keys.close();
    }
  });
});
