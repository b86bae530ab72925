import { WORKLOAD_MESSAGE_MAX, WORKLOAD_REASON_MAX, type WatchedWorkloadKind, type WorkloadReplicas, type WorkloadStatus } from '@canopy/schema';

/** A Kubernetes object as the API serves it (JSON): only the fields read here are typed. */
export interface KubeObject {
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string; generation?: number; deletionTimestamp?: string | null };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

/** What a workload's status is, as the events record it (without when). */
export interface ObservedStatus {
  status: WorkloadStatus;
  replicas: WorkloadReplicas | null;
  reason: string | null;
  message: string | null;
}

interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

/** The workload status of one object of a watched kind. Pure: the same object always maps to the same status. */
export function statusOf(kind: WatchedWorkloadKind, object: KubeObject): ObservedStatus {
  switch (kind) {
    case 'Deployment':
      return deploymentStatus(object);
    case 'StatefulSet':
      return statefulSetStatus(object);
    case 'DaemonSet':
      return daemonSetStatus(object);
    case 'Job':
      return jobStatus(object);
    case 'CronJob':
      return cronJobStatus(object);
    case 'Pod':
      return podStatus(object);
  }
}

/** Whether two observations are the same status (an event is written only when they are not). */
export function sameStatus(a: ObservedStatus, b: ObservedStatus): boolean {
  return (
    a.status === b.status &&
    a.reason === b.reason &&
    a.message === b.message &&
    (a.replicas === b.replicas ||
      (a.replicas !== null &&
        b.replicas !== null &&
        a.replicas.desired === b.replicas.desired &&
        a.replicas.ready === b.replicas.ready &&
        a.replicas.available === b.replicas.available &&
        a.replicas.updated === b.replicas.updated))
  );
}

const num = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.min(Math.floor(value), 10_000_000) : 0);

function conditions(object: KubeObject): Condition[] {
  const list = object.status?.['conditions'];
  return Array.isArray(list) ? (list as Condition[]) : [];
}

function condition(object: KubeObject, type: string): Condition | undefined {
  return conditions(object).find((c) => c.type === type);
}

function observed(status: WorkloadStatus, replicas: WorkloadReplicas | null, reason?: string | null, message?: string | null): ObservedStatus {
  return {
    status,
    replicas,
    reason: reason ? reason.slice(0, WORKLOAD_REASON_MAX) : null,
    message: message ? message.slice(0, WORKLOAD_MESSAGE_MAX) : null,
  };
}

/** The controller has not yet acted on the latest spec. */
function specNotObserved(object: KubeObject): boolean {
  const generation = object.metadata?.generation;
  const seen = object.status?.['observedGeneration'];
  return typeof generation === 'number' && typeof seen === 'number' && seen < generation;
}

function deploymentStatus(object: KubeObject): ObservedStatus {
  const s = object.status ?? {};
  const desired = object.spec?.['replicas'] === undefined ? 1 : num(object.spec['replicas']);
  const current = num(s['replicas']);
  const replicas = { desired, ready: num(s['readyReplicas']), available: num(s['availableReplicas']), updated: num(s['updatedReplicas']) };
  const progressing = condition(object, 'Progressing');
  if (progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded') return observed('Degraded', replicas, progressing.reason, progressing.message);
  const replicaFailure = condition(object, 'ReplicaFailure');
  if (replicaFailure?.status === 'True') return observed('Degraded', replicas, replicaFailure.reason ?? 'ReplicaFailure', replicaFailure.message);
  if (desired === 0 && current === 0) return observed('Suspended', replicas, 'ScaledToZero', null);
  if (specNotObserved(object)) return observed('Progressing', replicas, 'SpecChanged', null);
  if (replicas.updated < desired || current > replicas.updated) return observed('Progressing', replicas, 'RollingOut', progressing?.message ?? null);
  if (replicas.available < desired) return observed('Progressing', replicas, desired > current ? 'ScalingUp' : 'Starting', `${replicas.available} of ${desired} replicas available`);
  if (current > desired) return observed('Progressing', replicas, 'ScalingDown', `${current} replicas, ${desired} desired`);
  return observed('Running', replicas, null, null);
}

function statefulSetStatus(object: KubeObject): ObservedStatus {
  const s = object.status ?? {};
  const desired = object.spec?.['replicas'] === undefined ? 1 : num(object.spec['replicas']);
  const current = num(s['replicas']);
  const replicas = { desired, ready: num(s['readyReplicas']), available: num(s['availableReplicas'] ?? s['readyReplicas']), updated: num(s['updatedReplicas']) };
  if (desired === 0 && current === 0) return observed('Suspended', replicas, 'ScaledToZero', null);
  if (specNotObserved(object)) return observed('Progressing', replicas, 'SpecChanged', null);
  const updateRevision = s['updateRevision'];
  if (typeof updateRevision === 'string' && s['currentRevision'] !== undefined && s['currentRevision'] !== updateRevision) {
    return observed('Progressing', replicas, 'RollingOut', `${replicas.updated} of ${desired} replicas updated`);
  }
  if (replicas.ready < desired) return observed('Progressing', replicas, desired > current ? 'ScalingUp' : 'Starting', `${replicas.ready} of ${desired} replicas ready`);
  if (current > desired) return observed('Progressing', replicas, 'ScalingDown', `${current} replicas, ${desired} desired`);
  return observed('Running', replicas, null, null);
}

function daemonSetStatus(object: KubeObject): ObservedStatus {
  const s = object.status ?? {};
  const desired = num(s['desiredNumberScheduled']);
  const replicas = { desired, ready: num(s['numberReady']), available: num(s['numberAvailable']), updated: num(s['updatedNumberScheduled']) };
  if (specNotObserved(object)) return observed('Progressing', replicas, 'SpecChanged', null);
  if (replicas.updated < desired) return observed('Progressing', replicas, 'RollingOut', `${replicas.updated} of ${desired} pods updated`);
  if (replicas.ready < desired) return observed('Progressing', replicas, 'Starting', `${replicas.ready} of ${desired} pods ready`);
  const misscheduled = num(s['numberMisscheduled']);
  if (misscheduled > 0) return observed('Degraded', replicas, 'Misscheduled', `${misscheduled} pods run on nodes they should not`);
  return observed('Running', replicas, null, null);
}

function jobStatus(object: KubeObject): ObservedStatus {
  const s = object.status ?? {};
  const completions = object.spec?.['completions'];
  const desired = typeof completions === 'number' ? num(completions) : 1;
  const succeeded = num(s['succeeded']);
  const replicas = { desired, ready: num(s['ready']), available: succeeded, updated: num(s['active']) };
  const failed = condition(object, 'Failed');
  if (failed?.status === 'True') return observed('Failed', replicas, failed.reason ?? 'Failed', failed.message);
  const complete = condition(object, 'Complete');
  if (complete?.status === 'True') return observed('Succeeded', replicas, null, null);
  const failureTarget = condition(object, 'FailureTarget');
  if (failureTarget?.status === 'True') return observed('Failed', replicas, failureTarget.reason ?? 'Failed', failureTarget.message);
  if (object.spec?.['suspend'] === true) return observed('Suspended', replicas, 'JobSuspended', null);
  const failures = num(s['failed']);
  if (failures > 0) return observed('Degraded', replicas, 'PodsFailed', `${failures} pod${failures === 1 ? '' : 's'} failed, retrying`);
  if (num(s['active']) > 0) return observed('Progressing', replicas, null, `${succeeded} of ${desired} completions`);
  return observed('Pending', replicas, null, null);
}

function cronJobStatus(object: KubeObject): ObservedStatus {
  if (object.spec?.['suspend'] === true) return observed('Suspended', null, 'CronJobSuspended', null);
  const active = object.status?.['active'];
  const running = Array.isArray(active) ? active.length : 0;
  if (running > 0) return observed('Progressing', null, 'JobRunning', `${running} job${running === 1 ? '' : 's'} running`);
  return observed('Running', null, null, null);
}

interface ContainerStatus {
  name?: string;
  ready?: boolean;
  restartCount?: number;
  state?: { waiting?: { reason?: string; message?: string }; terminated?: { reason?: string; exitCode?: number; message?: string }; running?: unknown };
}

/** Waiting reasons that will not clear by themselves. */
const STUCK = new Set(['CrashLoopBackOff', 'ImagePullBackOff', 'ErrImagePull', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);

function podStatus(object: KubeObject): ObservedStatus {
  const s = object.status ?? {};
  const phase = s['phase'];
  const containers = [...(Array.isArray(s['initContainerStatuses']) ? (s['initContainerStatuses'] as ContainerStatus[]) : []), ...(Array.isArray(s['containerStatuses']) ? (s['containerStatuses'] as ContainerStatus[]) : [])];
  if (phase === 'Succeeded') return observed('Succeeded', null, null, null);
  if (phase === 'Failed') {
    const terminated = containers.find((c) => c.state?.terminated && c.state.terminated.exitCode !== 0)?.state?.terminated;
    return observed('Failed', null, (s['reason'] as string | undefined) ?? terminated?.reason ?? 'Failed', (s['message'] as string | undefined) ?? (terminated ? `exit code ${terminated.exitCode ?? '?'}` : null));
  }
  const stuck = containers.find((c) => c.state?.waiting?.reason && STUCK.has(c.state.waiting.reason));
  if (stuck) {
    const restarts = num(stuck.restartCount);
    const restarted = restarts > 0 ? ` (restarted ${restarts} time${restarts === 1 ? '' : 's'})` : '';
    return observed('Degraded', null, stuck.state!.waiting!.reason!, `container ${stuck.name ?? '?'}: ${stuck.state!.waiting!.message ?? stuck.state!.waiting!.reason}${restarted}`);
  }
  const scheduled = condition(object, 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') return observed('Degraded', null, 'Unschedulable', scheduled.message);
  if (phase === 'Running') {
    const ready = condition(object, 'Ready');
    if (ready?.status === 'True') return observed('Running', null, null, null);
    return observed('Progressing', null, ready?.reason ?? 'ContainersNotReady', null);
  }
  const waiting = containers.find((c) => c.state?.waiting?.reason)?.state?.waiting?.reason;
  return observed('Pending', null, waiting ?? (scheduled?.status === 'True' ? 'Scheduled' : null), null);
}
