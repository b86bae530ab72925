import { timestamp } from '../clock.js';
import { asArray, clone, getPath, isObject, stringMap, type JsonObject } from '../json.js';
import { randomSuffix } from '../names.js';
import type { ResourceType } from '../resources.js';
import { KubeStatusError } from '../status.js';
import type { Change } from '../store/object-store.js';
import type { ResourceApi } from '../store/resource-api.js';
import type { EventRecorder } from './events.js';
import { allKeys, splitKey, type Controller, type ReconcileResult } from './manager.js';
import { changeKeys, conditionOf, CONTROLLER_MANAGER, isDeleting, isPodReady, nameOf, namespaceOf, ownedBy, ownerKeys, podFromTemplate, setCondition, SIM_ANNOTATIONS, writeStatus } from './util.js';

const BACKOFF_MS = 10_000;
const MAX_BACKOFF_MS = 360_000;

/**
 * Jobs → pods that run to completion: up to `parallelism` at a time until
 * `completions` succeed (condition Complete), or until more than
 * `backoffLimit` fail (condition Failed, reason BackoffLimitExceeded), with
 * the exponential back-off (10 s, 20 s, …) before replacing a failed pod.
 * A Job's own `sim.canopy.dev/fail` / `run-seconds` annotations are passed
 * on to its pods.
 */
export class JobController implements Controller {
  readonly name = 'jobs';
  private readonly jobType: ResourceType;
  private readonly podType: ResourceType;

  constructor(
    private readonly api: ResourceApi,
    private readonly events: EventRecorder,
  ) {
    this.jobType = api.resource('batch/v1', 'Job');
    this.podType = api.resource('v1', 'Pod');
  }

  initialKeys(): string[] {
    return allKeys(this.api, this.jobType);
  }

  keysFor(change: Change): string[] {
    if (change.resource === this.jobType) return changeKeys(change, 'Job');
    if (change.resource === this.podType) return ownerKeys(change, 'Job');
    return [];
  }

  reconcile(key: string): ReconcileResult {
    const { namespace, name } = splitKey(key);
    const job = this.api.store.peek(this.jobType, namespace, name);
    if (!job || isDeleting(job)) return;
    const finished = conditionOf(job, 'Complete')?.['status'] === 'True' || conditionOf(job, 'Failed')?.['status'] === 'True';
    const pods = ownedBy(this.api, this.podType, job).filter((p) => !isDeleting(p));
    const phase = (p: JsonObject) => getPath(p, 'status.phase');
    const active = pods.filter((p) => phase(p) !== 'Succeeded' && phase(p) !== 'Failed');
    const succeeded = pods.filter((p) => phase(p) === 'Succeeded').length;
    const failedPods = pods.filter((p) => phase(p) === 'Failed');
    const failed = failedPods.length;
    const completions = Number(getPath(job, 'spec.completions') ?? 1);
    const parallelism = Number(getPath(job, 'spec.parallelism') ?? 1);
    const backoffLimit = Number(getPath(job, 'spec.backoffLimit') ?? 6);
    const nowMs = this.api.clock.now();
    const now = timestamp(nowMs);
    const status: JsonObject = clone(isObject(job['status']) ? job['status'] : {});
    status['startTime'] ??= now;
    let requeue: ReconcileResult = undefined;

    if (finished) {
      for (const pod of active) this.api.delete(this.podType, namespaceOf(pod), nameOf(pod));
    } else if (getPath(job, 'spec.suspend') === true) {
      for (const pod of active) this.api.delete(this.podType, namespaceOf(pod), nameOf(pod));
      setCondition(status, { type: 'Suspended', status: 'True', reason: 'JobSuspended', message: 'Job suspended' }, now, false, true);
    } else if (succeeded >= completions) {
      setCondition(status, { type: 'SuccessCriteriaMet', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' }, now, false, true);
      setCondition(status, { type: 'Complete', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' }, now, false, true);
      status['completionTime'] = now;
      this.events.record(job, this.jobType, 'Normal', 'Completed', 'Job completed', 'job-controller');
    } else if (failed > backoffLimit) {
      for (const pod of active) this.api.delete(this.podType, namespaceOf(pod), nameOf(pod));
      setCondition(status, { type: 'FailureTarget', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }, now, false, true);
      setCondition(status, { type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }, now, false, true);
      this.events.record(job, this.jobType, 'Warning', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit', 'job-controller');
    } else {
      const wanted = Math.min(parallelism, completions - succeeded) - active.length;
      const lastFailure = Math.max(0, ...failedPods.map((p) => Date.parse(String(getPath(asArray(getPath(p, 'status.containerStatuses')).filter(isObject)[0] ?? {}, 'state.terminated.finishedAt') ?? getPath(p, 'metadata.creationTimestamp')))));
      const backoffUntil = failed > 0 ? lastFailure + Math.min(BACKOFF_MS * 2 ** (failed - 1), MAX_BACKOFF_MS) : 0;
      if (wanted > 0 && nowMs < backoffUntil) {
        requeue = { requeueAfterMs: backoffUntil - nowMs };
      } else {
        for (let i = 0; i < wanted; i++) {
          const podName = `${name}-${randomSuffix()}`;
          const inherited = Object.fromEntries(Object.entries(stringMap(getPath(job, 'metadata.annotations'))).filter(([k]) => k === SIM_ANNOTATIONS.fail || k === SIM_ANNOTATIONS.runSeconds));
          try {
            this.api.create(this.podType, namespace, podFromTemplate(getPath(job, 'spec.template'), { name: podName, namespace: namespace!, owner: job, ownerType: this.jobType, annotations: inherited }), { manager: CONTROLLER_MANAGER });
            this.events.record(job, this.jobType, 'Normal', 'SuccessfulCreate', `Created pod: ${podName}`, 'job-controller');
          } catch (error) {
            if (!(error instanceof KubeStatusError)) throw error;
            this.events.record(job, this.jobType, 'Warning', 'FailedCreate', `Error creating: ${error.message}`, 'job-controller');
            requeue = { requeueAfterMs: BACKOFF_MS };
            break;
          }
        }
      }
    }

    const live = ownedBy(this.api, this.podType, job).filter((p) => !isDeleting(p));
    const activeNow = live.filter((p) => phase(p) !== 'Succeeded' && phase(p) !== 'Failed');
    status['active'] = activeNow.length;
    status['succeeded'] = live.filter((p) => phase(p) === 'Succeeded').length;
    status['failed'] = live.filter((p) => phase(p) === 'Failed').length;
    for (const field of ['active', 'succeeded', 'failed']) if (status[field] === 0) delete status[field];
    status['ready'] = activeNow.filter(isPodReady).length;
    status['terminating'] = 0;
    status['uncountedTerminatedPods'] = {};
    writeStatus(this.api, this.jobType, job, status);
    return requeue;
  }
}
