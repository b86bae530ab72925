import { asArray, getPath, isObject, stringMap, type JsonObject } from '../json.js';
import { formatQuantityFor, parseQuantity } from '../quantity.js';
import { resourceKey, type ResourceType } from '../resources.js';
import { forbidden } from '../status.js';
import type { Change } from '../store/object-store.js';
import type { AdmissionRequest, ResourceApi } from '../store/resource-api.js';
import { keyOf, splitKey, type Controller, type ReconcileResult } from './manager.js';
import { isDeleting, isPodFinished, nameOf, namespaceOf, writeStatus } from './util.js';

/** Core resources quotas can count by their short names (`configmaps: 10`). */
const CORE_COUNTS: Record<string, string> = {
  pods: 'pods',
  configmaps: 'configmaps',
  secrets: 'secrets',
  resourcequotas: 'resourcequotas',
  serviceaccounts: 'serviceaccounts',
};

/** A compute amount of a pod: the sum over its containers of `requests.<r>` or `limits.<r>`. */
function podAmount(pod: JsonObject, kind: 'requests' | 'limits', resource: string): number | undefined {
  let total = 0;
  for (const container of asArray(getPath(pod, 'spec.containers')).filter(isObject)) {
    const resources = isObject(container['resources']) ? container['resources'] : {};
    const requests = isObject(resources['requests']) ? resources['requests'] : {};
    const limits = isObject(resources['limits']) ? resources['limits'] : {};
    // A request defaults to the limit when only the limit is set, as on the server.
    const value = kind === 'requests' ? (requests[resource] ?? limits[resource]) : limits[resource];
    const parsed = parseQuantity(value);
    if (parsed === undefined) return undefined;
    total += parsed;
  }
  return total;
}

/** `requests.cpu` / `cpu` → requests of cpu; `limits.memory` → limits of memory; undefined for counts. */
function computeKey(key: string): { kind: 'requests' | 'limits'; resource: string } | undefined {
  if (key.startsWith('requests.')) return { kind: 'requests', resource: key.slice('requests.'.length) };
  if (key.startsWith('limits.')) return { kind: 'limits', resource: key.slice('limits.'.length) };
  if (key === 'cpu' || key === 'memory' || key === 'ephemeral-storage') return { kind: 'requests', resource: key };
  return undefined;
}

function chargeable(pod: JsonObject): boolean {
  return !isPodFinished(pod) && !isDeleting(pod);
}

/**
 * ResourceQuotas: `status.hard` mirrors `spec.hard` and `status.used` is
 * computed from the namespace (compute requests and limits of its
 * non-terminal pods, object counts); admission refuses pods (and counted
 * objects) that would exceed a quota, and pods that do not state a
 * request or limit a quota constrains, with 403 Forbidden as the server does.
 */
export class QuotaController implements Controller {
  readonly name = 'resourcequotas';
  private readonly quotaType: ResourceType;
  private readonly podType: ResourceType;

  constructor(private readonly api: ResourceApi) {
    this.quotaType = api.resource('v1', 'ResourceQuota');
    this.podType = api.resource('v1', 'Pod');
    api.admission.push((request) => this.admit(request));
  }

  initialKeys(): string[] {
    return this.api.store.peekAll(this.quotaType).map(keyOf);
  }

  keysFor(change: Change): string[] {
    if (change.resource === this.quotaType) return change.type === 'DELETED' ? [] : [keyOf(change.object)];
    const namespace = namespaceOf(change.object);
    if (!namespace || !change.resource.namespaced) return [];
    return this.api.store.peekAll(this.quotaType, namespace).map(keyOf);
  }

  /** Usage of every resource named in `hard` within `namespace`, formatted as quantities. */
  usage(namespace: string, hard: Record<string, unknown>, extra?: { type: ResourceType; object: JsonObject }): Record<string, number> {
    const pods = this.api.store.peekAll(this.podType, namespace).filter(chargeable);
    if (extra?.type === this.podType) pods.push(extra.object);
    const used: Record<string, number> = {};
    for (const key of Object.keys(hard)) {
      const compute = computeKey(key);
      if (compute) {
        used[key] = pods.reduce((sum, pod) => sum + (podAmount(pod, compute.kind, compute.resource) ?? 0), 0);
        continue;
      }
      const type = this.countedType(key);
      if (!type) {
        used[key] = 0;
        continue;
      }
      let count = type === this.podType ? pods.length : this.api.store.peekAll(type, namespace).length;
      if (extra && extra.type === type && type !== this.podType) count += 1;
      used[key] = count;
    }
    return used;
  }

  private countedType(key: string): ResourceType | undefined {
    const name = key.startsWith('count/') ? key.slice('count/'.length) : CORE_COUNTS[key];
    if (!name) return undefined;
    return this.api.registry.all().find((t) => resourceKey(t) === name);
  }

  reconcile(key: string): ReconcileResult {
    const { namespace, name } = splitKey(key);
    const quota = this.api.store.peek(this.quotaType, namespace, name);
    if (!quota) return;
    const hard = isObject(getPath(quota, 'spec.hard')) ? (getPath(quota, 'spec.hard') as JsonObject) : {};
    const used = this.usage(namespace!, hard);
    writeStatus(this.api, this.quotaType, quota, {
      hard: { ...hard },
      used: Object.fromEntries(Object.entries(used).map(([k, v]) => [k, formatQuantityFor(k, v)])),
    });
    return;
  }

  private admit(request: AdmissionRequest): void {
    if (request.operation !== 'CREATE' || !request.resource.namespaced || request.resource === this.quotaType) return;
    const namespace = namespaceOf(request.object);
    if (!namespace) return;
    for (const quota of this.api.store.peekAll(this.quotaType, namespace)) {
      const hard = stringMap(getPath(quota, 'spec.hard'));
      const relevant = Object.keys(hard).filter((key) => (request.resource === this.podType ? true : this.countedType(key) === request.resource));
      if (relevant.length === 0) continue;
      if (request.resource === this.podType) {
        const missing = relevant
          .map(computeKey)
          .filter((c): c is NonNullable<typeof c> => c !== undefined)
          .filter((c) => podAmount(request.object, c.kind, c.resource) === undefined)
          .map((c) => `${c.kind}.${c.resource}`);
        if (missing.length > 0) {
          const containers = asArray(getPath(request.object, 'spec.containers')).filter(isObject).map((c) => String(c['name']));
          throw forbidden(request.resource, nameOf(request.object), `failed quota: ${nameOf(quota)}: must specify ${[...new Set(missing)].map((m) => `${m} for: ${containers.join(',')}`).join('; ')}`);
        }
      }
      const before = this.usage(namespace, hard);
      const after = this.usage(namespace, hard, { type: request.resource, object: request.object });
      const exceeded = relevant.filter((key) => after[key]! > before[key]! && after[key]! > (parseQuantity(hard[key]) ?? Infinity));
      if (exceeded.length > 0) {
        const list = (values: Record<string, number>, keys: string[]) => keys.map((k) => `${k}=${formatQuantityFor(k, values[k]!)}`).join(',');
        const requested = Object.fromEntries(exceeded.map((k) => [k, after[k]! - before[k]!]));
        throw forbidden(request.resource, nameOf(request.object), `exceeded quota: ${nameOf(quota)}, requested: ${list(requested, exceeded)}, used: ${list(before, exceeded)}, limited: ${exceeded.map((k) => `${k}=${hard[k]}`).join(',')}`);
      }
    }
  }
}
