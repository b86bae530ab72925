import { clone, deepEqual, isObject, type JsonObject, type JsonValue } from '../json.js';
import { isSetList, listKeyOf, sameKey, type ListKey } from './list-keys.js';

/**
 * Strategic merge patch (`application/strategic-merge-patch+json`): a merge
 * patch where associative lists (containers, env, volumes, ports,
 * conditions… — see list-keys.ts) merge item by item on their merge key and
 * sets (finalizers) merge as unions, with the directives kubectl's
 * three-way patches use: `$patch: replace|delete|merge`,
 * `$setElementOrder/<list>`, `$deleteFromPrimitiveList/<list>`, `$retainKeys`.
 */
export function strategicMerge(original: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (!isObject(patch)) return clone(patch);
  const merged = mergeObject(isObject(original) ? original : {}, patch);
  return merged === DELETE ? {} : merged;
}

const DELETE = Symbol('delete');

function withoutDirectives(value: JsonValue): JsonValue {
  if (Array.isArray(value)) {
    return value.filter((item) => !(isObject(item) && item['$patch'] === 'delete')).map(withoutDirectives);
  }
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [key, v] of Object.entries(value)) {
    if (key.startsWith('$')) continue;
    if (v === null) continue;
    out[key] = withoutDirectives(v);
  }
  return out;
}

function mergeObject(original: JsonObject, patch: JsonObject): JsonObject | typeof DELETE {
  const directive = patch['$patch'];
  if (directive === 'delete') return DELETE;
  if (directive === 'replace') return withoutDirectives(patch) as JsonObject;

  const result: JsonObject = clone(original);
  const retainKeys = patch['$retainKeys'];
  if (Array.isArray(retainKeys)) {
    for (const key of Object.keys(result)) if (!retainKeys.includes(key) && !Object.hasOwn(patch, key)) delete result[key];
  }
  const orders: [string, JsonValue[]][] = [];
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key === '$retainKeys') continue;
    if (key.startsWith('$setElementOrder/')) {
      if (Array.isArray(value)) orders.push([key.slice('$setElementOrder/'.length), value]);
      continue;
    }
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      const field = key.slice('$deleteFromPrimitiveList/'.length);
      const current = result[field];
      if (Array.isArray(current) && Array.isArray(value)) {
        result[field] = current.filter((item) => !value.some((v) => deepEqual(v, item)));
      }
      continue;
    }
    if (value === null) {
      delete result[key];
    } else if (isObject(value)) {
      const current = result[key];
      const merged = mergeObject(isObject(current) ? current : {}, value);
      if (merged === DELETE) delete result[key];
      else result[key] = merged;
    } else if (Array.isArray(value)) {
      result[key] = mergeList(key, result[key], value);
    } else {
      result[key] = value;
    }
  }
  for (const [field, order] of orders) {
    const current = result[field];
    if (Array.isArray(current)) result[field] = reorder(field, current, order);
  }
  return result;
}

function mergeList(field: string, original: JsonValue | undefined, patch: JsonValue[]): JsonValue[] {
  if (patch.some((item) => isObject(item) && item['$patch'] === 'replace')) {
    return withoutDirectives(patch.filter((item) => !(isObject(item) && item['$patch'] === 'replace'))) as JsonValue[];
  }
  const current = Array.isArray(original) ? clone(original) : [];
  const key = listKeyOf(field);
  if (key && patch.every(isObject)) return mergeAssociative(key, current, patch as JsonObject[]);
  if (isSetList(field)) {
    for (const item of patch) if (!current.some((c) => deepEqual(c, item))) current.push(clone(item));
    return current;
  }
  return withoutDirectives(patch) as JsonValue[];
}

function mergeAssociative(key: ListKey, current: JsonValue[], patch: JsonObject[]): JsonValue[] {
  for (const item of patch) {
    const index = current.findIndex((c) => sameKey(key, c, item));
    if (item['$patch'] === 'delete') {
      if (index >= 0) current.splice(index, 1);
      continue;
    }
    if (index >= 0) {
      const merged = mergeObject(current[index] as JsonObject, item);
      if (merged === DELETE) current.splice(index, 1);
      else current[index] = merged;
    } else {
      current.push(withoutDirectives(item));
    }
  }
  return current;
}

/** `$setElementOrder`: the listed items first, in that order; items the patch did not mention keep their relative order after. */
function reorder(field: string, list: JsonValue[], order: JsonValue[]): JsonValue[] {
  const key = listKeyOf(field);
  const matches = (item: JsonValue, wanted: JsonValue) => (key && isObject(wanted) ? sameKey(key, item, wanted) : deepEqual(item, wanted));
  const ordered: JsonValue[] = [];
  for (const wanted of order) {
    const found = list.find((item) => matches(item, wanted) && !ordered.includes(item));
    if (found !== undefined) ordered.push(found);
  }
  return [...ordered, ...list.filter((item) => !ordered.includes(item))];
}
