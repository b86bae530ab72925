import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CanopyError, ErrorCode } from '@canopy/schema';
import { generateMasterKey, loadOrCreateDevMasterKey, parseMasterKey } from '../src/index.js';

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('parseMasterKey', () => {
  it('decodes a generated key, ignoring surrounding whitespace', () => {
    const encoded = generateMasterKey();
    expect(encoded).toHaveLength(44);
    expect(parseMasterKey(`  ${encoded}\n`).equals(Buffer.from(encoded, 'base64'))).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['too short', Buffer.alloc(16, 1).toString('base64')],
    ['too long', Buffer.alloc(48, 1).toString('base64')],
    ['not base64', 'this is not a key, this is a passphrase!!!!'],
    ['base64 with garbage inside', `${generateMasterKey().slice(0, 20)}$$$${generateMasterKey().slice(23)}`],
  ])('rejects a key that is %s, naming CANOPY_MASTER_KEY and not echoing the value', (_, value) => {
    const error = caught(() => parseMasterKey(value)) as CanopyError;
    expect(error).toBeInstanceOf(CanopyError);
    expect(error.code).toBe(ErrorCode.BAD_USER_INPUT);
    expect(error.message).toContain('CANOPY_MASTER_KEY');
    if (value) expect(error.message).not.toContain(value);
  });
});

describe('loadOrCreateDevMasterKey', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'canopy-keystore-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('creates the key once, with mode 0600 and its folders, then reads the same key back', async () => {
    const file = join(dir, 'nested', 'deeper', 'master.key');
    const first = await loadOrCreateDevMasterKey(file);
    expect(first.created).toBe(true);
    expect(first.key).toHaveLength(32);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(parseMasterKey(await readFile(file, 'utf8')).equals(first.key)).toBe(true);

    const second = await loadOrCreateDevMasterKey(file);
    expect(second.created).toBe(false);
    expect(second.key.equals(first.key)).toBe(true);
  });

  it('gives concurrent first callers one and the same key, created by exactly one of them', async () => {
    const file = join(dir, 'race', 'master.key');
    const results = await Promise.all(Array.from({ length: 10 }, () => loadOrCreateDevMasterKey(file)));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    for (const r of results) expect(r.key.equals(results[0]!.key)).toBe(true);
    expect(parseMasterKey(await readFile(file, 'utf8')).equals(results[0]!.key)).toBe(true);
  });

  it('refuses a file that does not hold a valid key instead of replacing it', async () => {
    const file = join(dir, 'broken.key');
    await writeFile(file, 'not a key\n');
    await expect(loadOrCreateDevMasterKey(file)).rejects.toMatchObject({ code: ErrorCode.BAD_USER_INPUT, details: { file } });
    expect(await readFile(file, 'utf8')).toBe('not a key\n');
  });
});
