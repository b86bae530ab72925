import { timestamp } from '../clock.js';
import { clone, getPath, isObject, stableStringify, stringMap, type JsonObject } from '../json.js';
import { safeHash } from '../names.js';
import type { ResourceType } from '../resources.js';
import type { Change } from '../store/object-store.js';
import type { ResourceApi } from '../store/resource-api.js';
import type { EventRecorder } from './events.js';
import { allKeys, splitKey, type Controller, type ReconcileResult } from './manager.js';
import { changeKeys, conditionOf, CONTROLLER_MANAGER, isDeleting, metadataOf, nameOf, ownedBy, ownerKeys, ownerReference, setCondition, withoutZeros, writeStatus } from './util.js';

const REVISION = 'deployment.kubernetes.io/revision';

function replicasOf(obj: JsonObject, path = 'spec.replicas'): number {
  return Number(getPath(obj, path) ?? 0);
}

/** `25%` of `total` rounded down, or an absolute number. */
function scaled(value: unknown, total: number): number {
  if (typeof value === 'number') return value;
  const match = /^(\d+)%$/.exec(String(value ?? '25%'));
  return match ? Math.floor((Number(match[1]) * total) / 100) : 0;
}

/**
 * Deployments → ReplicaSets: one ReplicaSet per pod template (named by
 * the template's hash, labelled `pod-template-hash`), scaled to the
 * desired replicas; older ReplicaSets scale down as the new one's pods
 * become available (Recreate: first). Status, conditions (Available,
 * Progressing, with the progress deadline), revision annotations and
 * ScalingReplicaSet events as the real controller.
 */
export class DeploymentController implements Controller {
  readonly name = 'deployments';
  private readonly deployType: ResourceType;
  private readonly rsType: ResourceType;

  constructor(
    private readonly api: ResourceApi,
    private readonly events: EventRecorder,
  ) {
    this.deployType = api.resource('apps/v1', 'Deployment');
    this.rsType = api.resource('apps/v1', 'ReplicaSet');
  }

  initialKeys(): string[] {
    return allKeys(this.api, this.deployType);
  }

  keysFor(change: Change): string[] {
    if (change.resource === this.deployType) return changeKeys(change, 'Deployment');
    if (change.resource === this.rsType) return ownerKeys(change, 'Deployment');
    return [];
  }

  reconcile(key: string): ReconcileResult {
    const { namespace, name } = splitKey(key);
    let deployment = this.api.store.peek(this.deployType, namespace, name);
    if (!deployment || isDeleting(deployment)) return;
    const desired = replicasOf(deployment);
    const template = clone(getPath(deployment, 'spec.template') ?? {}) as JsonObject;
    const hash = safeHash(stableStringify(template));
    const owned = ownedBy(this.api, this.rsType, deployment);
    let newRs = owned.find((rs) => stringMap(getPath(rs, 'metadata.labels'))['pod-template-hash'] === hash);
    const revisions = owned.map((rs) => Number(stringMap(getPath(rs, 'metadata.annotations'))[REVISION] ?? 0));
    const maxRevision = Math.max(0, ...revisions);
    const recreate = getPath(deployment, 'spec.strategy.type') === 'Recreate';
    const oldSets = owned.filter((rs) => rs !== newRs);
    const oldPods = oldSets.reduce((sum, rs) => sum + replicasOf(rs, 'status.replicas'), 0);

    if (!newRs) {
      newRs = this.createReplicaSet(deployment, template, hash, maxRevision + 1);
    } else if (Number(stringMap(getPath(newRs, 'metadata.annotations'))[REVISION] ?? 0) < maxRevision) {
      newRs = this.annotate(newRs, { [REVISION]: String(maxRevision + 1) });
    }

    if (recreate && oldPods > 0) {
      for (const rs of oldSets) this.scale(deployment, rs, 0);
      this.scale(deployment, newRs, 0);
    } else {
      this.scale(deployment, newRs, desired);
      let allowed = Math.max(0, desired - replicasOf(newRs, 'status.availableReplicas'));
      const newestFirst = [...oldSets].sort((a, b) => String(getPath(b, 'metadata.creationTimestamp')).localeCompare(String(getPath(a, 'metadata.creationTimestamp'))));
      for (const rs of newestFirst) {
        const target = Math.min(replicasOf(rs), allowed);
        allowed -= target;
        this.scale(deployment, rs, target);
      }
    }
    this.pruneHistory(deployment);

    const revision = stringMap(getPath(this.api.store.peek(this.rsType, namespace, nameOf(newRs)), 'metadata.annotations'))[REVISION];
    if (revision && stringMap(getPath(deployment, 'metadata.annotations'))[REVISION] !== revision) {
      deployment = this.annotate(deployment, { [REVISION]: revision }, this.deployType);
    }
    return this.updateStatus(deployment, nameOf(newRs));
  }

  private createReplicaSet(deployment: JsonObject, template: JsonObject, hash: string, revision: number): JsonObject {
    const namespace = String(metadataOf(deployment)['namespace']);
    const labels = { ...stringMap(getPath(template, 'metadata.labels')), 'pod-template-hash': hash };
    const rsTemplate = clone(template);
    const templateMeta = isObject(rsTemplate['metadata']) ? rsTemplate['metadata'] : (rsTemplate['metadata'] = {});
    templateMeta['labels'] = labels;
    const selector = clone(isObject(getPath(deployment, 'spec.selector')) ? (getPath(deployment, 'spec.selector') as JsonObject) : {});
    selector['matchLabels'] = { ...stringMap(selector['matchLabels']), 'pod-template-hash': hash };
    const desired = replicasOf(deployment);
    const rs: JsonObject = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${nameOf(deployment)}-${hash}`,
        namespace,
        labels,
        annotations: { 'deployment.kubernetes.io/desired-replicas': String(desired), 'deployment.kubernetes.io/max-replicas': String(desired + scaled(getPath(deployment, 'spec.strategy.rollingUpdate.maxSurge'), desired)), [REVISION]: String(revision) },
        ownerReferences: [ownerReference(deployment, this.deployType)],
      },
      spec: { replicas: 0, minReadySeconds: Number(getPath(deployment, 'spec.minReadySeconds') ?? 0), selector, template: rsTemplate },
    };
    return this.api.create(this.rsType, namespace, rs, { manager: CONTROLLER_MANAGER });
  }

  private annotate(obj: JsonObject, annotations: Record<string, string>, type = this.rsType): JsonObject {
    const next = clone(obj);
    const metadata = metadataOf(next);
    metadata['annotations'] = { ...stringMap(metadata['annotations']), ...annotations };
    return this.api.update(type, String(metadata['namespace']), nameOf(next), next, { manager: CONTROLLER_MANAGER });
  }

  private scale(deployment: JsonObject, rs: JsonObject, replicas: number): void {
    const current = this.api.store.peek(this.rsType, String(metadataOf(rs)['namespace']), nameOf(rs));
    if (!current) return;
    const from = replicasOf(current);
    if (from === replicas) return;
    const next = clone(current);
    (next['spec'] as JsonObject)['replicas'] = replicas;
    const metadata = metadataOf(next);
    metadata['annotations'] = { ...stringMap(metadata['annotations']), 'deployment.kubernetes.io/desired-replicas': String(replicasOf(deployment)) };
    this.api.update(this.rsType, String(metadata['namespace']), nameOf(next), next, { manager: CONTROLLER_MANAGER });
    this.events.record(deployment, this.deployType, 'Normal', 'ScalingReplicaSet', `Scaled ${replicas > from ? 'up' : 'down'} replica set ${nameOf(rs)} from ${from} to ${replicas}`, 'deployment-controller');
  }

  /** Old ReplicaSets scaled to zero beyond revisionHistoryLimit are deleted, oldest first. */
  private pruneHistory(deployment: JsonObject): void {
    const limit = Number(getPath(deployment, 'spec.revisionHistoryLimit') ?? 10);
    const hash = safeHash(stableStringify(getPath(deployment, 'spec.template') ?? {}));
    const idle = ownedBy(this.api, this.rsType, deployment)
      .filter((rs) => stringMap(getPath(rs, 'metadata.labels'))['pod-template-hash'] !== hash && replicasOf(rs) === 0 && replicasOf(rs, 'status.replicas') === 0)
      .sort((a, b) => Number(stringMap(getPath(a, 'metadata.annotations'))[REVISION] ?? 0) - Number(stringMap(getPath(b, 'metadata.annotations'))[REVISION] ?? 0));
    for (const rs of idle.slice(0, Math.max(0, idle.length - limit))) {
      this.api.delete(this.rsType, String(metadataOf(rs)['namespace']), nameOf(rs));
    }
  }

  private updateStatus(deployment: JsonObject, newRsName: string): ReconcileResult {
    const fresh = this.api.store.peek(this.deployType, String(metadataOf(deployment)['namespace']), nameOf(deployment));
    if (!fresh) return;
    const desired = replicasOf(fresh);
    const sets = ownedBy(this.api, this.rsType, fresh);
    const newRs = sets.find((rs) => nameOf(rs) === newRsName);
    const sum = (path: string) => sets.reduce((total, rs) => total + replicasOf(rs, path), 0);
    const replicas = sum('status.replicas');
    const updated = newRs ? replicasOf(newRs, 'status.replicas') : 0;
    const ready = sum('status.readyReplicas');
    const available = sum('status.availableReplicas');
    const nowMs = this.api.clock.now();
    const now = timestamp(nowMs);
    const status: JsonObject = clone(isObject(fresh['status']) ? fresh['status'] : {});
    Object.assign(status, { observedGeneration: Number(getPath(fresh, 'metadata.generation') ?? 1), replicas, updatedReplicas: updated, readyReplicas: ready, availableReplicas: available, unavailableReplicas: Math.max(0, replicas - available) });
    withoutZeros(status, ['replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas']);
    const maxUnavailable = scaled(getPath(fresh, 'spec.strategy.rollingUpdate.maxUnavailable'), desired);
    const minAvailable = getPath(fresh, 'spec.strategy.type') === 'Recreate' ? desired : desired - maxUnavailable;
    setCondition(status, available >= minAvailable ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' } : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' }, now, true);
    const complete = updated === desired && replicas === desired && available === desired;
    const progressing = conditionOf({ status } as JsonObject, 'Progressing');
    const deadlineSeconds = Number(getPath(fresh, 'spec.progressDeadlineSeconds') ?? 600);
    let requeue: ReconcileResult = undefined;
    if (complete) {
      setCondition(status, { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${newRsName}" has successfully progressed.` }, now, true);
    } else if (progressing?.['reason'] === 'ProgressDeadlineExceeded') {
      // stays failed until the rollout completes or the template changes
    } else {
      const wasProgressing = progressing?.['reason'] === 'ReplicaSetUpdated' || progressing?.['reason'] === 'NewReplicaSetCreated';
      const since = wasProgressing ? Date.parse(String(progressing!['lastUpdateTime'] ?? now)) : nowMs;
      if (wasProgressing && nowMs >= since + deadlineSeconds * 1000) {
        setCondition(status, { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${newRsName}" has timed out progressing.` }, now, true);
      } else {
        const progress = { type: 'Progressing', status: 'True' as const, reason: 'ReplicaSetUpdated', message: `ReplicaSet "${newRsName}" is progressing.` };
        setCondition(status, progress, now, true);
        requeue = { requeueAfterMs: Math.max(0, since + deadlineSeconds * 1000 - nowMs) };
      }
    }
    const generationChanged = Number(getPath(fresh, 'status.observedGeneration') ?? 0) !== Number(getPath(fresh, 'metadata.generation') ?? 1);
    if (generationChanged && progressing?.['reason'] === 'ProgressDeadlineExceeded' && !complete) {
      setCondition(status, { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${newRsName}" is progressing.` }, now, true);
      requeue = { requeueAfterMs: deadlineSeconds * 1000 };
    }
    writeStatus(this.api, this.deployType, fresh, status);
    return requeue;
  }
}
