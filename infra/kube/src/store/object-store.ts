import { clone, type JsonObject } from '../json.js';
import { resourceKey, type ResourceType } from '../resources.js';
import { alreadyExists, conflict, gone, notFound } from '../status.js';

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** A stored change: what watches replay and controllers react to. `object` is frozen; clone before changing. */
export type Change = {
  type: ChangeType;
  resource: ResourceType;
  object: JsonObject;
  /** The object before a MODIFIED change (watches with selectors turn changes in or out of the selection into ADDED/DELETED). */
  previous?: JsonObject;
  resourceVersion: number;
};

export type ChangeFilter = (change: Change) => boolean;

export type Subscription = { cancel(): void };

function metadataOf(obj: JsonObject): JsonObject {
  return obj['metadata'] as JsonObject;
}

function objectKey(obj: JsonObject): string {
  const metadata = metadataOf(obj);
  return `${String(metadata['namespace'] ?? '')}/${String(metadata['name'])}`;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/**
 * Versioned storage of every object of a cluster: one resourceVersion
 * counter for the whole cluster (as etcd's revision), optimistic
 * concurrency, and a bounded history of changes that watches start from.
 * Knows nothing of API semantics (validation, defaults, status) — see
 * `ResourceApi` for those.
 */
export class ObjectStore {
  private revision = 0;
  private readonly byResource = new Map<string, Map<string, JsonObject>>();
  private readonly history: Change[] = [];
  /** Changes at or below this revision are gone from the history. */
  private compacted = 0;
  private readonly subscribers = new Set<{ filter: ChangeFilter; listener: (change: Change) => void }>();

  constructor(private readonly historyLimit = 5000) {}

  resourceVersion(): number {
    return this.revision;
  }

  /** Oldest resourceVersion a watch can still start from. */
  oldestWatchable(): number {
    return this.compacted;
  }

  private table(resource: ResourceType): Map<string, JsonObject> {
    const key = resourceKey(resource);
    let table = this.byResource.get(key);
    if (!table) this.byResource.set(key, (table = new Map()));
    return table;
  }

  /** The stored object (frozen), or undefined. */
  peek(resource: ResourceType, namespace: string | undefined, name: string): JsonObject | undefined {
    return this.table(resource).get(`${resource.namespaced ? namespace ?? '' : ''}/${name}`);
  }

  /** Stored objects (frozen), ordered by namespace then name; all namespaces when `namespace` is undefined. */
  peekAll(resource: ResourceType, namespace?: string): JsonObject[] {
    const out: JsonObject[] = [];
    for (const [key, obj] of this.table(resource)) {
      if (namespace === undefined || key.startsWith(`${namespace}/`)) out.push(obj);
    }
    return out.sort((a, b) => (objectKey(a) < objectKey(b) ? -1 : objectKey(a) > objectKey(b) ? 1 : 0));
  }

  insert(resource: ResourceType, obj: JsonObject): JsonObject {
    const table = this.table(resource);
    const key = objectKey(obj);
    if (table.has(key)) throw alreadyExists(resource, String(metadataOf(obj)['name']));
    return this.commit(resource, 'ADDED', obj, table, key, undefined);
  }

  /** Replaces the stored object; `expectedVersion` (if given) must be the stored resourceVersion. */
  replace(resource: ResourceType, obj: JsonObject, expectedVersion?: string): JsonObject {
    const table = this.table(resource);
    const key = objectKey(obj);
    const name = String(metadataOf(obj)['name']);
    const current = table.get(key);
    if (!current) throw notFound(resource, name);
    if (expectedVersion !== undefined && metadataOf(current)['resourceVersion'] !== expectedVersion) {
      throw conflict(resource, name, 'the object has been modified; please apply your changes to the latest version and try again');
    }
    return this.commit(resource, 'MODIFIED', obj, table, key, current);
  }

  remove(resource: ResourceType, namespace: string | undefined, name: string): JsonObject {
    const table = this.table(resource);
    const key = `${resource.namespaced ? namespace ?? '' : ''}/${name}`;
    const current = table.get(key);
    if (!current) throw notFound(resource, name);
    table.delete(key);
    const deleted = clone(current);
    this.record(resource, 'DELETED', deleted, current);
    return deleted;
  }

  private commit(resource: ResourceType, type: ChangeType, obj: JsonObject, table: Map<string, JsonObject>, key: string, previous: JsonObject | undefined): JsonObject {
    const stored = clone(obj);
    this.record(resource, type, stored, previous);
    table.set(key, stored);
    return stored;
  }

  private record(resource: ResourceType, type: ChangeType, obj: JsonObject, previous: JsonObject | undefined): void {
    this.revision += 1;
    metadataOf(obj)['resourceVersion'] = String(this.revision);
    deepFreeze(obj);
    const change: Change = { type, resource, object: obj, resourceVersion: this.revision, ...(previous ? { previous } : {}) };
    this.history.push(change);
    while (this.history.length > this.historyLimit) this.compacted = this.history.shift()!.resourceVersion;
    for (const subscriber of [...this.subscribers]) {
      if (this.subscribers.has(subscriber) && subscriber.filter(change)) subscriber.listener(change);
    }
  }

  /** Forgets the history up to now: watches from any earlier resourceVersion get 410 Gone. */
  compact(): void {
    this.compacted = this.revision;
    this.history.length = 0;
  }

  /**
   * Calls `listener` with every change after `fromVersion` (replayed from
   * the history, then live). Throws 410 Gone if the history no longer
   * reaches back to `fromVersion`.
   */
  subscribe(fromVersion: number | undefined, filter: ChangeFilter, listener: (change: Change) => void): Subscription {
    if (fromVersion !== undefined) {
      if (fromVersion < this.compacted) {
        throw gone(`too old resource version: ${fromVersion} (${this.compacted + 1})`);
      }
      for (const change of this.history) if (change.resourceVersion > fromVersion && filter(change)) listener(change);
    }
    const subscriber = { filter, listener };
    this.subscribers.add(subscriber);
    return { cancel: () => this.subscribers.delete(subscriber) };
  }
}
