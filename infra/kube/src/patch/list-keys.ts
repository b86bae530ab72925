import { isObject, type JsonValue } from '../json.js';

/**
 * How the lists of the served kinds merge, by field name: associative lists
 * (items identified by key fields; `defaults` fill key fields the server
 * would default), and sets of scalars. Every other list is atomic: a patch
 * or an apply replaces it whole. This is the subset of the Kubernetes
 * schemas' `patchMergeKey` / `listType=map` markers that the served kinds use.
 */
export type ListKey = { fields: readonly string[]; defaults?: Readonly<Record<string, JsonValue>> };

const LIST_KEYS: Record<string, ListKey> = {
  containers: { fields: ['name'] },
  initContainers: { fields: ['name'] },
  ephemeralContainers: { fields: ['name'] },
  env: { fields: ['name'] },
  volumes: { fields: ['name'] },
  volumeMounts: { fields: ['mountPath'] },
  volumeDevices: { fields: ['devicePath'] },
  ports: { fields: ['containerPort', 'protocol'], defaults: { protocol: 'TCP' } },
  imagePullSecrets: { fields: ['name'] },
  hostAliases: { fields: ['ip'] },
  conditions: { fields: ['type'] },
  ownerReferences: { fields: ['uid'] },
  resourceClaims: { fields: ['name'] },
  topologySpreadConstraints: { fields: ['topologyKey', 'whenUnsatisfiable'] },
};

const SET_LISTS = new Set(['finalizers']);

export function listKeyOf(field: string): ListKey | undefined {
  return LIST_KEYS[field];
}

export function isSetList(field: string): boolean {
  return SET_LISTS.has(field);
}

/** The key of an associative list item, with defaults applied; undefined if the item is not an object. */
export function itemKey(key: ListKey, item: JsonValue): Record<string, JsonValue> | undefined {
  if (!isObject(item)) return undefined;
  const out: Record<string, JsonValue> = {};
  for (const field of key.fields) {
    const value = item[field] ?? key.defaults?.[field];
    if (value !== undefined) out[field] = value;
  }
  return out;
}

export function sameKey(key: ListKey, a: JsonValue, b: JsonValue): boolean {
  const ka = itemKey(key, a);
  const kb = itemKey(key, b);
  if (!ka || !kb) return false;
  return key.fields.every((f) => ka[f] === kb[f]);
}
