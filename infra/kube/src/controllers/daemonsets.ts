import { getPath, stableStringify, stringMap, type JsonObject } from '../json.js';
import { randomSuffix, safeHash } from '../names.js';
import type { ResourceType } from '../resources.js';
import { KubeStatusError } from '../status.js';
import type { Change } from '../store/object-store.js';
import type { ResourceApi } from '../store/resource-api.js';
import type { EventRecorder } from './events.js';
import { allKeys, splitKey, type Controller, type ReconcileResult } from './manager.js';
import { changeKeys, conditionOf, CONTROLLER_MANAGER, isDeleting, isPodFinished, isPodReady, nameOf, namespaceOf, ownedBy, ownerKeys, podFromTemplate, withoutZeros, writeStatus } from './util.js';

const REVISION_LABEL = 'controller-revision-hash';

/** DaemonSets → one pod per Ready node matching the template's nodeSelector; a template change replaces them one node at a time. */
export class DaemonSetController implements Controller {
  readonly name = 'daemonsets';
  private readonly dsType: ResourceType;
  private readonly podType: ResourceType;
  private readonly nodeType: ResourceType;

  constructor(
    private readonly api: ResourceApi,
    private readonly events: EventRecorder,
  ) {
    this.dsType = api.resource('apps/v1', 'DaemonSet');
    this.podType = api.resource('v1', 'Pod');
    this.nodeType = api.resource('v1', 'Node');
  }

  initialKeys(): string[] {
    return allKeys(this.api, this.dsType);
  }

  keysFor(change: Change): string[] {
    if (change.resource === this.dsType) return changeKeys(change, 'DaemonSet');
    if (change.resource === this.podType) return ownerKeys(change, 'DaemonSet');
    if (change.resource === this.nodeType) return allKeys(this.api, this.dsType);
    return [];
  }

  reconcile(key: string): ReconcileResult {
    const { namespace, name } = splitKey(key);
    const ds = this.api.store.peek(this.dsType, namespace, name);
    if (!ds || isDeleting(ds)) return;
    const revision = safeHash(stableStringify(getPath(ds, 'spec.template') ?? {}));
    const selector = stringMap(getPath(ds, 'spec.template.spec.nodeSelector'));
    const eligible = this.api.store
      .peekAll(this.nodeType)
      .filter((node) => conditionOf(node, 'Ready')?.['status'] === 'True')
      .filter((node) => {
        const labels = stringMap(getPath(node, 'metadata.labels'));
        return Object.entries(selector).every(([k, v]) => labels[k] === v);
      })
      .map(nameOf);
    const pods = () => ownedBy(this.api, this.podType, ds).filter((p) => !isDeleting(p) && !isPodFinished(p));
    const podsOn = (node: string, list: JsonObject[]) => list.filter((p) => getPath(p, 'spec.nodeName') === node);
    let retry: ReconcileResult = undefined;

    for (const pod of pods()) {
      if (!eligible.includes(String(getPath(pod, 'spec.nodeName')))) this.api.delete(this.podType, namespaceOf(pod), nameOf(pod));
    }
    const current = pods();
    const outdated = current.filter((p) => stringMap(getPath(p, 'metadata.labels'))[REVISION_LABEL] !== revision);
    if (outdated.length > 0 && current.every(isPodReady)) {
      const victim = outdated[0]!;
      this.api.delete(this.podType, namespaceOf(victim), nameOf(victim));
      this.events.record(ds, this.dsType, 'Normal', 'SuccessfulDelete', `Deleted pod: ${nameOf(victim)}`, 'daemonset-controller');
    }
    for (const node of eligible) {
      if (podsOn(node, pods()).length > 0) continue;
      const podName = `${name}-${randomSuffix()}`;
      try {
        const pod = podFromTemplate(getPath(ds, 'spec.template'), {
          name: podName,
          namespace: namespace!,
          owner: ds,
          ownerType: this.dsType,
          labels: { [REVISION_LABEL]: revision, 'pod-template-generation': String(getPath(ds, 'metadata.generation') ?? 1) },
          spec: { nodeName: node },
        });
        this.api.create(this.podType, namespace, pod, { manager: CONTROLLER_MANAGER });
        this.events.record(ds, this.dsType, 'Normal', 'SuccessfulCreate', `Created pod: ${podName}`, 'daemonset-controller');
      } catch (error) {
        if (!(error instanceof KubeStatusError)) throw error;
        this.events.record(ds, this.dsType, 'Warning', 'FailedCreate', `Error creating: ${error.message}`, 'daemonset-controller');
        retry = { requeueAfterMs: 10_000 };
        break;
      }
    }

    const live = pods();
    const scheduled = eligible.filter((node) => podsOn(node, live).length > 0);
    const readyNodes = eligible.filter((node) => podsOn(node, live).some(isPodReady));
    const updatedNodes = eligible.filter((node) => podsOn(node, live).some((p) => stringMap(getPath(p, 'metadata.labels'))[REVISION_LABEL] === revision));
    const fresh = this.api.store.peek(this.dsType, namespace, name);
    if (fresh) {
      const status: JsonObject = {
        currentNumberScheduled: scheduled.length,
        numberMisscheduled: 0,
        desiredNumberScheduled: eligible.length,
        numberReady: readyNodes.length,
        observedGeneration: Number(getPath(fresh, 'metadata.generation') ?? 1),
        updatedNumberScheduled: updatedNodes.length,
        numberAvailable: readyNodes.length,
        numberUnavailable: eligible.length - readyNodes.length,
      };
      writeStatus(this.api, this.dsType, fresh, withoutZeros(status, ['updatedNumberScheduled', 'numberAvailable', 'numberUnavailable']));
    }
    return retry;
  }
}
