import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CanopyError, ErrorCode } from '@canopy/schema';

/** AES-256: the master key is 32 bytes. */
export const MASTER_KEY_BYTES = 32;

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Decodes a master key given as standard base64 (44 characters, e.g. the
 * value of CANOPY_MASTER_KEY). Anything that is not exactly 32 bytes of
 * base64 is a BAD_USER_INPUT error; the message never repeats the value.
 */
export function parseMasterKey(base64: string): Buffer {
  const text = base64.trim();
  const key = BASE64.test(text) ? Buffer.from(text, 'base64') : undefined;
  if (!key || key.length !== MASTER_KEY_BYTES) {
    throw new CanopyError(
      ErrorCode.BAD_USER_INPUT,
      `CANOPY_MASTER_KEY must be ${MASTER_KEY_BYTES} random bytes in base64 (44 characters); generate one with: ` +
        `node -e "console.log(require('node:crypto').randomBytes(32).toString('base64'))"`,
      { field: 'CANOPY_MASTER_KEY' },
    );
  }
  return key;
}

/** A new random master key, in base64 (for docs and the CLI). */
export function generateMasterKey(): string {
  return randomBytes(MASTER_KEY_BYTES).toString('base64');
}

/**
 * For development only: the master key kept in `file` (base64), created with
 * mode 0600 (and its folders) when missing. The file is written under a
 * temporary name and then hard-linked into place, which fails if the file
 * already exists: two processes starting together never end up with
 * different keys, and no reader ever sees a half-written file.
 */
export async function loadOrCreateDevMasterKey(file: string): Promise<{ key: Buffer; created: boolean }> {
  const existing = await readKeyFile(file);
  if (existing) return { key: existing, created: false };

  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const encoded = generateMasterKey();
  const temporary = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temporary, `${encoded}\n`, { flag: 'wx', mode: 0o600 });
  try {
    await link(temporary, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // Another process created it first: use theirs.
    const theirs = await readKeyFile(file);
    if (!theirs) throw error;
    return { key: theirs, created: false };
  } finally {
    await unlink(temporary).catch(() => {});
  }
  return { key: Buffer.from(encoded, 'base64'), created: true };
}

async function readKeyFile(file: string): Promise<Buffer | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return parseMasterKey(text);
  } catch (error) {
    throw new CanopyError(
      ErrorCode.BAD_USER_INPUT,
      `The development master key file ${file} does not hold a valid key (32 bytes in base64). Delete it only if nothing was encrypted with it: every secret sealed under it would become unreadable.`,
      { field: 'CANOPY_MASTER_KEY', file },
      { cause: error },
    );
  }
}
