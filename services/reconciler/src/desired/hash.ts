import { createHash } from 'node:crypto';
import { stableJson } from '@canopy/workspaces';
import { SECRET_VERSION_ANNOTATION } from './identity.js';
import type { KubeObject } from './types.js';


/**
 * A digest of the desired objects, recorded in the log: a Secret counts by
 * its keys and version only, so the log never holds a hash of a value
 * (which could be guessed for a weak one).
 */
export function desiredHash(objects: readonly KubeObject[]): string {
  const safe = objects.map((obj) =>
    obj.kind === 'Secret' ? { ...obj, data: Object.keys((obj['data'] as Record<string, string>) ?? {}), version: obj.metadata.annotations?.[SECRET_VERSION_ANNOTATION] } : obj,
  );
  return createHash('sha256').update(stableJson(safe)).digest('base64url').slice(0, 32);
}
