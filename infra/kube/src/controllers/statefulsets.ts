import { getPath, stableStringify, stringMap, type JsonObject } from '../json.js';
import { safeHash } from '../names.js';
import type { ResourceType } from '../resources.js';
import { KubeStatusError } from '../status.js';
import type { Change } from '../store/object-store.js';
import type { ResourceApi } from '../store/resource-api.js';
import type { EventRecorder } from './events.js';
import { allKeys, splitKey, type Controller, type ReconcileResult } from './manager.js';
import { changeKeys, CONTROLLER_MANAGER, isDeleting, isPodFinished, isPodReady, nameOf, namespaceOf, ownedBy, ownerKeys, podFromTemplate, withoutZeros, writeStatus } from './util.js';

const REVISION_LABEL = 'controller-revision-hash';

/**
 * StatefulSets → pods `<name>-0` … `<name>-(n-1)`. OrderedReady (the
 * default) creates one pod at a time, each once the previous is Running and
 * Ready, and removes the highest ordinal first; Parallel does all at once.
 * A template change replaces pods from the highest ordinal down, one at a
 * time.
 */
export class StatefulSetController implements Controller {
  readonly name = 'statefulsets';
  private readonly stsType: ResourceType;
  private readonly podType: ResourceType;

  constructor(
    private readonly api: ResourceApi,
    private readonly events: EventRecorder,
  ) {
    this.stsType = api.resource('apps/v1', 'StatefulSet');
    this.podType = api.resource('v1', 'Pod');
  }

  initialKeys(): string[] {
    return allKeys(this.api, this.stsType);
  }

  keysFor(change: Change): string[] {
    if (change.resource === this.stsType) return changeKeys(change, 'StatefulSet');
    if (change.resource === this.podType) return ownerKeys(change, 'StatefulSet');
    return [];
  }

  reconcile(key: string): ReconcileResult {
    const { namespace, name } = splitKey(key);
    const sts = this.api.store.peek(this.stsType, namespace, name);
    if (!sts || isDeleting(sts)) return;
    const desired = Number(getPath(sts, 'spec.replicas') ?? 1);
    const parallel = getPath(sts, 'spec.podManagementPolicy') === 'Parallel';
    const revision = `${name}-${safeHash(stableStringify(getPath(sts, 'spec.template') ?? {}))}`;
    const ordinalOf = (pod: JsonObject) => Number(/-(\d+)$/.exec(nameOf(pod))?.[1] ?? -1);
    const pods = () => ownedBy(this.api, this.podType, sts).filter((p) => !isDeleting(p));
    let retry: ReconcileResult = undefined;

    const byOrdinal = new Map(pods().map((p) => [ordinalOf(p), p]));
    for (const [ordinal, pod] of [...byOrdinal].sort((a, b) => b[0] - a[0])) {
      if (ordinal < desired && !isPodFinished(pod)) continue;
      this.api.delete(this.podType, namespaceOf(pod), nameOf(pod));
      this.events.record(sts, this.stsType, 'Normal', 'SuccessfulDelete', `delete Pod ${nameOf(pod)} in StatefulSet ${name} successful`, 'statefulset-controller');
      byOrdinal.delete(ordinal);
      if (!parallel) break;
    }
    for (let ordinal = 0; ordinal < desired; ordinal++) {
      const existing = byOrdinal.get(ordinal);
      if (existing) {
        if (!parallel && !isPodReady(existing)) break;
        continue;
      }
      const podName = `${name}-${ordinal}`;
      try {
        const pod = podFromTemplate(getPath(sts, 'spec.template'), {
          name: podName,
          namespace: namespace!,
          owner: sts,
          ownerType: this.stsType,
          labels: { [REVISION_LABEL]: revision, 'statefulset.kubernetes.io/pod-name': podName, 'apps.kubernetes.io/pod-index': String(ordinal) },
          spec: { hostname: podName, ...(getPath(sts, 'spec.serviceName') ? { subdomain: String(getPath(sts, 'spec.serviceName')) } : {}) },
        });
        this.api.create(this.podType, namespace, pod, { manager: CONTROLLER_MANAGER });
        this.events.record(sts, this.stsType, 'Normal', 'SuccessfulCreate', `create Pod ${podName} in StatefulSet ${name} successful`, 'statefulset-controller');
      } catch (error) {
        if (!(error instanceof KubeStatusError)) throw error;
        this.events.record(sts, this.stsType, 'Warning', 'FailedCreate', `create Pod ${podName} in StatefulSet ${name} failed error: ${error.message}`, 'statefulset-controller');
        retry = { requeueAfterMs: 10_000 };
        break;
      }
      if (!parallel) break;
    }

    const current = pods();
    const allReady = current.length === desired && current.every(isPodReady);
    if (allReady) {
      const outdated = current.filter((p) => stringMap(getPath(p, 'metadata.labels'))[REVISION_LABEL] !== revision).sort((a, b) => ordinalOf(b) - ordinalOf(a));
      if (outdated[0]) this.api.delete(this.podType, namespaceOf(outdated[0]), nameOf(outdated[0]));
    }

    const live = pods();
    const ready = live.filter(isPodReady).length;
    const updated = live.filter((p) => stringMap(getPath(p, 'metadata.labels'))[REVISION_LABEL] === revision).length;
    const fresh = this.api.store.peek(this.stsType, namespace, name);
    if (fresh) {
      const previousCurrent = getPath(fresh, 'status.currentRevision');
      const status: JsonObject = {
        observedGeneration: Number(getPath(fresh, 'metadata.generation') ?? 1),
        replicas: live.length,
        readyReplicas: ready,
        currentReplicas: updated === live.length ? live.length : live.length - updated,
        updatedReplicas: updated,
        availableReplicas: ready,
        currentRevision: updated === desired || typeof previousCurrent !== 'string' ? revision : previousCurrent,
        updateRevision: revision,
        collisionCount: 0,
      };
      writeStatus(this.api, this.stsType, fresh, withoutZeros(status, ['readyReplicas', 'currentReplicas', 'updatedReplicas']));
    }
    return retry;
  }
}
