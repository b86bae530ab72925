import { asArray, clone, deepEqual, getPath, isObject, stringMap, type JsonObject, type JsonValue } from '../json.js';
import { apiVersionOf, type ResourceType } from '../resources.js';
import type { Change } from '../store/object-store.js';
import type { ResourceApi } from '../store/resource-api.js';
import { keyOf } from './manager.js';

export const CONTROLLER_MANAGER = 'kube-controller-manager';

/** Annotations that steer simulated pods (see the README's cluster simulator section). */
export const SIM_ANNOTATIONS = {
  /** `true`/`crash`: containers crash (CrashLoopBackOff, or Failed for Never/OnFailure pods); `image-pull`: ImagePullBackOff; `unschedulable`: stays Pending. */
  fail: 'sim.canopy.dev/fail',
  /** Seconds a run-to-completion pod (restartPolicy Never/OnFailure) runs before it succeeds. */
  runSeconds: 'sim.canopy.dev/run-seconds',
  /** On a Velero Backup or Restore (or a namespace it covers): `PartiallyFailed` or `Failed` instead of `Completed`. */
  veleroOutcome: 'sim.canopy.dev/velero-outcome',
  /** Errors a partially failed (or failed) Velero run reports; default 1 for PartiallyFailed. */
  veleroErrors: 'sim.canopy.dev/velero-errors',
  /** Warnings a finished Velero run reports. */
  veleroWarnings: 'sim.canopy.dev/velero-warnings',
} as const;

export function metadataOf(obj: JsonObject): JsonObject {
  return obj['metadata'] as JsonObject;
}

export function uidOf(obj: JsonObject): string {
  return String(metadataOf(obj)['uid']);
}

export function nameOf(obj: JsonObject): string {
  return String(metadataOf(obj)['name']);
}

export function namespaceOf(obj: JsonObject): string | undefined {
  const ns = metadataOf(obj)['namespace'];
  return typeof ns === 'string' ? ns : undefined;
}

export function isDeleting(obj: JsonObject): boolean {
  return Boolean(metadataOf(obj)['deletionTimestamp']);
}

export function controllerRef(obj: JsonObject): JsonObject | undefined {
  return asArray(metadataOf(obj)['ownerReferences'])
    .filter(isObject)
    .find((ref) => ref['controller'] === true);
}

export function ownerReference(owner: JsonObject, type: ResourceType): JsonObject {
  return { apiVersion: apiVersionOf(type), kind: type.kind, name: nameOf(owner), uid: uidOf(owner), controller: true, blockOwnerDeletion: true };
}

/** Keys of the owners (of `kind`) whose dependents changed: e.g. a pod change → its ReplicaSet. */
export function ownerKeys(change: Change, kind: string): string[] {
  const keys = new Set<string>();
  for (const obj of [change.object, change.previous]) {
    if (!obj) continue;
    const ref = controllerRef(obj);
    if (ref?.['kind'] === kind) keys.add(`${namespaceOf(obj) ?? ''}/${String(ref['name'])}`);
  }
  return [...keys];
}

/** The stored objects of `type` in `namespace` whose controller is `owner`. */
export function ownedBy(api: ResourceApi, type: ResourceType, owner: JsonObject): JsonObject[] {
  const uid = uidOf(owner);
  return api.store.peekAll(type, namespaceOf(owner)).filter((obj) => controllerRef(obj)?.['uid'] === uid);
}

export function changeKeys(change: Change, kind: string): string[] {
  return change.resource.kind === kind ? [keyOf(change.object)] : [];
}

export type Condition = { type: string; status: 'True' | 'False' | 'Unknown'; reason?: string; message?: string };

/**
 * Sets a condition the way controllers do: lastTransitionTime moves only
 * when the status changes; lastUpdateTime (if `withUpdateTime`) when
 * anything changes.
 */
export function setCondition(status: JsonObject, condition: Condition, now: string, withUpdateTime = false, withProbeTime = false): void {
  const list = asArray(status['conditions']).filter(isObject);
  const existing = list.find((c) => c['type'] === condition.type);
  const next: JsonObject = { type: condition.type, status: condition.status };
  if (withProbeTime) next['lastProbeTime'] = null;
  if (condition.reason !== undefined) next['reason'] = condition.reason;
  if (condition.message !== undefined) next['message'] = condition.message;
  const unchanged = existing && existing['status'] === condition.status;
  next['lastTransitionTime'] = unchanged ? (existing['lastTransitionTime'] ?? now) : now;
  if (withUpdateTime) {
    const same = existing && existing['status'] === condition.status && existing['reason'] === condition.reason && existing['message'] === condition.message;
    next['lastUpdateTime'] = same ? (existing['lastUpdateTime'] ?? now) : now;
  }
  if (existing) list[list.indexOf(existing)] = { ...next };
  else list.push(next);
  status['conditions'] = list;
}

export function conditionOf(obj: JsonObject, type: string): JsonObject | undefined {
  return asArray(getPath(obj, 'status.conditions'))
    .filter(isObject)
    .find((c) => c['type'] === type);
}

export function isPodReady(pod: JsonObject): boolean {
  return getPath(pod, 'status.phase') === 'Running' && conditionOf(pod, 'Ready')?.['status'] === 'True';
}

export function isPodFinished(pod: JsonObject): boolean {
  const phase = getPath(pod, 'status.phase');
  return phase === 'Succeeded' || phase === 'Failed';
}

/** A pod made from a workload's template. */
export function podFromTemplate(template: JsonValue | undefined, options: { name: string; namespace: string; owner: JsonObject; ownerType: ResourceType; labels?: Record<string, string>; annotations?: Record<string, string>; spec?: JsonObject }): JsonObject {
  const t = isObject(template) ? clone(template) : {};
  const templateMeta = isObject(t['metadata']) ? t['metadata'] : {};
  const labels = { ...stringMap(templateMeta['labels']), ...options.labels };
  const annotations = { ...stringMap(templateMeta['annotations']), ...options.annotations };
  const metadata: JsonObject = { name: options.name, namespace: options.namespace, labels, ownerReferences: [ownerReference(options.owner, options.ownerType)] };
  if (Object.keys(annotations).length > 0) metadata['annotations'] = annotations;
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec: { ...(isObject(t['spec']) ? t['spec'] : {}), ...options.spec } };
}

/** Writes `status` if it differs from the stored one (the API skips no-op writes anyway; this saves the work). */
export function writeStatus(api: ResourceApi, type: ResourceType, obj: JsonObject, status: JsonObject, manager = CONTROLLER_MANAGER): JsonObject {
  if (deepEqual(obj['status'], status)) return obj;
  const next = clone(obj);
  next['status'] = status;
  return api.update(type, namespaceOf(obj), nameOf(obj), next, { manager, subresource: 'status' });
}

/** Drops zero counts, as the API server's `omitempty` does. */
export function withoutZeros(status: JsonObject, fields: string[]): JsonObject {
  for (const field of fields) if (status[field] === 0) delete status[field];
  return status;
}

/** Per-owner retry delays after a refused create (e.g. a quota): 10 s, doubling up to five minutes. */
export class CreateBackoff {
  private readonly next = new Map<string, { at: number; delay: number }>();

  constructor(private readonly now: () => number) {}

  /** Milliseconds to wait before trying again, or 0. */
  remaining(uid: string): number {
    const entry = this.next.get(uid);
    return entry ? Math.max(0, entry.at - this.now()) : 0;
  }

  failed(uid: string): number {
    const delay = Math.min((this.next.get(uid)?.delay ?? 5_000) * 2, 300_000);
    this.next.set(uid, { at: this.now() + delay, delay });
    return delay;
  }

  succeeded(uid: string): void {
    this.next.delete(uid);
  }
}
