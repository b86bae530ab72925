import { timestamp } from '../clock.js';
import { CronParseError, nextRun, parseCron } from '../controllers/cron.js';
import type { EventRecorder } from '../controllers/events.js';
import { allKeys, splitKey, type Controller, type ReconcileResult } from '../controllers/manager.js';
import { changeKeys, isDeleting, nameOf, namespaceOf, SIM_ANNOTATIONS, writeStatus } from '../controllers/util.js';
import { asArray, clone, getPath, isObject, stringMap, type JsonObject } from '../json.js';
import type { ResourceType } from '../resources.js';
import { KubeStatusError } from '../status.js';
import type { Change } from '../store/object-store.js';
import type { ResourceApi } from '../store/resource-api.js';
import { VELERO_API_VERSION, VELERO_GROUP } from './resources.js';

/** How fast the simulated Velero works (on the cluster's clock). */
export type VeleroTiming = {
  /** From a Backup's or Restore's creation to `InProgress`. */
  startMs: number;
  /** Items backed up or restored per second. */
  itemsPerSecond: number;
  /** How often `status.progress` is written while a run is `InProgress`. */
  progressIntervalMs: number;
};

export const DEFAULT_VELERO_TIMING: VeleroTiming = { startMs: 1000, itemsPerSecond: 20, progressIntervalMs: 1000 };

const FINISHED = new Set(['Completed', 'PartiallyFailed', 'Failed', 'FailedValidation']);
const COMPONENT = 'velero';
const MANAGER = 'velero-server';

type Outcome = { kind: 'Completed' | 'PartiallyFailed' | 'Failed'; errors: number; warnings: number };

function count(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

/**
 * The outcome asked for with `sim.canopy.dev/velero-outcome` (and
 * `velero-errors`, `velero-warnings`) on the run's object itself or on one of
 * the namespaces it covers.
 */
function requestedOutcome(sources: JsonObject[]): Outcome {
  let kind: Outcome['kind'] = 'Completed';
  let errors: number | undefined;
  let warnings = 0;
  for (const source of sources) {
    const annotations = stringMap(getPath(source, 'metadata.annotations'));
    const asked = annotations[SIM_ANNOTATIONS.veleroOutcome];
    if (asked === 'Failed' || (asked === 'PartiallyFailed' && kind !== 'Failed')) kind = asked;
    errors ??= count(annotations[SIM_ANNOTATIONS.veleroErrors]);
    warnings = Math.max(warnings, count(annotations[SIM_ANNOTATIONS.veleroWarnings]) ?? 0);
  }
  return { kind, errors: errors ?? (kind === 'PartiallyFailed' ? 1 : 0), warnings };
}

/** Namespaces a Backup's spec selects (`includedNamespaces` empty or `*`: all), minus `excludedNamespaces`. */
function selectedNamespaces(api: ResourceApi, spec: JsonObject): JsonObject[] {
  const included = asArray(spec['includedNamespaces']).map(String);
  const excluded = new Set(asArray(spec['excludedNamespaces']).map(String));
  const all = included.length === 0 || included.includes('*');
  return api.store.peekAll(api.resource('v1', 'Namespace')).filter((ns) => (all || included.includes(nameOf(ns))) && !excluded.has(nameOf(ns)));
}

/**
 * What a Backup would hold: each selected namespace and the objects in it
 * (Events and Velero's own objects aside), plus every cluster-scoped object
 * when `includeClusterResources` is true.
 */
function itemsOf(api: ResourceApi, spec: JsonObject, namespaces: JsonObject[]): number {
  const types = api.registry.all().filter((t) => t.group !== VELERO_GROUP && t.kind !== 'Event');
  let items = namespaces.length;
  for (const ns of namespaces) for (const type of types.filter((t) => t.namespaced)) items += api.store.peekAll(type, nameOf(ns)).length;
  if (spec['includeClusterResources'] === true) {
    for (const type of types.filter((t) => !t.namespaced && t.kind !== 'Namespace')) items += api.store.peekAll(type).length;
  }
  return items;
}

function veleroType(api: ResourceApi, kind: string): ResourceType {
  return api.resource(VELERO_API_VERSION, kind);
}

function statusOf(obj: JsonObject): JsonObject {
  return clone(isObject(obj['status']) ? obj['status'] : {});
}

function finishedStatus(status: JsonObject, outcome: Outcome, now: string, doneField: string, total: number): void {
  status['phase'] = outcome.kind;
  status['completionTimestamp'] = now;
  status['progress'] = { totalItems: total, [doneField]: total };
  if (outcome.errors > 0) status['errors'] = outcome.errors;
  if (outcome.warnings > 0) status['warnings'] = outcome.warnings;
}

/**
 * A timed run shared by Backups and Restores: `New` at once, `InProgress`
 * after `startMs` with `status.progress` growing at `itemsPerSecond`, then
 * the outcome. A `Failed` outcome stops half way with a `failureReason`.
 */
function advanceRun(
  obj: JsonObject,
  status: JsonObject,
  timing: VeleroTiming,
  nowMs: number,
  doneField: 'itemsBackedUp' | 'itemsRestored',
  start: () => { total: number; extra?: JsonObject },
  outcome: () => Outcome,
): ReconcileResult {
  const now = timestamp(nowMs);
  if (status['phase'] === 'New') {
    const created = Date.parse(String(getPath(obj, 'metadata.creationTimestamp')));
    const wait = created + timing.startMs - nowMs;
    if (wait > 0) return { requeueAfterMs: wait };
    const { total, extra } = start();
    Object.assign(status, { phase: 'InProgress', startTimestamp: now, progress: { totalItems: total, [doneField]: 0 } }, extra);
    return { requeueAfterMs: timing.progressIntervalMs };
  }
  const total = Number(getPath(status, 'progress.totalItems') ?? 0);
  const elapsed = nowMs - Date.parse(String(status['startTimestamp'] ?? now));
  const done = Math.min(total, Math.floor((Math.max(0, elapsed) / 1000) * timing.itemsPerSecond));
  const result = outcome();
  if (result.kind === 'Failed' && done >= Math.floor(total / 2)) {
    status['phase'] = 'Failed';
    status['completionTimestamp'] = now;
    status['failureReason'] = `simulated failure (${SIM_ANNOTATIONS.veleroOutcome}: Failed)`;
    status['progress'] = { totalItems: total, [doneField]: done };
    if (result.errors > 0) status['errors'] = result.errors;
    return;
  }
  if (done >= total) {
    finishedStatus(status, result, now, doneField, total);
    return;
  }
  status['progress'] = { totalItems: total, [doneField]: done };
  return { requeueAfterMs: timing.progressIntervalMs };
}

/** A controller of one Velero kind: its objects' keys, at start and as they change. */
abstract class VeleroKindController implements Controller {
  abstract readonly name: string;
  protected readonly type: ResourceType;

  constructor(
    protected readonly api: ResourceApi,
    kind: string,
  ) {
    this.type = veleroType(api, kind);
  }

  initialKeys(): string[] {
    return allKeys(this.api, this.type);
  }

  keysFor(change: Change): string[] {
    return change.resource === this.type ? changeKeys(change, this.type.kind) : [];
  }

  abstract reconcile(key: string): ReconcileResult;
}

/** BackupStorageLocations: `Available` once they name a provider and a bucket, `Unavailable` otherwise. */
export class BackupStorageLocationController extends VeleroKindController {
  readonly name = 'velero-bsl';

  constructor(api: ResourceApi) {
    super(api, 'BackupStorageLocation');
  }

  reconcile(key: string): ReconcileResult {
    const { namespace, name } = splitKey(key);
    const bsl = this.api.store.peek(this.type, namespace, name);
    if (!bsl || isDeleting(bsl)) return;
    const complete = typeof getPath(bsl, 'spec.provider') === 'string' && typeof getPath(bsl, 'spec.objectStorage.bucket') === 'string';
    const status = statusOf(bsl);
    const phase = complete ? 'Available' : 'Unavailable';
    if (status['phase'] === phase) return;
    status['phase'] = phase;
    status['lastValidationTime'] = this.api.now();
    if (complete) delete status['message'];
    else status['message'] = 'spec.provider and spec.objectStorage.bucket are required';
    writeStatus(this.api, this.type, bsl, status, MANAGER);
  }
}

/** Why a run cannot start: its `status.validationErrors`, and the message of the `FailedValidation` event. */
type Invalid = { errors: string[]; event: string };

/**
 * A timed Velero run (a Backup or a Restore): validated once, at its first
 * reconcile (`FailedValidation` with `validationErrors`, and a Warning
 * event), else `New`; then `InProgress` → a finished phase, as
 * `advance` says.
 */
abstract class VeleroRunController extends VeleroKindController {
  constructor(
    api: ResourceApi,
    private readonly events: EventRecorder,
    protected readonly timing: VeleroTiming,
    kind: string,
  ) {
    super(api, kind);
  }

  /** Whether a run in this phase is done with (nothing more to do). */
  protected settled(phase: string): boolean {
    return FINISHED.has(phase);
  }

  /** Fields a new run's status starts with. */
  protected initialStatus(_status: JsonObject): void {}

  protected abstract validate(spec: JsonObject, namespace: string | undefined): Invalid | undefined;

  /** One step of a started run. */
  protected abstract advance(run: JsonObject, spec: JsonObject, status: JsonObject, namespace: string | undefined): ReconcileResult;

  reconcile(key: string): ReconcileResult {
    const { namespace, name } = splitKey(key);
    const run = this.api.store.peek(this.type, namespace, name);
    if (!run || isDeleting(run)) return;
    const status = statusOf(run);
    if (this.settled(String(status['phase']))) return;
    const spec = isObject(run['spec']) ? run['spec'] : {};
    let result: ReconcileResult = undefined;
    if (!status['phase']) {
      this.initialStatus(status);
      const invalid = this.validate(spec, namespace);
      if (invalid) {
        Object.assign(status, { phase: 'FailedValidation', validationErrors: invalid.errors });
        this.events.record(run, this.type, 'Warning', 'FailedValidation', invalid.event, COMPONENT);
      } else {
        status['phase'] = 'New';
        result = { requeueAfterMs: this.timing.startMs };
      }
    } else {
      result = this.advance(run, spec, status, namespace);
    }
    writeStatus(this.api, this.type, run, status, MANAGER);
    return result;
  }
}

/**
 * Backups: validated (`FailedValidation` with `validationErrors` when the
 * storage location does not exist), then `New` → `InProgress` with
 * `status.progress {totalItems, itemsBackedUp}` → `Completed`,
 * `PartiallyFailed` (errors, warnings) or `Failed` (failureReason), as asked
 * by the `sim.canopy.dev/velero-*` annotations. `expiration` is start + `ttl`.
 */
export class BackupController extends VeleroRunController {
  readonly name = 'velero-backups';
  private readonly bslType: ResourceType;

  constructor(api: ResourceApi, events: EventRecorder, timing: VeleroTiming) {
    super(api, events, timing, 'Backup');
    this.bslType = veleroType(api, 'BackupStorageLocation');
  }

  protected override settled(phase: string): boolean {
    return super.settled(phase) || phase === 'Deleting';
  }

  protected override initialStatus(status: JsonObject): void {
    Object.assign(status, { version: 1, formatVersion: '1.1.0' });
  }

  protected validate(spec: JsonObject, namespace: string | undefined): Invalid | undefined {
    const location = String(spec['storageLocation'] ?? 'default');
    if (this.api.store.peek(this.bslType, namespace, location)) return undefined;
    return {
      errors: [
        `an existing backup storage location wasn't specified at backup creation time and the server default '${location}' doesn't exist. Please address this issue (see \`velero backup-location -h\` for options) and create a new backup. Error: BackupStorageLocation.velero.io "${location}" not found`,
      ],
      event: `backup storage location ${location} not found`,
    };
  }

  protected advance(backup: JsonObject, spec: JsonObject, status: JsonObject): ReconcileResult {
    const nowMs = this.api.clock.now();
    const namespaces = selectedNamespaces(this.api, spec);
    return advanceRun(
      backup,
      status,
      this.timing,
      nowMs,
      'itemsBackedUp',
      () => ({ total: itemsOf(this.api, spec, namespaces), extra: { expiration: timestamp(nowMs + ttlMs(spec['ttl'])) } }),
      () => requestedOutcome([backup, ...namespaces]),
    );
  }
}

/**
 * Restores: validated (`FailedValidation` when `backupName` names no finished
 * Backup), then the same timed run as a Backup over the backup's items
 * (`status.progress {totalItems, itemsRestored}`). Nothing is recreated: the
 * objects a Backup covered are counted, not kept.
 */
export class RestoreController extends VeleroRunController {
  readonly name = 'velero-restores';
  private readonly backupType: ResourceType;

  constructor(api: ResourceApi, events: EventRecorder, timing: VeleroTiming) {
    super(api, events, timing, 'Restore');
    this.backupType = veleroType(api, 'Backup');
  }

  protected validate(spec: JsonObject, namespace: string | undefined): Invalid | undefined {
    const backupName = String(spec['backupName'] ?? '');
    const backup = backupName ? this.api.store.peek(this.backupType, namespace, backupName) : undefined;
    const phase = backup ? getPath(backup, 'status.phase') : undefined;
    const error = !backupName
      ? 'Either a backup or schedule must be specified as a source for the restore, but not both'
      : !backup
        ? `Error retrieving backup: backups.velero.io "${backupName}" not found`
        : phase !== 'Completed' && phase !== 'PartiallyFailed'
          ? `backup "${backupName}" is in phase ${String(phase ?? 'New')}: only Completed and PartiallyFailed backups can be restored`
          : undefined;
    return error === undefined ? undefined : { errors: [error], event: error };
  }

  protected advance(restore: JsonObject, spec: JsonObject, status: JsonObject, namespace: string | undefined): ReconcileResult {
    const backup = this.api.store.peek(this.backupType, namespace, String(spec['backupName'] ?? ''));
    const namespaces = isObject(restore['spec']) ? selectedNamespaces(this.api, spec) : [];
    return advanceRun(
      restore,
      status,
      this.timing,
      this.api.clock.now(),
      'itemsRestored',
      () => ({ total: Number(getPath(backup, 'status.progress.itemsBackedUp') ?? getPath(backup, 'status.progress.totalItems') ?? 0) }),
      () => requestedOutcome([restore, ...namespaces]),
    );
  }
}

/**
 * DeleteBackupRequests: the named Backup goes to `Deleting`, then it and the
 * Restores made from it are deleted (its files with it); the request ends
 * `Processed` (with `errors` when there was no such backup).
 */
export class DeleteBackupRequestController extends VeleroKindController {
  readonly name = 'velero-deletions';
  private readonly backupType: ResourceType;
  private readonly restoreType: ResourceType;

  constructor(
    api: ResourceApi,
    private readonly events: EventRecorder,
  ) {
    super(api, 'DeleteBackupRequest');
    this.backupType = veleroType(api, 'Backup');
    this.restoreType = veleroType(api, 'Restore');
  }

  reconcile(key: string): ReconcileResult {
    const { namespace, name } = splitKey(key);
    const request = this.api.store.peek(this.type, namespace, name);
    if (!request || isDeleting(request) || getPath(request, 'status.phase') === 'Processed') return;
    const backupName = String(getPath(request, 'spec.backupName') ?? '');
    const backup = backupName ? this.api.store.peek(this.backupType, namespace, backupName) : undefined;
    const status = statusOf(request);
    status['phase'] = 'Processed';
    if (!backup) {
      status['errors'] = [`backup "${backupName}" not found`];
    } else {
      const deleting = statusOf(backup);
      deleting['phase'] = 'Deleting';
      writeStatus(this.api, this.backupType, backup, deleting, MANAGER);
      for (const restore of this.api.store.peekAll(this.restoreType, namespace)) {
        if (getPath(restore, 'spec.backupName') === backupName) this.api.delete(this.restoreType, namespaceOf(restore), nameOf(restore));
      }
      this.api.delete(this.backupType, namespace, backupName);
      this.events.record(request, this.type, 'Normal', 'BackupDeleted', `backup ${backupName} and its files deleted`, COMPONENT);
    }
    const fresh = this.api.store.peek(this.type, namespace, name);
    if (fresh) writeStatus(this.api, this.type, fresh, status, MANAGER);
  }
}

/**
 * Schedules: `Enabled` (or `FailedValidation` for a bad cron), a Backup from
 * `spec.template` at each scheduled minute (UTC, only the latest of several
 * missed), named `<schedule>-<yyyymmddhhmmss>` with the label
 * `velero.io/schedule-name`; `paused` stops them.
 */
export class ScheduleController extends VeleroKindController {
  readonly name = 'velero-schedules';
  private readonly backupType: ResourceType;

  constructor(
    api: ResourceApi,
    private readonly events: EventRecorder,
  ) {
    super(api, 'Schedule');
    this.backupType = veleroType(api, 'Backup');
  }

  reconcile(key: string): ReconcileResult {
    const { namespace, name } = splitKey(key);
    const schedule = this.api.store.peek(this.type, namespace, name);
    if (!schedule || isDeleting(schedule)) return;
    const status = statusOf(schedule);
    let cron;
    try {
      cron = parseCron(String(getPath(schedule, 'spec.schedule') ?? ''));
    } catch (error) {
      if (!(error instanceof CronParseError)) throw error;
      Object.assign(status, { phase: 'FailedValidation', validationErrors: [`invalid schedule: ${error.message}`] });
      writeStatus(this.api, this.type, schedule, status, MANAGER);
      return;
    }
    delete status['validationErrors'];
    const nowMs = this.api.clock.now();
    const paused = getPath(schedule, 'spec.paused') === true;
    status['phase'] = paused ? 'Paused' : 'Enabled';
    const last = Date.parse(String(status['lastBackup'] ?? getPath(schedule, 'metadata.creationTimestamp')));
    let due: number | undefined;
    let guard = 0;
    for (let at = nextRun(cron, last); at !== undefined && at <= nowMs && guard++ < 10_000; at = nextRun(cron, at)) due = at;
    if (due !== undefined && !paused) {
      const backupName = `${name}-${new Date(due).toISOString().replace(/[-:T]/g, '').slice(0, 14)}`;
      const template = isObject(getPath(schedule, 'spec.template')) ? (clone(getPath(schedule, 'spec.template')) as JsonObject) : {};
      try {
        this.api.create(this.backupType, namespace, { apiVersion: VELERO_API_VERSION, kind: 'Backup', metadata: { name: backupName, labels: { 'velero.io/schedule-name': name } }, spec: template }, { manager: MANAGER });
      } catch (error) {
        if (!(error instanceof KubeStatusError)) throw error;
        if (error.code !== 409) this.events.record(schedule, this.type, 'Warning', 'FailedCreate', `Error creating backup: ${error.message}`, COMPONENT);
      }
      status['lastBackup'] = timestamp(due);
    }
    writeStatus(this.api, this.type, schedule, status, MANAGER);
    const next = nextRun(cron, nowMs);
    return next !== undefined ? { requeueAfterMs: Math.max(1, next - nowMs) } : undefined;
  }
}

/** Velero's `ttl` (a Go duration such as `720h0m0s`, `24h`, `90m`, `1h30m15s`); 720 h when absent or unreadable. */
export function ttlMs(ttl: unknown): number {
  const fallback = 720 * 3_600_000;
  if (typeof ttl !== 'string' || ttl === '') return fallback;
  const match = /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?$/.exec(ttl);
  if (!match || match[0] === '') return fallback;
  const [, h, m, s] = match;
  return (Number(h ?? 0) * 3600 + Number(m ?? 0) * 60 + Number(s ?? 0)) * 1000;
}
