import { getPath, type JsonObject } from '../json.js';
import { randomSuffix } from '../names.js';
import type { ResourceType } from '../resources.js';
import { KubeStatusError } from '../status.js';
import type { Change } from '../store/object-store.js';
import type { ResourceApi } from '../store/resource-api.js';
import type { EventRecorder } from './events.js';
import { allKeys, splitKey, type Controller, type ReconcileResult } from './manager.js';
import { changeKeys, CONTROLLER_MANAGER, isDeleting, isPodFinished, isPodReady, nameOf, namespaceOf, ownedBy, ownerKeys, podFromTemplate, uidOf, withoutZeros, writeStatus, CreateBackoff } from './util.js';

/** Keeps `spec.replicas` pods of each ReplicaSet, and its status counts. */
export class ReplicaSetController implements Controller {
  readonly name = 'replicasets';
  private readonly rsType: ResourceType;
  private readonly podType: ResourceType;
  private readonly backoff: CreateBackoff;

  constructor(
    private readonly api: ResourceApi,
    private readonly events: EventRecorder,
  ) {
    this.rsType = api.resource('apps/v1', 'ReplicaSet');
    this.podType = api.resource('v1', 'Pod');
    this.backoff = new CreateBackoff(() => api.clock.now());
  }

  initialKeys(): string[] {
    return allKeys(this.api, this.rsType);
  }

  keysFor(change: Change): string[] {
    if (change.resource === this.rsType) return changeKeys(change, 'ReplicaSet');
    if (change.resource === this.podType) return ownerKeys(change, 'ReplicaSet');
    return [];
  }

  reconcile(key: string): ReconcileResult {
    const { namespace, name } = splitKey(key);
    const rs = this.api.store.peek(this.rsType, namespace, name);
    if (!rs || isDeleting(rs)) return;
    const desired = Number(getPath(rs, 'spec.replicas') ?? 1);
    let pods = ownedBy(this.api, this.podType, rs).filter((p) => !isDeleting(p) && !isPodFinished(p));
    let retry: ReconcileResult = undefined;
    const wait = this.backoff.remaining(uidOf(rs));
    if (pods.length < desired && wait > 0) {
      retry = { requeueAfterMs: wait };
    } else if (pods.length < desired) {
      for (let i = pods.length; i < desired; i++) {
        const podName = `${name}-${randomSuffix()}`;
        try {
          this.api.create(this.podType, namespace, podFromTemplate(getPath(rs, 'spec.template'), { name: podName, namespace: namespace!, owner: rs, ownerType: this.rsType }), { manager: CONTROLLER_MANAGER });
          this.events.record(rs, this.rsType, 'Normal', 'SuccessfulCreate', `Created pod: ${podName}`, 'replicaset-controller');
          this.backoff.succeeded(uidOf(rs));
        } catch (error) {
          if (!(error instanceof KubeStatusError)) throw error;
          this.events.record(rs, this.rsType, 'Warning', 'FailedCreate', `Error creating: ${error.message}`, 'replicaset-controller');
          retry = { requeueAfterMs: this.backoff.failed(uidOf(rs)) };
          break;
        }
      }
    } else if (pods.length > desired) {
      const rank = (p: JsonObject) => (!getPath(p, 'spec.nodeName') ? 0 : getPath(p, 'status.phase') === 'Pending' ? 1 : !isPodReady(p) ? 2 : 3);
      const victims = [...pods]
        .sort((a, b) => rank(a) - rank(b) || String(getPath(b, 'metadata.creationTimestamp')).localeCompare(String(getPath(a, 'metadata.creationTimestamp'))))
        .slice(0, pods.length - desired);
      for (const pod of victims) {
        this.api.delete(this.podType, namespaceOf(pod), nameOf(pod));
        this.events.record(rs, this.rsType, 'Normal', 'SuccessfulDelete', `Deleted pod: ${nameOf(pod)}`, 'replicaset-controller');
      }
    }
    pods = ownedBy(this.api, this.podType, rs).filter((p) => !isDeleting(p) && !isPodFinished(p));
    const ready = pods.filter(isPodReady).length;
    const fresh = this.api.store.peek(this.rsType, namespace, name);
    if (fresh) {
      const status = { replicas: pods.length, fullyLabeledReplicas: pods.length, readyReplicas: ready, availableReplicas: ready, observedGeneration: Number(getPath(fresh, 'metadata.generation') ?? 1) };
      writeStatus(this.api, this.rsType, fresh, withoutZeros(status, ['fullyLabeledReplicas', 'readyReplicas', 'availableReplicas']));
    }
    return retry;
  }
}
