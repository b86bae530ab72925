import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { CanopyError, ErrorCode } from '@canopy/schema';
import type { KeyStore } from './key-store.js';

/**
 * A secret value sealed with its workspace's data key: plain JSON (base64
 * strings), so it can travel in an event payload. Its contract (zod schema)
 * belongs with the events in `schema/`.
 */
export interface SealedValue {
  alg: 'A256GCM';
  iv: string;
  ciphertext: string;
  tag: string;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Seals and opens secret values with AES-256-GCM under the workspace's data
 * key. The AAD is the caller's: bind it to what the value is (workspace,
 * secret, key, version), so a sealed value moved elsewhere does not open.
 */
export class SecretCipher {
  constructor(private readonly keys: KeyStore) {}

  async seal(workspaceId: string, plaintext: string, aad: string): Promise<SealedValue> {
    const key = await this.keys.dataKey(workspaceId);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return { alg: 'A256GCM', iv: iv.toString('base64'), ciphertext: ciphertext.toString('base64'), tag: cipher.getAuthTag().toString('base64') };
  }

  /**
   * The plaintext; SECRET_KEY_DESTROYED when the workspace's key was
   * destroyed; INTERNAL when the value was tampered with or the AAD differs
   * from the one it was sealed with; BAD_USER_INPUT when `sealed` is not a
   * sealed value.
   */
  async open(workspaceId: string, sealed: SealedValue, aad: string): Promise<string> {
    const parts = decode(sealed);
    const key = await this.keys.dataKey(workspaceId, { create: false });
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, parts.iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(parts.tag);
      return Buffer.concat([decipher.update(parts.ciphertext), decipher.final()]).toString('utf8');
    } catch (error) {
      throw new CanopyError(
        ErrorCode.INTERNAL,
        'cannot open sealed value: it was altered, belongs to another workspace, or was sealed with a different AAD',
        { workspaceId },
        { cause: error },
      );
    }
  }
}

function decode(sealed: SealedValue): { iv: Buffer; ciphertext: Buffer; tag: Buffer } {
  const bad = () => new CanopyError(ErrorCode.BAD_USER_INPUT, 'Not a sealed value: expected { alg: "A256GCM", iv, ciphertext, tag } in base64.', { field: 'sealed' });
  if (typeof sealed !== 'object' || sealed === null || sealed.alg !== 'A256GCM') throw bad();
  const { iv, ciphertext, tag } = sealed;
  if (typeof iv !== 'string' || typeof ciphertext !== 'string' || typeof tag !== 'string') throw bad();
  const parts = { iv: Buffer.from(iv, 'base64'), ciphertext: Buffer.from(ciphertext, 'base64'), tag: Buffer.from(tag, 'base64') };
  if (parts.iv.length !== IV_BYTES || parts.tag.length !== TAG_BYTES) throw bad();
  return parts;
}
