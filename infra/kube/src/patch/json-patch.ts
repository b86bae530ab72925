import { clone, deepEqual, isObject, type JsonValue } from '../json.js';

/** A JSON patch that cannot be applied (bad pointer, failed `test`, unknown op). */
export class JsonPatchError extends Error {}

type Container = JsonValue[] | { [key: string]: JsonValue };

function parsePointer(pointer: unknown): string[] {
  if (typeof pointer !== 'string') throw new JsonPatchError('a JSON patch operation needs a string "path"');
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new JsonPatchError(`JSON pointer must start with "/": ${pointer}`);
  return pointer
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: JsonValue, parts: string[], pointer: string): { parent: Container; last: string } {
  let current: JsonValue = doc;
  for (const part of parts.slice(0, -1)) {
    const next: JsonValue | undefined = Array.isArray(current) ? current[Number(part)] : isObject(current) ? current[part] : undefined;
    if (next === undefined || next === null || typeof next !== 'object') {
      throw new JsonPatchError(`path ${pointer} does not exist`);
    }
    current = next;
  }
  if (current === null || typeof current !== 'object') throw new JsonPatchError(`path ${pointer} does not exist`);
  return { parent: current, last: parts[parts.length - 1]! };
}

function arrayIndex(array: JsonValue[], part: string, pointer: string, forInsert: boolean): number {
  if (forInsert && part === '-') return array.length;
  if (!/^(0|[1-9]\d*)$/.test(part)) throw new JsonPatchError(`invalid array index in ${pointer}`);
  const index = Number(part);
  if (index > array.length || (!forInsert && index === array.length)) throw new JsonPatchError(`array index out of range in ${pointer}`);
  return index;
}

function get(doc: JsonValue, pointer: string): JsonValue {
  let current: JsonValue | undefined = doc;
  for (const part of parsePointer(pointer)) {
    if (Array.isArray(current)) current = current[arrayIndex(current, part, pointer, false)];
    else if (isObject(current) && Object.hasOwn(current, part)) current = current[part];
    else throw new JsonPatchError(`path ${pointer} does not exist`);
  }
  return current as JsonValue;
}

function remove(doc: JsonValue, pointer: string): JsonValue {
  const parts = parsePointer(pointer);
  if (parts.length === 0) throw new JsonPatchError('cannot remove the whole document');
  const { parent, last } = parentOf(doc, parts, pointer);
  if (Array.isArray(parent)) return parent.splice(arrayIndex(parent, last, pointer, false), 1)[0]!;
  if (!Object.hasOwn(parent, last)) throw new JsonPatchError(`path ${pointer} does not exist`);
  const old = parent[last]!;
  delete parent[last];
  return old;
}

function add(doc: JsonValue, pointer: string, value: JsonValue): JsonValue {
  const parts = parsePointer(pointer);
  if (parts.length === 0) return value;
  const { parent, last } = parentOf(doc, parts, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, pointer, true), 0, value);
  else parent[last] = value;
  return doc;
}

/** RFC 6902 JSON patch (`application/json-patch+json`). Returns a new document; the input is not changed. */
export function jsonPatch(document: JsonValue, operations: JsonValue): JsonValue {
  if (!Array.isArray(operations)) throw new JsonPatchError('a JSON patch must be an array of operations');
  let doc = clone(document);
  for (const operation of operations) {
    if (!isObject(operation)) throw new JsonPatchError('each JSON patch operation must be an object');
    const path = String(operation['path'] ?? '');
    const value = operation['value'];
    switch (operation['op']) {
      case 'add':
        if (value === undefined) throw new JsonPatchError(`"add" at ${path} needs a value`);
        doc = add(doc, path, clone(value));
        break;
      case 'remove':
        remove(doc, path);
        break;
      case 'replace':
        if (value === undefined) throw new JsonPatchError(`"replace" at ${path} needs a value`);
        if (parsePointer(path).length === 0) {
          doc = clone(value);
        } else {
          get(doc, path);
          remove(doc, path);
          doc = add(doc, path, clone(value));
        }
        break;
      case 'move': {
        const moved = remove(doc, String(operation['from'] ?? ''));
        doc = add(doc, path, moved);
        break;
      }
      case 'copy':
        doc = add(doc, path, clone(get(doc, String(operation['from'] ?? ''))));
        break;
      case 'test':
        if (!deepEqual(get(doc, path), value)) throw new JsonPatchError(`testing value ${path} failed`);
        break;
      default:
        throw new JsonPatchError(`unknown JSON patch operation ${JSON.stringify(operation['op'])}`);
    }
  }
  return doc;
}
