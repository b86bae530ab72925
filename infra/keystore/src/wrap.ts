import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { CanopyError, ErrorCode } from '@canopy/schema';

/**
 * Wrapping of a data key by the master key: AES-256-GCM, a random 12-byte
 * IV, and the workspace id as AAD, so a wrapped key copied to another
 * workspace's row does not unwrap. Stored as `v1.<iv>.<ciphertext>.<tag>`
 * (base64 parts).
 */
const FORMAT = 'v1';

export function wrapKey(masterKey: Buffer, workspaceId: string, dataKey: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', masterKey, iv);
  cipher.setAAD(Buffer.from(workspaceId, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(dataKey), cipher.final()]);
  return [FORMAT, iv.toString('base64'), ciphertext.toString('base64'), cipher.getAuthTag().toString('base64')].join('.');
}

export function unwrapKey(masterKey: Buffer, workspaceId: string, wrapped: string): Buffer {
  const [format, iv, ciphertext, tag, ...rest] = wrapped.split('.');
  try {
    if (format !== FORMAT || iv === undefined || ciphertext === undefined || tag === undefined || rest.length > 0) {
      throw new Error(`unknown wrapped key format ${JSON.stringify(format)}`);
    }
    const tagBytes = Buffer.from(tag, 'base64');
    if (tagBytes.length !== 16) throw new Error(`authentication tag is ${tagBytes.length} bytes, not 16`);
    const decipher = createDecipheriv('aes-256-gcm', masterKey, Buffer.from(iv, 'base64'), { authTagLength: 16 });
    decipher.setAAD(Buffer.from(workspaceId, 'utf8'));
    decipher.setAuthTag(tagBytes);
    const key = Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64')), decipher.final()]);
    if (key.length !== 32) throw new Error(`unwrapped key is ${key.length} bytes, not 32`);
    return key;
  } catch (error) {
    throw new CanopyError(ErrorCode.INTERNAL, 'cannot unwrap data key: wrong CANOPY_MASTER_KEY?', { workspaceId }, { cause: error });
  }
}
