import { timestamp } from '../clock.js';
import { clone, getPath, isObject, stringMap, type JsonObject } from '../json.js';
import type { ResourceType } from '../resources.js';
import { KubeStatusError } from '../status.js';
import type { Change } from '../store/object-store.js';
import type { ResourceApi } from '../store/resource-api.js';
import { CronParseError, nextRun, parseCron } from './cron.js';
import type { EventRecorder } from './events.js';
import { allKeys, splitKey, type Controller, type ReconcileResult } from './manager.js';
import { changeKeys, conditionOf, CONTROLLER_MANAGER, isDeleting, nameOf, namespaceOf, ownedBy, ownerKeys, ownerReference, uidOf, writeStatus } from './util.js';

function finished(job: JsonObject): 'Complete' | 'Failed' | undefined {
  if (conditionOf(job, 'Complete')?.['status'] === 'True') return 'Complete';
  if (conditionOf(job, 'Failed')?.['status'] === 'True') return 'Failed';
  return undefined;
}

/**
 * CronJobs → Jobs at the scheduled minutes (UTC, on the cluster's clock):
 * one Job per due schedule (only the latest if several were missed), named
 * `<name>-<minutes since the epoch>` as the real controller does, with the
 * concurrency policies (Allow, Forbid, Replace), `suspend`, and the
 * history limits for finished Jobs.
 */
export class CronJobController implements Controller {
  readonly name = 'cronjobs';
  private readonly cronType: ResourceType;
  private readonly jobType: ResourceType;

  constructor(
    private readonly api: ResourceApi,
    private readonly events: EventRecorder,
  ) {
    this.cronType = api.resource('batch/v1', 'CronJob');
    this.jobType = api.resource('batch/v1', 'Job');
  }

  initialKeys(): string[] {
    return allKeys(this.api, this.cronType);
  }

  keysFor(change: Change): string[] {
    if (change.resource === this.cronType) return changeKeys(change, 'CronJob');
    if (change.resource === this.jobType) return ownerKeys(change, 'CronJob');
    return [];
  }

  reconcile(key: string): ReconcileResult {
    const { namespace, name } = splitKey(key);
    const cron = this.api.store.peek(this.cronType, namespace, name);
    if (!cron || isDeleting(cron)) return;
    let schedule;
    try {
      schedule = parseCron(String(getPath(cron, 'spec.schedule') ?? ''));
    } catch (error) {
      if (!(error instanceof CronParseError)) throw error;
      this.events.record(cron, this.cronType, 'Warning', 'UnparseableSchedule', `unparseable schedule: ${error.message}`, 'cronjob-controller');
      return;
    }
    const nowMs = this.api.clock.now();
    const status: JsonObject = clone(isObject(cron['status']) ? cron['status'] : {});
    const last = Date.parse(String(status['lastScheduleTime'] ?? getPath(cron, 'metadata.creationTimestamp')));
    let jobs = ownedBy(this.api, this.jobType, cron).filter((j) => !isDeleting(j));

    let due: number | undefined;
    // Only the latest missed schedule runs (as the real controller, which gives up on older ones).
    let guard = 0;
    for (let at = nextRun(schedule, last); at !== undefined && at <= nowMs && guard++ < 10_000; at = nextRun(schedule, at)) due = at;
    if (due !== undefined && getPath(cron, 'spec.suspend') !== true) {
      const policy = String(getPath(cron, 'spec.concurrencyPolicy') ?? 'Allow');
      const active = jobs.filter((j) => !finished(j));
      if (policy === 'Forbid' && active.length > 0) {
        this.events.record(cron, this.cronType, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid', 'cronjob-controller');
      } else {
        if (policy === 'Replace') {
          for (const job of active) {
            this.api.delete(this.jobType, namespaceOf(job), nameOf(job));
            this.events.record(cron, this.cronType, 'Normal', 'SuccessfulDelete', `Deleted job ${nameOf(job)}`, 'cronjob-controller');
          }
        }
        const jobName = `${name}-${Math.floor(due / 60_000)}`;
        const template = isObject(getPath(cron, 'spec.jobTemplate')) ? (clone(getPath(cron, 'spec.jobTemplate')) as JsonObject) : {};
        const templateMeta = isObject(template['metadata']) ? template['metadata'] : {};
        try {
          this.api.create(
            this.jobType,
            namespace,
            {
              metadata: {
                name: jobName,
                labels: stringMap(templateMeta['labels']),
                annotations: { ...stringMap(templateMeta['annotations']), 'batch.kubernetes.io/cronjob-scheduled-timestamp': new Date(due).toISOString().replace('.000Z', 'Z') },
                ownerReferences: [ownerReference(cron, this.cronType)],
              },
              spec: isObject(template['spec']) ? template['spec'] : {},
            },
            { manager: CONTROLLER_MANAGER },
          );
          this.events.record(cron, this.cronType, 'Normal', 'SuccessfulCreate', `Created job ${jobName}`, 'cronjob-controller');
        } catch (error) {
          if (!(error instanceof KubeStatusError)) throw error;
          if (error.code !== 409) this.events.record(cron, this.cronType, 'Warning', 'FailedCreate', `Error creating job: ${error.message}`, 'cronjob-controller');
        }
      }
      status['lastScheduleTime'] = timestamp(due);
    }

    jobs = ownedBy(this.api, this.jobType, cron).filter((j) => !isDeleting(j));
    for (const [outcome, limitField, fallback] of [
      ['Complete', 'successfulJobsHistoryLimit', 3],
      ['Failed', 'failedJobsHistoryLimit', 1],
    ] as const) {
      const done = jobs.filter((j) => finished(j) === outcome).sort((a, b) => String(getPath(a, 'metadata.creationTimestamp')).localeCompare(String(getPath(b, 'metadata.creationTimestamp'))));
      const limit = Number(getPath(cron, `spec.${limitField}`) ?? fallback);
      for (const job of done.slice(0, Math.max(0, done.length - limit))) this.api.delete(this.jobType, namespaceOf(job), nameOf(job));
    }
    jobs = ownedBy(this.api, this.jobType, cron).filter((j) => !isDeleting(j));
    const active = jobs.filter((j) => !finished(j));
    if (active.length > 0) status['active'] = active.map((j) => ({ apiVersion: 'batch/v1', kind: 'Job', name: nameOf(j), namespace: namespaceOf(j) ?? '', uid: uidOf(j), resourceVersion: String(getPath(j, 'metadata.resourceVersion') ?? '') }));
    else delete status['active'];
    const successes = jobs
      .filter((j) => finished(j) === 'Complete')
      .map((j) => getPath(j, 'status.completionTime'))
      .filter((t): t is string => typeof t === 'string')
      .sort();
    if (successes.length > 0) status['lastSuccessfulTime'] = successes[successes.length - 1]!;
    const fresh = this.api.store.peek(this.cronType, namespace, name);
    if (fresh) writeStatus(this.api, this.cronType, fresh, status);

    const next = nextRun(schedule, nowMs);
    return next !== undefined ? { requeueAfterMs: Math.max(1, next - nowMs) } : undefined;
  }
}
