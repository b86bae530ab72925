import { randomUUID } from 'node:crypto';
import { timestamp, type Clock } from '../clock.js';
import { matchesFields, type FieldRequirement } from '../fields.js';
import { asArray, clone, deepEqual, isObject, stringMap, type JsonObject, type JsonValue } from '../json.js';
import { fromLabelSelector, matchesSelector, selectorToString, type Selector } from '../labels.js';
import { randomSuffix } from '../names.js';
import { JsonPatchError, jsonPatch } from '../patch/json-patch.js';
import { mergePatch } from '../patch/merge-patch.js';
import { strategicMerge } from '../patch/strategic-merge.js';
import { apiVersionOf, type ResourceRegistry, type ResourceType } from '../resources.js';
import { conflictMessage, conflictsAllowedByLastApplied, describeManager, recordUpdate, serverSideApply } from '../ssa/managed-fields.js';
import { formatPath } from '../ssa/fieldset.js';
import { badRequest, conflict, forbidden, invalid, KubeStatusError, notFound } from '../status.js';
import { applyDefaults, jobSelectorDefaults, qosClass } from './defaults.js';
import type { ObjectStore } from './object-store.js';
import { validateObject } from './validation.js';

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

export const PATCH_CONTENT_TYPES: Record<string, PatchType> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
  'application/apply-patch+cbor': 'apply',
};

export type WriteOptions = { manager?: string; dryRun?: boolean; subresource?: 'status' };

export type AdmissionRequest = {
  operation: 'CREATE' | 'UPDATE';
  resource: ResourceType;
  object: JsonObject;
  oldObject?: JsonObject;
  subresource?: string;
};

/** An admission check: throws a KubeStatusError (e.g. 403 Forbidden) to refuse the write. */
export type AdmissionHook = (request: AdmissionRequest) => void;

export type ListOptions = {
  namespace?: string;
  labelSelector?: Selector;
  fieldSelector?: FieldRequirement[];
  limit?: number;
  continueToken?: string;
};

export type ListResult = { items: JsonObject[]; resourceVersion: string; continueToken?: string; remainingItemCount?: number };

export type DeleteOptions = {
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
};

const DEFAULT_MANAGER = 'unknown';

function meta(obj: JsonObject): JsonObject {
  if (!isObject(obj['metadata'])) obj['metadata'] = {};
  return obj['metadata'] as JsonObject;
}

function resourceVersionOf(obj: JsonObject): string {
  return String(meta(obj)['resourceVersion'] ?? '');
}

/** Everything but metadata and status: a change here bumps metadata.generation. */
function specPart(obj: JsonObject): JsonObject {
  const { metadata: _m, status: _s, ...rest } = obj;
  return rest;
}

/** The object without what changes on every write (resourceVersion, managedFields times): equal means a no-op write. */
function withoutVolatile(obj: JsonObject): JsonObject {
  const copy = clone(obj);
  delete meta(copy)['resourceVersion'];
  const managed = meta(copy)['managedFields'];
  if (Array.isArray(managed)) for (const entry of managed) if (isObject(entry)) delete entry['time'];
  return copy;
}

/**
 * The API server's semantics over the object store: validation, defaults,
 * server-set metadata (uid, creationTimestamp, generation, managedFields),
 * status subresources, optimistic concurrency, patches and server-side
 * apply, finalizers, namespace existence, admission hooks and garbage
 * collection of dependents. The HTTP layer and the simulated controllers
 * both write through it.
 */
export class ResourceApi {
  readonly admission: AdmissionHook[] = [];

  constructor(
    readonly registry: ResourceRegistry,
    readonly store: ObjectStore,
    readonly clock: Clock,
  ) {}

  now(): string {
    return timestamp(this.clock.now());
  }

  resource(apiVersion: string, kind: string): ResourceType {
    const type = this.registry.byKind(apiVersion, kind);
    if (!type) throw new Error(`no resource registered for ${apiVersion} ${kind}`);
    return type;
  }

  get(type: ResourceType, namespace: string | undefined, name: string): JsonObject {
    const found = this.store.peek(type, namespace, name);
    if (!found) throw notFound(type, name);
    return clone(found);
  }

  tryGet(type: ResourceType, namespace: string | undefined, name: string): JsonObject | undefined {
    const found = this.store.peek(type, namespace, name);
    return found ? clone(found) : undefined;
  }

  list(type: ResourceType, options: ListOptions = {}): ListResult {
    const resourceVersion = String(this.store.resourceVersion());
    let items = this.store.peekAll(type, type.namespaced ? options.namespace : undefined).filter((obj) => this.matches(type, obj, options));
    if (options.continueToken) {
      const after = decodeContinue(options.continueToken);
      items = items.filter((obj) => objectKey(obj) > after);
    }
    if (options.limit && options.limit > 0 && items.length > options.limit) {
      const page = items.slice(0, options.limit);
      return {
        items: page.map((obj) => clone(obj)),
        resourceVersion,
        continueToken: encodeContinue(objectKey(page[page.length - 1]!)),
        remainingItemCount: items.length - page.length,
      };
    }
    return { items: items.map((obj) => clone(obj)), resourceVersion };
  }

  matches(type: ResourceType, obj: JsonObject, options: Pick<ListOptions, 'namespace' | 'labelSelector' | 'fieldSelector'>): boolean {
    const metadata = obj['metadata'] as JsonObject;
    if (type.namespaced && options.namespace !== undefined && metadata['namespace'] !== options.namespace) return false;
    if (options.labelSelector && !matchesSelector(options.labelSelector, stringMap(metadata['labels']))) return false;
    if (options.fieldSelector && !matchesFields(options.fieldSelector, type.kind, obj)) return false;
    return true;
  }

  create(type: ResourceType, namespace: string | undefined, body: unknown, options: WriteOptions = {}): JsonObject {
    const obj = this.incoming(type, namespace, body);
    const metadata = meta(obj);
    if (!metadata['name']) {
      if (typeof metadata['generateName'] === 'string' && metadata['generateName']) {
        metadata['name'] = `${metadata['generateName']}${randomSuffix()}`;
      } else {
        throw invalid(type.kind, type.group, '', [{ field: 'metadata.name', message: 'Required value: name or generateName is required', reason: 'FieldValueRequired' }]);
      }
    }
    return this.insertNew(type, obj, options, false);
  }

  /** Stores a new object: server metadata, initial status, defaults, validation, ownership, admission. */
  private insertNew(type: ResourceType, obj: JsonObject, options: WriteOptions, managedFieldsDone: boolean): JsonObject {
    const metadata = meta(obj);
    const name = String(metadata['name']);
    this.requireNamespace(type, metadata['namespace'] as string | undefined, name);
    metadata['uid'] = randomUUID();
    metadata['creationTimestamp'] = this.now();
    for (const field of ['deletionTimestamp', 'deletionGracePeriodSeconds', 'resourceVersion', 'selfLink']) delete metadata[field];
    if (!managedFieldsDone) delete metadata['managedFields'];
    if (type.generation) metadata['generation'] = 1;
    else delete metadata['generation'];
    this.initialStatus(type, obj);
    applyDefaults(type.kind, obj);
    if (type.kind === 'Job') jobSelectorDefaults(obj);
    if (type.kind === 'Pod' && isObject(obj['spec']) && isObject(obj['status'])) obj['status']['qosClass'] = qosClass(obj['spec']);
    const causes = validateObject(type, obj, undefined);
    if (causes.length > 0) throw invalid(type.kind, type.group, name, causes);
    if (!managedFieldsDone) {
      recordUpdate({ old: undefined, next: obj, manager: options.manager ?? DEFAULT_MANAGER, scope: 'all', apiVersion: apiVersionOf(type), time: this.now() });
    }
    this.admit({ operation: 'CREATE', resource: type, object: obj });
    if (options.dryRun) return obj;
    return clone(this.store.insert(type, obj));
  }

  private initialStatus(type: ResourceType, obj: JsonObject): void {
    if (!type.status) return;
    switch (type.kind) {
      case 'Pod':
        obj['status'] = { phase: 'Pending' };
        break;
      case 'Namespace':
        obj['status'] = { phase: 'Active' };
        break;
      case 'Node':
        if (!isObject(obj['status'])) obj['status'] = {};
        break;
      default:
        obj['status'] = {};
    }
  }

  update(type: ResourceType, namespace: string | undefined, name: string, body: unknown, options: WriteOptions = {}): JsonObject {
    const incoming = this.incoming(type, namespace, body);
    const metadata = meta(incoming);
    if (metadata['name'] === undefined || metadata['name'] === '') metadata['name'] = name;
    if (metadata['name'] !== name) {
      throw badRequest(`the name of the object (${String(metadata['name'])}) does not match the name on the URL (${name})`);
    }
    const old = this.store.peek(type, namespace, name);
    if (!old) throw notFound(type, name);
    const expected = typeof metadata['resourceVersion'] === 'string' && metadata['resourceVersion'] ? metadata['resourceVersion'] : undefined;
    if (expected !== undefined && expected !== resourceVersionOf(old)) {
      throw conflict(type, name, 'the object has been modified; please apply your changes to the latest version and try again');
    }
    const next = options.subresource === 'status' ? this.withStatusOf(old, incoming) : this.keepServerFields(type, old, incoming);
    return this.commitUpdate(type, old, next, options, false);
  }

  patch(type: ResourceType, namespace: string | undefined, name: string, patchType: PatchType, body: JsonValue, options: WriteOptions & { force?: boolean }): JsonObject {
    if (patchType === 'apply') return this.apply(type, namespace, name, body, options);
    if (options.force) throw badRequest('force may only be set on apply requests (application/apply-patch+yaml)');
    const old = this.store.peek(type, namespace, name);
    if (!old) throw notFound(type, name);
    let patched: JsonValue;
    try {
      if (patchType === 'json') patched = jsonPatch(clone(old), body);
      else if (!isObject(body)) throw badRequest(`a ${patchType} patch must be a JSON object`);
      else patched = patchType === 'merge' ? mergePatch(clone(old), body) : strategicMerge(clone(old), body);
    } catch (error) {
      if (error instanceof JsonPatchError) throw new KubeStatusError(422, 'Invalid', `the server rejected our request due to an error in our request: ${error.message}`);
      throw error;
    }
    if (!isObject(patched)) throw badRequest('the patch did not produce an object');
    const metadata = meta(patched);
    const expected = metadata['resourceVersion'];
    if (typeof expected === 'string' && expected && expected !== resourceVersionOf(old)) {
      throw conflict(type, name, 'the object has been modified; please apply your changes to the latest version and try again');
    }
    metadata['name'] = name;
    if (type.namespaced) metadata['namespace'] = (old['metadata'] as JsonObject)['namespace'] ?? null;
    patched['apiVersion'] = apiVersionOf(type);
    patched['kind'] = type.kind;
    const next = options.subresource === 'status' ? this.withStatusOf(old, patched) : this.keepServerFields(type, old, patched);
    return this.commitUpdate(type, old, next, options, false);
  }

  /** Server-side apply: creates the object if it does not exist. */
  private apply(type: ResourceType, namespace: string | undefined, name: string, body: JsonValue, options: WriteOptions & { force?: boolean }): JsonObject {
    if (!options.manager) throw badRequest('fieldManager is required for apply requests');
    if (!isObject(body)) throw badRequest('an apply configuration must be an object');
    if (!body['apiVersion'] || !body['kind']) throw badRequest('apiVersion and kind must be set in an apply configuration');
    const applied = this.incoming(type, namespace, body);
    const metadata = meta(applied);
    if (metadata['name'] === undefined) metadata['name'] = name;
    if (metadata['name'] !== name) {
      throw badRequest(`the name of the object (${String(metadata['name'])}) does not match the name on the URL (${name})`);
    }
    const scope = options.subresource === 'status' ? 'status' : 'main';
    const live = this.store.peek(type, namespace, name);
    const expected = metadata['resourceVersion'];
    if (live && typeof expected === 'string' && expected && expected !== resourceVersionOf(live)) {
      throw conflict(type, name, 'the object has been modified; please apply your changes to the latest version and try again');
    }
    delete metadata['resourceVersion'];
    if (!live) {
      if (scope === 'status') throw notFound(type, name);
      const result = serverSideApply({ live: undefined, applied, manager: options.manager, force: options.force ?? false, scope, apiVersion: apiVersionOf(type), time: this.now() });
      const created = result.object;
      created['apiVersion'] = apiVersionOf(type);
      created['kind'] = type.kind;
      if (type.namespaced) meta(created)['namespace'] = namespace ?? null;
      return this.insertNew(type, created, options, true);
    }
    let result = serverSideApply({ live: clone(live), applied, manager: options.manager, force: options.force ?? false, scope, apiVersion: apiVersionOf(type), time: this.now() });
    if (result.conflicts.length > 0 && options.manager === 'kubectl' && conflictsAllowedByLastApplied(live, result.conflicts)) {
      result = serverSideApply({ live: clone(live), applied, manager: options.manager, force: true, scope, apiVersion: apiVersionOf(type), time: this.now() });
    }
    if (result.conflicts.length > 0) {
      throw new KubeStatusError(409, 'Conflict', conflictMessage(result.conflicts), {
        name,
        group: type.group,
        kind: type.plural,
        causes: result.conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${describeManager(c)}`, field: formatPath(c.path) })),
      });
    }
    return this.commitUpdate(type, live, result.object, options, true);
  }

  private commitUpdate(type: ResourceType, old: JsonObject, next: JsonObject, options: WriteOptions, managedFieldsDone: boolean): JsonObject {
    const name = String(meta(next)['name']);
    if (options.subresource !== 'status') {
      applyDefaults(type.kind, next);
      const causes = validateObject(type, next, old);
      if (causes.length > 0) throw invalid(type.kind, type.group, name, causes);
    }
    if (type.generation && !deepEqual(specPart(old), specPart(next))) {
      meta(next)['generation'] = Number(meta(old)['generation'] ?? 0) + 1;
    }
    if (!managedFieldsDone) {
      const scope = options.subresource === 'status' ? 'status' : type.status ? 'main' : 'all';
      recordUpdate({ old, next, manager: options.manager ?? DEFAULT_MANAGER, scope, apiVersion: apiVersionOf(type), time: this.now(), ...(options.subresource ? { subresource: options.subresource } : {}) });
    }
    if (deepEqual(withoutVolatile(old), withoutVolatile(next))) return clone(old);
    this.admit({ operation: 'UPDATE', resource: type, object: next, oldObject: old, ...(options.subresource ? { subresource: options.subresource } : {}) });
    if (options.dryRun) return next;
    const metadata = meta(next);
    if (metadata['deletionTimestamp'] && asArray(metadata['finalizers']).length === 0 && type.kind !== 'Namespace') {
      this.store.replace(type, next, resourceVersionOf(old));
      const removed = this.store.remove(type, metadata['namespace'] as string | undefined, name);
      this.collectDependents(String(metadata['uid']), 'Background');
      return clone(removed);
    }
    return clone(this.store.replace(type, next, resourceVersionOf(old)));
  }

  delete(type: ResourceType, namespace: string | undefined, name: string, options: DeleteOptions = {}): { object: JsonObject; finished: boolean } {
    const old = this.store.peek(type, namespace, name);
    if (!old) throw notFound(type, name);
    const metadata = old['metadata'] as JsonObject;
    const pre = options.preconditions;
    if (pre?.uid && pre.uid !== metadata['uid']) {
      throw conflict(type, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${String(metadata['uid'])}`);
    }
    if (pre?.resourceVersion && pre.resourceVersion !== metadata['resourceVersion']) {
      throw conflict(type, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${String(metadata['resourceVersion'])}`);
    }
    if (options.dryRun) return { object: clone(old), finished: true };
    const finalizers = asArray(metadata['finalizers']);
    const namespaceFinalizers = type.kind === 'Namespace' ? asArray((old['spec'] as JsonObject | undefined)?.['finalizers']) : [];
    if (finalizers.length > 0 || namespaceFinalizers.length > 0) {
      if (metadata['deletionTimestamp']) return { object: clone(old), finished: false };
      const next = clone(old);
      meta(next)['deletionTimestamp'] = this.now();
      meta(next)['deletionGracePeriodSeconds'] = 0;
      if (type.kind === 'Namespace') next['status'] = { ...(isObject(next['status']) ? next['status'] : {}), phase: 'Terminating' };
      return { object: clone(this.store.replace(type, next, resourceVersionOf(old))), finished: false };
    }
    const removed = this.store.remove(type, namespace, name);
    this.collectDependents(String(metadata['uid']), options.propagationPolicy ?? 'Background');
    return { object: clone(removed), finished: true };
  }

  /** The autoscaling/v1 Scale of a Deployment, ReplicaSet or StatefulSet. */
  getScale(type: ResourceType, namespace: string | undefined, name: string): JsonObject {
    const obj = this.store.peek(type, namespace, name);
    if (!obj) throw notFound(type, name);
    const metadata = obj['metadata'] as JsonObject;
    const selector = isObject(obj['spec']) ? (obj['spec'] as JsonObject)['selector'] : undefined;
    return {
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: { name, namespace: metadata['namespace'] ?? null, uid: metadata['uid'] ?? null, resourceVersion: metadata['resourceVersion'] ?? null, creationTimestamp: metadata['creationTimestamp'] ?? null },
      spec: { replicas: Number((obj['spec'] as JsonObject | undefined)?.['replicas'] ?? 0) },
      status: { replicas: Number((obj['status'] as JsonObject | undefined)?.['replicas'] ?? 0), selector: selectorToString(fromLabelSelector(selector)) },
    };
  }

  /** Writes a Scale (PUT, or the result of a patch on the Scale): sets spec.replicas of the object. */
  updateScale(type: ResourceType, namespace: string | undefined, name: string, scale: unknown, options: WriteOptions = {}): JsonObject {
    const old = this.store.peek(type, namespace, name);
    if (!old) throw notFound(type, name);
    const replicas = isObject(scale) && isObject(scale['spec']) ? scale['spec']['replicas'] : undefined;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw invalid('Scale', 'autoscaling', name, [{ field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(replicas ?? null)}: must be greater than or equal to 0` }]);
    }
    const expected = isObject(scale) && isObject(scale['metadata']) ? scale['metadata']['resourceVersion'] : undefined;
    if (typeof expected === 'string' && expected && expected !== resourceVersionOf(old)) {
      throw conflict(type, name, 'the object has been modified; please apply your changes to the latest version and try again');
    }
    const next = clone(old);
    (next['spec'] as JsonObject)['replicas'] = replicas;
    this.commitUpdate(type, old, next, { ...options, subresource: undefined }, false);
    return this.getScale(type, namespace, name);
  }

  /** Applies a JSON, merge or strategic merge patch to a Scale. */
  patchScale(type: ResourceType, namespace: string | undefined, name: string, patchType: PatchType, body: JsonValue, options: WriteOptions = {}): JsonObject {
    if (patchType === 'apply') throw badRequest('server-side apply is not supported on the scale subresource by the simulator');
    const current = this.getScale(type, namespace, name);
    let patched: JsonValue;
    try {
      patched = patchType === 'json' ? jsonPatch(current, body) : patchType === 'merge' ? mergePatch(current, body) : strategicMerge(current, body);
    } catch (error) {
      if (error instanceof JsonPatchError) throw new KubeStatusError(422, 'Invalid', `the server rejected our request due to an error in our request: ${error.message}`);
      throw error;
    }
    return this.updateScale(type, namespace, name, patched, options);
  }

  /** Removes an object whatever its finalizers (the namespace controller, once a namespace is empty). */
  removeNow(type: ResourceType, namespace: string | undefined, name: string): void {
    const found = this.store.peek(type, namespace, name);
    if (!found) return;
    this.store.remove(type, namespace, name);
    this.collectDependents(String((found['metadata'] as JsonObject)['uid']), 'Background');
  }

  /**
   * Garbage collection of an owner's dependents: deleted (recursively) when
   * no other owner remains, or released (ownerReference removed) with the
   * Orphan policy. Foreground deletion is treated as Background.
   */
  private collectDependents(ownerUid: string, policy: NonNullable<DeleteOptions['propagationPolicy']>): void {
    for (const type of this.registry.all()) {
      for (const dependent of this.store.peekAll(type)) {
        const metadata = dependent['metadata'] as JsonObject;
        const refs = asArray(metadata['ownerReferences']).filter(isObject);
        if (!refs.some((ref) => ref['uid'] === ownerUid)) continue;
        const namespace = metadata['namespace'] as string | undefined;
        const name = String(metadata['name']);
        const remaining = refs.filter((ref) => ref['uid'] !== ownerUid);
        try {
          if (policy === 'Orphan' || remaining.length > 0) {
            const next = clone(dependent);
            if (remaining.length > 0) meta(next)['ownerReferences'] = remaining;
            else delete meta(next)['ownerReferences'];
            this.commitUpdate(type, dependent, next, { manager: 'kube-controller-manager' }, false);
          } else if (this.store.peek(type, namespace, name)) {
            this.delete(type, namespace, name, { propagationPolicy: 'Background' });
          }
        } catch (error) {
          // A dependent that cannot be released or deleted stays; the owner is gone either way.
          if (!(error instanceof KubeStatusError)) throw error;
        }
      }
    }
  }

  /** Parses and checks a request body: apiVersion/kind of this resource, namespace of the URL. */
  private incoming(type: ResourceType, namespace: string | undefined, body: unknown): JsonObject {
    if (!isObject(body)) throw badRequest('the request body must be a JSON object');
    const obj = clone(body);
    const apiVersion = apiVersionOf(type);
    if (obj['apiVersion'] !== undefined && obj['apiVersion'] !== apiVersion) {
      throw badRequest(`the API version in the data (${String(obj['apiVersion'])}) does not match the expected API version (${apiVersion})`);
    }
    if (obj['kind'] !== undefined && obj['kind'] !== type.kind) {
      throw badRequest(`the kind in the data (${String(obj['kind'])}) does not match the expected kind (${type.kind})`);
    }
    obj['apiVersion'] = apiVersion;
    obj['kind'] = type.kind;
    const metadata = meta(obj);
    if (type.namespaced) {
      if (metadata['namespace'] !== undefined && metadata['namespace'] !== '' && metadata['namespace'] !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      metadata['namespace'] = namespace ?? null;
      if (!namespace) throw badRequest(`${type.plural} are namespaced: the request needs a namespace`);
    } else {
      delete metadata['namespace'];
    }
    return obj;
  }

  private keepServerFields(type: ResourceType, old: JsonObject, incoming: JsonObject): JsonObject {
    const next = incoming;
    const metadata = meta(next);
    const oldMeta = old['metadata'] as JsonObject;
    const sentManagedFields = metadata['managedFields'];
    for (const field of ['uid', 'creationTimestamp', 'generation', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields', 'namespace']) {
      if (oldMeta[field] !== undefined) metadata[field] = clone(oldMeta[field]!);
      else delete metadata[field];
    }
    // As on the server: managedFields sent with a write replace the stored ones (kubectl migrates client-side
    // apply ownership this way); an empty list changes nothing; a list of one empty entry clears them.
    if (Array.isArray(sentManagedFields) && sentManagedFields.length > 0) {
      if (sentManagedFields.length === 1 && isObject(sentManagedFields[0]) && Object.keys(sentManagedFields[0]).length === 0) delete metadata['managedFields'];
      else metadata['managedFields'] = sentManagedFields;
    }
    if (type.status) {
      if (old['status'] !== undefined) next['status'] = clone(old['status']);
      else delete next['status'];
    }
    return next;
  }

  private withStatusOf(old: JsonObject, incoming: JsonObject): JsonObject {
    const next = clone(old);
    if (incoming['status'] !== undefined) next['status'] = incoming['status'];
    else delete next['status'];
    return next;
  }

  private requireNamespace(type: ResourceType, namespace: string | undefined, name: string): void {
    if (!type.namespaced || !namespace) return;
    const namespaceType = this.registry.byPath('', 'v1', 'namespaces');
    if (!namespaceType) return;
    const ns = this.store.peek(namespaceType, undefined, namespace);
    if (!ns) throw notFound(namespaceType, namespace);
    if ((ns['metadata'] as JsonObject)['deletionTimestamp']) {
      throw forbidden(type, name, `unable to create new content in namespace ${namespace} because it is being terminated`);
    }
  }

  private admit(request: AdmissionRequest): void {
    for (const hook of this.admission) hook(request);
  }
}

function objectKey(obj: JsonObject): string {
  const metadata = obj['metadata'] as JsonObject;
  return `${String(metadata['namespace'] ?? '')}/${String(metadata['name'])}`;
}

function encodeContinue(key: string): string {
  return Buffer.from(JSON.stringify({ after: key })).toString('base64url');
}

function decodeContinue(token: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof parsed.after === 'string') return parsed.after;
  } catch {
    // reported below
  }
  throw badRequest('the provided continue parameter is not valid');
}
