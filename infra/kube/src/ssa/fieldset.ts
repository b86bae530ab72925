import { deepEqual, isObject, type JsonObject, type JsonValue } from '../json.js';
import { isSetList, itemKey, listKeyOf, sameKey } from '../patch/list-keys.js';

/**
 * Field sets of server-side apply, in the `FieldsV1` vocabulary: a path is a
 * list of steps `f:<field>`, `k:<json key of a list item>`, `v:<json value
 * of a set item>` and `.` (the list item itself). A set holds leaf paths,
 * serialized as JSON arrays so that set operations are plain `Set`s.
 */
export type FieldPath = string[];
export type FieldSet = Set<string>;

/** Metadata the server sets; nobody owns these. */
const UNOWNED_METADATA = new Set([
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'managedFields',
  'selfLink',
]);

/** Structs that are atomic in the Kubernetes schemas (owned and replaced whole). */
const ATOMIC_FIELDS = new Set(['selector', 'roleRef']);

export type Scope = 'main' | 'status' | 'all';

/** The leaf paths set in `obj`: for `main` everything but status, for `status` only status. */
export function fieldSetOf(obj: JsonObject, scope: Scope): FieldSet {
  const out: FieldSet = new Set();
  for (const [key, value] of Object.entries(obj)) {
    if (key === 'apiVersion' || key === 'kind') continue;
    if (scope === 'main' && key === 'status') continue;
    if (scope === 'status' && key !== 'status') continue;
    if (key === 'metadata' && isObject(value)) {
      for (const [metaKey, metaValue] of Object.entries(value)) {
        if (UNOWNED_METADATA.has(metaKey)) continue;
        walk(metaKey, metaValue, ['f:metadata'], out);
      }
      continue;
    }
    walk(key, value, [], out);
  }
  return out;
}

function walk(field: string, value: JsonValue, prefix: FieldPath, out: FieldSet): void {
  const path = [...prefix, `f:${field}`];
  if (value === null) return;
  if (isObject(value) && !ATOMIC_FIELDS.has(field) && Object.keys(value).length > 0) {
    for (const [key, child] of Object.entries(value)) walk(key, child, path, out);
    return;
  }
  if (Array.isArray(value) && value.length > 0) {
    const key = listKeyOf(field);
    if (key && value.every(isObject)) {
      for (const item of value) {
        const itemPath = [...path, `k:${JSON.stringify(itemKey(key, item))}`];
        out.add(JSON.stringify([...itemPath, '.']));
        for (const [k, child] of Object.entries(item as JsonObject)) walk(k, child, itemPath, out);
      }
      return;
    }
    if (isSetList(field) && value.every((v) => !isObject(v) && !Array.isArray(v))) {
      for (const item of value) out.add(JSON.stringify([...path, `v:${JSON.stringify(item)}`]));
      return;
    }
  }
  out.add(JSON.stringify(path));
}

export function parsePath(serialized: string): FieldPath {
  return JSON.parse(serialized) as FieldPath;
}

/** The value a path points at in `obj`, or undefined if absent. For `.` the list item itself. */
export function valueAt(obj: JsonValue, path: FieldPath): JsonValue | undefined {
  let current: JsonValue | undefined = obj;
  let field = '';
  for (const step of path) {
    if (current === undefined) return undefined;
    if (step === '.') return current;
    if (step.startsWith('f:')) {
      field = step.slice(2);
      current = isObject(current) ? current[field] : undefined;
    } else if (step.startsWith('k:')) {
      const wanted = JSON.parse(step.slice(2)) as JsonObject;
      const key = listKeyOf(field);
      current = Array.isArray(current) && key ? current.find((item) => sameKey(key, item, wanted)) : undefined;
    } else if (step.startsWith('v:')) {
      const wanted = JSON.parse(step.slice(2)) as JsonValue;
      current = Array.isArray(current) && current.some((item) => deepEqual(item, wanted)) ? wanted : undefined;
    } else {
      return undefined;
    }
  }
  return current;
}

/** Removes the field a path points at from `obj` (in place); list items for `.` and `v:` steps. */
export function removeAt(obj: JsonObject, path: FieldPath): void {
  const last = path[path.length - 1];
  if (last === undefined) return;
  if (last === '.') {
    removeListItem(obj, path.slice(0, -1));
    return;
  }
  if (last.startsWith('v:')) {
    const parent = valueAt(obj, path.slice(0, -1));
    const wanted = JSON.parse(last.slice(2)) as JsonValue;
    if (Array.isArray(parent)) {
      const index = parent.findIndex((item) => deepEqual(item, wanted));
      if (index >= 0) parent.splice(index, 1);
    }
    return;
  }
  if (last.startsWith('f:')) {
    const parent = path.length === 1 ? obj : valueAt(obj, path.slice(0, -1));
    if (isObject(parent)) delete parent[last.slice(2)];
  }
}

function removeListItem(obj: JsonObject, itemPath: FieldPath): void {
  const keyStep = itemPath[itemPath.length - 1];
  const fieldStep = itemPath[itemPath.length - 2];
  if (!keyStep?.startsWith('k:') || !fieldStep?.startsWith('f:')) return;
  const list = valueAt(obj, itemPath.slice(0, -1));
  const key = listKeyOf(fieldStep.slice(2));
  if (!Array.isArray(list) || !key) return;
  const wanted = JSON.parse(keyStep.slice(2)) as JsonObject;
  const index = list.findIndex((item) => sameKey(key, item, wanted));
  if (index >= 0) list.splice(index, 1);
}

/** `.spec.template.spec.containers[name="web"].image`: how conflicts name a field. */
export function formatPath(path: FieldPath): string {
  let out = '';
  for (const step of path) {
    if (step === '.') continue;
    if (step.startsWith('f:')) out += `.${step.slice(2)}`;
    else if (step.startsWith('k:')) {
      const key = JSON.parse(step.slice(2)) as JsonObject;
      out += `[${Object.entries(key)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(',')}]`;
    } else if (step.startsWith('v:')) out += `[=${step.slice(2)}]`;
  }
  return out;
}

/** The `fieldsV1` object of a field set. */
export function toFieldsV1(set: FieldSet): JsonObject {
  const root: JsonObject = {};
  for (const serialized of [...set].sort()) {
    let node = root;
    for (const step of parsePath(serialized)) {
      const next = node[step];
      if (isObject(next)) {
        node = next;
      } else {
        const created: JsonObject = {};
        node[step] = created;
        node = created;
      }
    }
  }
  return root;
}

/** Reads a `fieldsV1` object back into a field set (its leaves). */
export function fromFieldsV1(fields: unknown): FieldSet {
  const out: FieldSet = new Set();
  const visit = (node: JsonObject, path: FieldPath) => {
    const entries = Object.entries(node);
    if (entries.length === 0 && path.length > 0) {
      out.add(JSON.stringify(path));
      return;
    }
    for (const [step, child] of entries) visit(isObject(child) ? child : {}, [...path, step]);
  };
  if (isObject(fields)) visit(fields, []);
  return out;
}

/** Whether `path` is `prefix` or lies under it. */
export function isUnder(path: FieldPath, prefix: FieldPath): boolean {
  return prefix.length <= path.length && prefix.every((step, i) => path[i] === step);
}
