import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ErrorCode } from '@canopy/schema';
import { pgSqlClient } from '@canopy/eventstore';
import { generateMasterKey, openKeyStore, parseMasterKey, SecretCipher, type OpenedKeyStore } from '../src/index.js';
import { requirePostgresUrl, uniqueSchema } from '@canopy/eventstore/testing';

describe('KeyStore on PostgreSQL: two instances (two pools) sharing one table', () => {
  const url = requirePostgresUrl();
  const schema = uniqueSchema('keystore');
  const masterKey = parseMasterKey(generateMasterKey());
  let a: OpenedKeyStore;
  let b: OpenedKeyStore;

  beforeAll(async () => {
    // Both run the migration at once on a fresh schema.
    [a, b] = await Promise.all([openKeyStore({ kind: 'postgres', url, schema }, masterKey), openKeyStore({ kind: 'postgres', url, schema }, masterKey)]);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    const admin = pgSqlClient({ connectionString: url, max: 1 });
    await admin.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.close();
  });

  it('describes where the keys live without the password', async () => {
    expect(a.description).toContain(`schema ${schema}`);
  });

  it('gives racing first callers on both instances the same key', async () => {
    const workspaces = Array.from({ length: 25 }, (_, i) => `ws-race-${i}`);
    const results = await Promise.all(
      workspaces.flatMap((ws) => [a, b, a, b].map(async (store) => ({ ws, key: await store.keys.dataKey(ws) }))),
    );
    for (const ws of workspaces) {
      const keys = results.filter((r) => r.ws === ws).map((r) => r.key);
      expect(keys).toHaveLength(4);
      for (const key of keys) expect(key.equals(keys[0]!)).toBe(true);
    }
  });

  it('opens on one instance what the other sealed', async () => {
    const sealed = await new SecretCipher(a.keys).seal('ws-shared', 'hunter2', 'ws-shared/db/password@1');
    expect(await new SecretCipher(b.keys).open('ws-shared', sealed, 'ws-shared/db/password@1')).toBe('hunter2');
  });

  it('makes a destroy on one instance effective on the other at once (no cache)', async () => {
    const cipherA = new SecretCipher(a.keys);
    const cipherB = new SecretCipher(b.keys);
    const sealed = await cipherA.seal('ws-doomed', 'hunter2', 'x');
    expect(await cipherB.open('ws-doomed', sealed, 'x')).toBe('hunter2');

    await a.keys.destroy('ws-doomed');

    expect(await b.keys.isDestroyed('ws-doomed')).toBe(true);
    await expect(cipherB.open('ws-doomed', sealed, 'x')).rejects.toMatchObject({ code: ErrorCode.SECRET_KEY_DESTROYED });
    await expect(cipherB.seal('ws-doomed', 'new', 'x')).rejects.toMatchObject({ code: ErrorCode.SECRET_KEY_DESTROYED });
  });

  it('ends destroyed, for good, when a destroy races first dataKey calls', async () => {
    const outcomes = await Promise.allSettled([b.keys.destroy('ws-contested'), ...Array.from({ length: 5 }, () => a.keys.dataKey('ws-contested'))]);
    expect(outcomes[0]!.status).toBe('fulfilled');
    expect(await a.keys.isDestroyed('ws-contested')).toBe(true);
    await expect(b.keys.dataKey('ws-contested')).rejects.toMatchObject({ code: ErrorCode.SECRET_KEY_DESTROYED });
  });

  it('refuses a wrong master key at open', async () => {
    await expect(openKeyStore({ kind: 'postgres', url, schema }, parseMasterKey(generateMasterKey()))).rejects.toMatchObject({
      code: ErrorCode.INTERNAL,
      message: 'cannot unwrap data key: wrong CANOPY_MASTER_KEY?',
    });
  });
});
