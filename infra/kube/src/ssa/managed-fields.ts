import { clone, deepEqual, isObject, type JsonObject, type JsonValue } from '../json.js';
import { isSetList, listKeyOf, sameKey } from '../patch/list-keys.js';
import {
  fieldSetOf,
  formatPath,
  fromFieldsV1,
  isUnder,
  parsePath,
  removeAt,
  toFieldsV1,
  valueAt,
  type FieldPath,
  type FieldSet,
  type Scope,
} from './fieldset.js';

/** One `metadata.managedFields` entry, with its field set decoded. */
export type ManagedEntry = {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  subresource?: string;
  fields: FieldSet;
};

export type ApplyConflict = { manager: string; operation: 'Apply' | 'Update'; apiVersion: string; subresource?: string; path: FieldPath };

export function readManagedFields(obj: JsonObject | undefined): ManagedEntry[] {
  const raw = isObject(obj?.['metadata']) ? (obj['metadata'] as JsonObject)['managedFields'] : undefined;
  if (!Array.isArray(raw)) return [];
  return raw.filter(isObject).map((entry) => ({
    manager: String(entry['manager'] ?? ''),
    operation: entry['operation'] === 'Apply' ? 'Apply' : 'Update',
    apiVersion: String(entry['apiVersion'] ?? ''),
    time: String(entry['time'] ?? ''),
    ...(typeof entry['subresource'] === 'string' && entry['subresource'] ? { subresource: entry['subresource'] } : {}),
    fields: fromFieldsV1(entry['fieldsV1']),
  }));
}

export function writeManagedFields(obj: JsonObject, entries: ManagedEntry[]): void {
  const metadata = obj['metadata'] as JsonObject;
  const kept = entries.filter((e) => e.fields.size > 0);
  if (kept.length === 0) {
    delete metadata['managedFields'];
    return;
  }
  metadata['managedFields'] = kept.map((e) => {
    const out: JsonObject = { manager: e.manager, operation: e.operation, apiVersion: e.apiVersion, time: e.time, fieldsType: 'FieldsV1', fieldsV1: toFieldsV1(e.fields) };
    if (e.subresource) out['subresource'] = e.subresource;
    return out;
  });
}

function sameEntry(e: ManagedEntry, manager: string, operation: 'Apply' | 'Update', subresource: string | undefined): boolean {
  return e.manager === manager && e.operation === operation && (e.subresource ?? '') === (subresource ?? '');
}

function changed(old: JsonObject | undefined, next: JsonObject, path: FieldPath, oldLeaves: FieldSet, serialized: string): boolean {
  if (!oldLeaves.has(serialized)) return true;
  if (path[path.length - 1] === '.') return false;
  return !deepEqual(valueAt(old ?? {}, path), valueAt(next, path));
}

/** Drops owned paths that no longer exist in the object, and entries left empty. */
function prune(entries: ManagedEntry[], obj: JsonObject): ManagedEntry[] {
  const present = fieldSetOf(obj, 'all');
  for (const entry of entries) for (const path of entry.fields) if (!present.has(path)) entry.fields.delete(path);
  return entries.filter((e) => e.fields.size > 0);
}

/**
 * Records a create, update or non-apply patch by `manager` on `next`'s
 * managedFields: the manager takes every field it changed from `old` (from
 * any other owner, without conflicts, as on the real server).
 */
export function recordUpdate(params: {
  old: JsonObject | undefined;
  next: JsonObject;
  manager: string;
  scope: Scope;
  apiVersion: string;
  time: string;
  subresource?: string;
}): void {
  const { old, next, manager, scope, subresource } = params;
  // `next` carries the stored entries, or those the client sent (see ResourceApi.keepServerFields).
  const entries = readManagedFields(next);
  const oldLeaves = old ? fieldSetOf(old, scope) : new Set<string>();
  const taken: FieldSet = new Set();
  for (const serialized of fieldSetOf(next, scope)) {
    if (changed(old, next, parsePath(serialized), oldLeaves, serialized)) taken.add(serialized);
  }
  if (taken.size > 0) {
    for (const entry of entries) for (const path of taken) entry.fields.delete(path);
    let own = entries.find((e) => sameEntry(e, manager, 'Update', subresource));
    if (!own) {
      own = { manager, operation: 'Update', apiVersion: params.apiVersion, time: params.time, fields: new Set(), ...(subresource ? { subresource } : {}) };
      entries.push(own);
    }
    for (const path of taken) own.fields.add(path);
    own.time = params.time;
    own.apiVersion = params.apiVersion;
  }
  writeManagedFields(next, prune(entries, next));
}

export type ApplyResult = { object: JsonObject; conflicts: ApplyConflict[] };

/**
 * Server-side apply of `applied` (the caller's configuration) by `manager`
 * onto `live` (undefined: the object does not exist yet). Fields another
 * manager owns with a different value are conflicts unless `force`, which
 * takes them over. Fields this manager applied before and no longer applies
 * are removed, unless another manager owns them too. `scope` is `main` for
 * the resource (status untouched) and `status` for the status subresource.
 */
export function serverSideApply(params: {
  live: JsonObject | undefined;
  applied: JsonObject;
  manager: string;
  force: boolean;
  scope: Exclude<Scope, 'all'>;
  apiVersion: string;
  time: string;
}): ApplyResult {
  const { live, applied, manager, force, scope } = params;
  const subresource = scope === 'status' ? 'status' : undefined;
  const entries = readManagedFields(live);
  const newSet = fieldSetOf(applied, scope);
  const self = entries.find((e) => sameEntry(e, manager, 'Apply', subresource));
  const others = entries.filter((e) => e !== self);

  const conflicts: ApplyConflict[] = [];
  if (live) {
    for (const entry of others) {
      for (const serialized of newSet) {
        if (!entry.fields.has(serialized)) continue;
        const path = parsePath(serialized);
        if (path[path.length - 1] === '.') continue;
        if (deepEqual(valueAt(live, path), valueAt(applied, path))) continue;
        conflicts.push({ manager: entry.manager, operation: entry.operation, apiVersion: entry.apiVersion, ...(entry.subresource ? { subresource: entry.subresource } : {}), path });
      }
    }
  }
  if (conflicts.length > 0 && !force) return { object: live!, conflicts };
  for (const c of conflicts) {
    for (const entry of others) if (entry.manager === c.manager) entry.fields.delete(JSON.stringify(c.path));
  }

  const object = mergeApplied(live, applied, scope);
  if (self) {
    const ownedElsewhere = (path: FieldPath) =>
      others.some((e) => [...e.fields].some((p) => isUnder(parsePath(p), path[path.length - 1] === '.' ? path.slice(0, -1) : path)));
    for (const serialized of self.fields) {
      if (newSet.has(serialized)) continue;
      const path = parsePath(serialized);
      if (!ownedElsewhere(path)) removeAt(object, path);
    }
  }
  const entry: ManagedEntry = self ?? { manager, operation: 'Apply', apiVersion: params.apiVersion, time: params.time, fields: new Set(), ...(subresource ? { subresource } : {}) };
  entry.fields = newSet;
  entry.time = params.time;
  entry.apiVersion = params.apiVersion;
  if (!self) entries.push(entry);
  writeManagedFields(object, prune(entries, object));
  return { object, conflicts: [] };
}

/** How the API server names a manager in conflicts: `"canopy"`, `"kubectl-edit" using apps/v1`, `"x" with subresource "status" using v1`. */
export function describeManager(c: Omit<ApplyConflict, 'path'>): string {
  let out = JSON.stringify(c.manager);
  if (c.subresource) out += ` with subresource ${JSON.stringify(c.subresource)}`;
  if (c.operation === 'Update') out += ` using ${c.apiVersion}`;
  return out;
}

/** Conflict message in the API server's words. */
export function conflictMessage(conflicts: ApplyConflict[]): string {
  if (conflicts.length === 1) return `Apply failed with 1 conflict: conflict with ${describeManager(conflicts[0]!)}: ${formatPath(conflicts[0]!.path)}`;
  const byManager = new Map<string, ApplyConflict[]>();
  for (const c of conflicts) {
    const key = describeManager(c);
    byManager.set(key, [...(byManager.get(key) ?? []), c]);
  }
  const lines: string[] = [];
  for (const manager of [...byManager.keys()].sort()) {
    lines.push(`conflicts with ${manager}:`);
    for (const c of byManager.get(manager)!) lines.push(`- ${formatPath(c.path)}`);
  }
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
}

function mergeApplied(live: JsonObject | undefined, applied: JsonObject, scope: Exclude<Scope, 'all'>): JsonObject {
  const base: JsonObject = live ? clone(live) : { apiVersion: applied['apiVersion'] ?? null, kind: applied['kind'] ?? null, metadata: {} };
  for (const [key, value] of Object.entries(applied)) {
    if (value === null || key === 'apiVersion' || key === 'kind') continue;
    if (scope === 'main' && key === 'status') continue;
    if (scope === 'status' && key !== 'status') continue;
    if (key === 'metadata' && isObject(value)) {
      const metadata = isObject(base['metadata']) ? base['metadata'] : (base['metadata'] = {});
      for (const [metaKey, metaValue] of Object.entries(value)) {
        if (metaValue === null || metaKey === 'managedFields' || metaKey === 'resourceVersion' || metaKey === 'uid') continue;
        if (live && (metaKey === 'name' || metaKey === 'namespace' || metaKey === 'creationTimestamp' || metaKey === 'generation')) continue;
        metadata[metaKey] = merge(metadata[metaKey], metaValue, metaKey);
      }
      continue;
    }
    base[key] = merge(base[key], value, key);
  }
  return base;
}

function merge(live: JsonValue | undefined, applied: JsonValue, field: string): JsonValue {
  if (isObject(applied) && field !== 'selector' && field !== 'roleRef') {
    const out: JsonObject = isObject(live) ? { ...live } : {};
    for (const [key, value] of Object.entries(applied)) {
      if (value === null) continue;
      out[key] = merge(out[key], value, key);
    }
    return out;
  }
  if (Array.isArray(applied)) {
    const key = listKeyOf(field);
    if (key && Array.isArray(live) && applied.every(isObject)) {
      const out = [...live];
      for (const item of applied) {
        const index = out.findIndex((existing) => sameKey(key, existing, item));
        if (index >= 0) out[index] = merge(out[index], item, '');
        else out.push(clone(item));
      }
      return out;
    }
    if (isSetList(field) && Array.isArray(live)) {
      const out = [...live];
      for (const item of applied) if (!out.some((existing) => deepEqual(existing, item))) out.push(clone(item));
      return out;
    }
  }
  return clone(applied);
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * The API server's upgrade path from client-side to server-side apply:
 * when `kubectl` (that manager name only) applies server-side and every
 * conflict is on a field that the object's last-applied-configuration
 * annotation sets to the live value, the apply goes through as if forced.
 */
export function conflictsAllowedByLastApplied(live: JsonObject, conflicts: ApplyConflict[]): boolean {
  const annotations = isObject(live['metadata']) ? (live['metadata'] as JsonObject)['annotations'] : undefined;
  const lastApplied = isObject(annotations) ? annotations[LAST_APPLIED] : undefined;
  if (typeof lastApplied !== 'string') return false;
  let config: unknown;
  try {
    config = JSON.parse(lastApplied);
  } catch {
    return false;
  }
  if (!isObject(config)) return false;
  const allowed = fieldSetOf(config, 'main');
  return conflicts.every((c) => {
    const serialized = JSON.stringify(c.path);
    return allowed.has(serialized) && deepEqual(valueAt(config as JsonObject, c.path), valueAt(live, c.path));
  });
}
