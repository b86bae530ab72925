import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ErrorCode } from '@canopy/schema';
import { pgliteSqlClient, type SqlClient } from '@canopy/eventstore';
import { generateMasterKey, KeyStore, openKeyStore, parseMasterKey, SecretCipher, type SealedValue } from '../src/index.js';

const masterKey = parseMasterKey(generateMasterKey());
const aad = (workspace: string, secret: string, key: string, version: number) => `${workspace}/${secret}/${key}@${version}`;

describe('KeyStore and SecretCipher on PGlite (in memory)', () => {
  let sql: SqlClient;
  let keys: KeyStore;
  let cipher: SecretCipher;

  beforeAll(async () => {
    sql = await pgliteSqlClient();
    keys = await KeyStore.open(sql, { masterKey });
    cipher = new SecretCipher(keys);
  });
  afterAll(() => sql.close());

  it('opens what it sealed', async () => {
    for (const plaintext of ['hunter2', '', 'pässwörd ✓ 🔑', 'x'.repeat(100_000)]) {
      const sealed = await cipher.seal('ws-round-trip', plaintext, aad('ws-round-trip', 'db', 'password', 1));
      expect(sealed.alg).toBe('A256GCM');
      expect(JSON.parse(JSON.stringify(sealed))).toEqual(sealed);
      expect(await cipher.open('ws-round-trip', sealed, aad('ws-round-trip', 'db', 'password', 1))).toBe(plaintext);
    }
  });

  it('never puts the plaintext, in any encoding, into the sealed value, and never seals the same way twice', async () => {
    const plaintext = 'correct horse battery staple';
    const a = await cipher.seal('ws-leak', plaintext, 'aad');
    const b = await cipher.seal('ws-leak', plaintext, 'aad');
    for (const sealed of [a, b]) {
      const json = JSON.stringify(sealed);
      expect(json).not.toContain(plaintext);
      expect(json).not.toContain(Buffer.from(plaintext).toString('base64'));
      expect(json).not.toContain(Buffer.from(plaintext).toString('hex'));
    }
    expect(a.iv).not.toBe(b.iv);
    expect(a.ciphertext).not.toBe(b.ciphertext);
  });

  it('refuses to open with a different AAD, a different workspace, or an altered value', async () => {
    const right = aad('ws-aad', 'db', 'password', 1);
    const sealed = await cipher.seal('ws-aad', 'hunter2', right);
    await keys.dataKey('ws-other');
    const flipped = (b64: string) => {
      const bytes = Buffer.from(b64, 'base64');
      bytes[0] = bytes[0]! ^ 1;
      return bytes.toString('base64');
    };
    const attempts: [string, SealedValue, string][] = [
      ['ws-aad', sealed, aad('ws-aad', 'db', 'password', 2)],
      ['ws-aad', sealed, aad('ws-aad', 'db', 'username', 1)],
      ['ws-other', sealed, right],
      ['ws-aad', { ...sealed, ciphertext: flipped(sealed.ciphertext) }, right],
      ['ws-aad', { ...sealed, tag: flipped(sealed.tag) }, right],
      ['ws-aad', { ...sealed, iv: flipped(sealed.iv) }, right],
    ];
    for (const [workspace, value, withAad] of attempts) {
      await expect(cipher.open(workspace, value, withAad)).rejects.toMatchObject({ code: ErrorCode.INTERNAL });
    }
    expect(await cipher.open('ws-aad', sealed, right)).toBe('hunter2');
  });

  it('rejects what is not a sealed value', async () => {
    const sealed = await cipher.seal('ws-shape', 'v', 'a');
    for (const bad of [{ ...sealed, alg: 'A128GCM' }, { ...sealed, tag: sealed.tag.slice(0, 8) }, { ...sealed, iv: undefined }, null]) {
      await expect(cipher.open('ws-shape', bad as unknown as SealedValue, 'a')).rejects.toMatchObject({ code: ErrorCode.BAD_USER_INPUT });
    }
  });

  it('does not create a key when asked to open a value for a workspace that has none', async () => {
    const sealed = await cipher.seal('ws-source', 'v', 'a');
    await expect(cipher.open('ws-never-used', sealed, 'a')).rejects.toMatchObject({ code: ErrorCode.INTERNAL });
    expect(await sql.query(`SELECT 1 FROM canopy_data_keys WHERE workspace_id = 'ws-never-used'`)).toHaveLength(0);
  });

  it('stores data keys wrapped, never in the clear, and gives one key per workspace', async () => {
    const key = await keys.dataKey('ws-wrapped');
    expect(key).toHaveLength(32);
    expect((await keys.dataKey('ws-wrapped')).equals(key)).toBe(true);
    expect((await keys.dataKey('ws-another')).equals(key)).toBe(false);
    const [row] = await sql.query<{ wrapped_key: string; key_version: number }>(`SELECT wrapped_key, key_version FROM canopy_data_keys WHERE workspace_id = 'ws-wrapped'`);
    expect(row!.wrapped_key).toMatch(/^v1\.[^.]+\.[^.]+\.[^.]+$/);
    expect(row!.wrapped_key).not.toContain(key.toString('base64'));
    expect(row!.key_version).toBe(1);
  });

  it('refuses a wrapped key copied into another workspace\'s row', async () => {
    await keys.dataKey('ws-victim');
    await keys.dataKey('ws-thief');
    await sql.query(`UPDATE canopy_data_keys SET wrapped_key = (SELECT wrapped_key FROM canopy_data_keys WHERE workspace_id = 'ws-victim') WHERE workspace_id = 'ws-thief'`);
    await expect(keys.dataKey('ws-thief')).rejects.toMatchObject({ code: ErrorCode.INTERNAL, message: 'cannot unwrap data key: wrong CANOPY_MASTER_KEY?' });
    await sql.query(`DELETE FROM canopy_data_keys WHERE workspace_id = 'ws-thief'`);
  });

  it('hands 20 concurrent first callers one and the same key', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => keys.dataKey('ws-race')));
    for (const key of results) expect(key.equals(results[0]!)).toBe(true);
    expect(await sql.query(`SELECT 1 FROM canopy_data_keys WHERE workspace_id = 'ws-race'`)).toHaveLength(1);
  });

  it('destroys a key for good: earlier values do not open, nothing new seals, and the other workspaces are untouched', async () => {
    const sealed = await cipher.seal('ws-doomed', 'hunter2', 'a');
    const survivor = await cipher.seal('ws-survivor', 'still here', 'a');
    expect(await keys.isDestroyed('ws-doomed')).toBe(false);

    await keys.destroy('ws-doomed');
    await keys.destroy('ws-doomed');

    expect(await keys.isDestroyed('ws-doomed')).toBe(true);
    const destroyed = { code: ErrorCode.SECRET_KEY_DESTROYED, details: { workspaceId: 'ws-doomed' } };
    await expect(cipher.open('ws-doomed', sealed, 'a')).rejects.toMatchObject(destroyed);
    await expect(cipher.seal('ws-doomed', 'again', 'a')).rejects.toMatchObject(destroyed);
    await expect(keys.dataKey('ws-doomed')).rejects.toMatchObject(destroyed);
    expect(await cipher.open('ws-survivor', survivor, 'a')).toBe('still here');

    const [row] = await sql.query<{ wrapped_key: string | null; destroyed_at: Date | null }>(`SELECT wrapped_key, destroyed_at FROM canopy_data_keys WHERE workspace_id = 'ws-doomed'`);
    expect(row).toEqual({ wrapped_key: null, destroyed_at: expect.any(Date) });
  });

  it('leaves a tombstone when a workspace that never had a key is destroyed, so it never gets one', async () => {
    expect(await keys.isDestroyed('ws-tombstone')).toBe(false);
    await keys.destroy('ws-tombstone');
    expect(await keys.isDestroyed('ws-tombstone')).toBe(true);
    await expect(Promise.all(Array.from({ length: 5 }, () => keys.dataKey('ws-tombstone')))).rejects.toMatchObject({ code: ErrorCode.SECRET_KEY_DESTROYED });
    expect(await sql.query(`SELECT 1 FROM canopy_data_keys WHERE workspace_id = 'ws-tombstone' AND wrapped_key IS NOT NULL`)).toHaveLength(0);
  });

  it('rejects an empty workspace id', async () => {
    await expect(keys.dataKey('')).rejects.toMatchObject({ code: ErrorCode.BAD_USER_INPUT });
    await expect(keys.destroy('')).rejects.toMatchObject({ code: ErrorCode.BAD_USER_INPUT });
  });

  it('refuses a master key that is not 32 bytes', async () => {
    await expect(KeyStore.open(sql, { masterKey: Buffer.alloc(16) })).rejects.toMatchObject({ code: ErrorCode.BAD_USER_INPUT });
  });
});

describe('openKeyStore on a persisted PGlite directory', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'canopy-keystore-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('keeps data keys and destructions across re-opens, and refuses a wrong master key at open', async () => {
    const dataDir = join(dir, 'keys');
    const first = await openKeyStore({ kind: 'pglite', dataDir }, masterKey);
    expect(first.description).toBe(`embedded PGlite in ${dataDir}`);
    const cipher = new SecretCipher(first.keys);
    const key = await first.keys.dataKey('ws-kept');
    const sealed = await cipher.seal('ws-kept', 'hunter2', 'a');
    const doomed = await cipher.seal('ws-gone', 'bye', 'a');
    await first.keys.destroy('ws-gone');
    await first.close();

    const second = await openKeyStore({ kind: 'pglite', dataDir }, masterKey);
    expect((await second.keys.dataKey('ws-kept')).equals(key)).toBe(true);
    expect(await new SecretCipher(second.keys).open('ws-kept', sealed, 'a')).toBe('hunter2');
    expect(await second.keys.isDestroyed('ws-gone')).toBe(true);
    await expect(new SecretCipher(second.keys).open('ws-gone', doomed, 'a')).rejects.toMatchObject({ code: ErrorCode.SECRET_KEY_DESTROYED });
    await second.close();

    const wrongKey = parseMasterKey(generateMasterKey());
    await expect(openKeyStore({ kind: 'pglite', dataDir }, wrongKey)).rejects.toMatchObject({
      code: ErrorCode.INTERNAL,
      message: 'cannot unwrap data key: wrong CANOPY_MASTER_KEY?',
    });

    // The failed open released the directory: the right key still opens it.
    const third = await openKeyStore({ kind: 'pglite', dataDir }, masterKey);
    expect((await third.keys.dataKey('ws-kept')).equals(key)).toBe(true);
    await third.close();
  });
});
