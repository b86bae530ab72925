import { describe, expect, it } from '@jest/globals';
import { sameStatus, statusOf, WorkloadChanges, type KubeObject, type ObservedStatus } from '../src/index.js';

const condition = (type: string, status: string, reason?: string, message?: string) => ({ type, status, ...(reason ? { reason } : {}), ...(message ? { message } : {}) });
const deployment = (spec: Record<string, unknown>, status: Record<string, unknown>, generation = 1): KubeObject => ({ metadata: { name: 'web', generation }, spec, status: { observedGeneration: generation, ...status } });

describe('the status of a Deployment', () => {
  it('is Running when every desired replica is updated and available', () => {
    const observed = statusOf('Deployment', deployment({ replicas: 3 }, { replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3, conditions: [condition('Available', 'True')] }));
    expect(observed).toEqual({ status: 'Running', replicas: { desired: 3, ready: 3, available: 3, updated: 3 }, reason: null, message: null });
  });

  it('is Progressing while a rollout replaces old pods, and while it scales up', () => {
    const rollout = statusOf('Deployment', deployment({ replicas: 3 }, { replicas: 4, updatedReplicas: 1, readyReplicas: 3, availableReplicas: 3, conditions: [condition('Progressing', 'True', 'ReplicaSetUpdated', 'ReplicaSet "web-2" is progressing.')] }));
    expect(rollout).toMatchObject({ status: 'Progressing', reason: 'RollingOut', message: 'ReplicaSet "web-2" is progressing.' });
    const scaling = statusOf('Deployment', deployment({ replicas: 5 }, { replicas: 3, updatedReplicas: 5, readyReplicas: 3, availableReplicas: 3 }));
    expect(scaling).toMatchObject({ status: 'Progressing', reason: 'ScalingUp', message: '3 of 5 replicas available', replicas: { desired: 5, available: 3 } });
  });

  it('is Progressing while the controller has not seen the latest spec', () => {
    const observed = statusOf('Deployment', { metadata: { generation: 3 }, spec: { replicas: 2 }, status: { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2 } });
    expect(observed).toMatchObject({ status: 'Progressing', reason: 'SpecChanged' });
  });

  it('is Degraded once the rollout passed its progress deadline', () => {
    const observed = statusOf('Deployment', deployment({ replicas: 2 }, { replicas: 2, updatedReplicas: 2, availableReplicas: 0, conditions: [condition('Progressing', 'False', 'ProgressDeadlineExceeded', 'ReplicaSet "web-1" has timed out progressing.')] }));
    expect(observed).toMatchObject({ status: 'Degraded', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "web-1" has timed out progressing.' });
  });

  it('is Suspended when scaled to zero, and counts a missing replicas field as 1', () => {
    expect(statusOf('Deployment', deployment({ replicas: 0 }, {}))).toMatchObject({ status: 'Suspended', reason: 'ScaledToZero' });
    expect(statusOf('Deployment', deployment({}, {}))).toMatchObject({ status: 'Progressing', replicas: { desired: 1, ready: 0, available: 0, updated: 0 } });
  });
});

describe('the status of a StatefulSet and a DaemonSet', () => {
  it('StatefulSet: Progressing until every ordinal is ready, and during a rolling update; then Running', () => {
    const sts = (status: Record<string, unknown>): KubeObject => ({ metadata: { generation: 1 }, spec: { replicas: 3 }, status: { observedGeneration: 1, ...status } });
    expect(statusOf('StatefulSet', sts({ replicas: 2, readyReplicas: 1, currentRevision: 'a', updateRevision: 'a' }))).toMatchObject({ status: 'Progressing', reason: 'ScalingUp' });
    expect(statusOf('StatefulSet', sts({ replicas: 3, readyReplicas: 3, updatedReplicas: 1, currentRevision: 'a', updateRevision: 'b' }))).toMatchObject({ status: 'Progressing', reason: 'RollingOut' });
    expect(statusOf('StatefulSet', sts({ replicas: 3, readyReplicas: 3, availableReplicas: 3, updatedReplicas: 3, currentRevision: 'b', updateRevision: 'b' }))).toMatchObject({ status: 'Running', replicas: { desired: 3, ready: 3 } });
  });

  it('DaemonSet: its desired count is the nodes it should run on', () => {
    const ds = (status: Record<string, unknown>): KubeObject => ({ metadata: { generation: 1 }, spec: {}, status: { observedGeneration: 1, ...status } });
    expect(statusOf('DaemonSet', ds({ desiredNumberScheduled: 3, numberReady: 1, updatedNumberScheduled: 3 }))).toMatchObject({ status: 'Progressing', reason: 'Starting', replicas: { desired: 3, ready: 1 } });
    expect(statusOf('DaemonSet', ds({ desiredNumberScheduled: 3, numberReady: 3, numberAvailable: 3, updatedNumberScheduled: 3 }))).toMatchObject({ status: 'Running' });
  });
});

describe('the status of a Job and a CronJob', () => {
  const job = (spec: Record<string, unknown>, status: Record<string, unknown>): KubeObject => ({ spec: { completions: 1, ...spec }, status });

  it('Job: Pending, then Progressing while pods run, Succeeded when complete', () => {
    expect(statusOf('Job', job({}, {}))).toMatchObject({ status: 'Pending' });
    expect(statusOf('Job', job({ completions: 3 }, { active: 1, succeeded: 1 }))).toMatchObject({ status: 'Progressing', message: '1 of 3 completions' });
    expect(statusOf('Job', job({}, { succeeded: 1, conditions: [condition('SuccessCriteriaMet', 'True'), condition('Complete', 'True')] }))).toMatchObject({ status: 'Succeeded' });
  });

  it('Job: Degraded while failed pods are retried, Failed past its back-off limit', () => {
    expect(statusOf('Job', job({}, { active: 1, failed: 2 }))).toMatchObject({ status: 'Degraded', reason: 'PodsFailed', message: '2 pods failed, retrying' });
    const failed = statusOf('Job', job({}, { failed: 7, conditions: [condition('FailureTarget', 'True', 'BackoffLimitExceeded'), condition('Failed', 'True', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit')] }));
    expect(failed).toMatchObject({ status: 'Failed', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' });
  });

  it('Job and CronJob: Suspended when suspended', () => {
    expect(statusOf('Job', job({ suspend: true }, {}))).toMatchObject({ status: 'Suspended' });
    expect(statusOf('CronJob', { spec: { suspend: true }, status: {} })).toEqual({ status: 'Suspended', replicas: null, reason: 'CronJobSuspended', message: null });
  });

  it('CronJob: Progressing while a job it started runs, else Running (scheduled)', () => {
    expect(statusOf('CronJob', { spec: { schedule: '* * * * *' }, status: { active: [{ name: 'report-1' }] } })).toMatchObject({ status: 'Progressing', reason: 'JobRunning', message: '1 job running' });
    expect(statusOf('CronJob', { spec: { schedule: '* * * * *' }, status: {} })).toMatchObject({ status: 'Running' });
  });
});

describe('the status of a Pod', () => {
  const pod = (status: Record<string, unknown>): KubeObject => ({ metadata: { name: 'web-1' }, spec: {}, status });

  it('Pending until scheduled and started, Running once Ready', () => {
    expect(statusOf('Pod', pod({ phase: 'Pending' }))).toEqual({ status: 'Pending', replicas: null, reason: null, message: null });
    expect(statusOf('Pod', pod({ phase: 'Pending', conditions: [condition('PodScheduled', 'True')], containerStatuses: [{ name: 'main', state: { waiting: { reason: 'ContainerCreating' } } }] }))).toMatchObject({
      status: 'Pending',
      reason: 'ContainerCreating',
    });
    expect(statusOf('Pod', pod({ phase: 'Running', conditions: [condition('Ready', 'True')], containerStatuses: [{ name: 'main', ready: true, state: { running: {} } }] }))).toMatchObject({ status: 'Running' });
  });

  it('crash-looping: Degraded, naming the container and how often it restarted', () => {
    const crashing = pod({
      phase: 'Running',
      conditions: [condition('Ready', 'False', 'ContainersNotReady')],
      containerStatuses: [{ name: 'main', ready: false, restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off restarting failed container=main' } } }],
    });
    expect(statusOf('Pod', crashing)).toEqual({ status: 'Degraded', replicas: null, reason: 'CrashLoopBackOff', message: 'container main: back-off restarting failed container=main (restarted 3 times)' });
  });

  it('image pull failures and unschedulable pods are Degraded; a failed pod is Failed', () => {
    expect(statusOf('Pod', pod({ phase: 'Pending', containerStatuses: [{ name: 'main', state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "x"' } } }] }))).toMatchObject({ status: 'Degraded', reason: 'ImagePullBackOff' });
    expect(statusOf('Pod', pod({ phase: 'Pending', conditions: [condition('PodScheduled', 'False', 'Unschedulable', '0/3 nodes are available')] }))).toMatchObject({ status: 'Degraded', reason: 'Unschedulable', message: '0/3 nodes are available' });
    expect(statusOf('Pod', pod({ phase: 'Failed', containerStatuses: [{ name: 'main', state: { terminated: { exitCode: 1, reason: 'Error' } } }] }))).toMatchObject({ status: 'Failed', reason: 'Error', message: 'exit code 1' });
    expect(statusOf('Pod', pod({ phase: 'Succeeded' }))).toMatchObject({ status: 'Succeeded' });
  });

  it('cuts reasons and messages to what the event contract holds', () => {
    const observed = statusOf('Pod', pod({ phase: 'Failed', reason: 'R'.repeat(500), message: 'm'.repeat(5000) }));
    expect(observed.reason).toHaveLength(128);
    expect(observed.message).toHaveLength(1024);
  });
});

describe('dedupe: a change, not a heartbeat', () => {
  const running: ObservedStatus = { status: 'Running', replicas: { desired: 2, ready: 2, available: 2, updated: 2 }, reason: null, message: null };
  const ref = { clusterId: 'c1', namespace: 'shop', kind: 'Deployment' as const, name: 'web' };

  it('equal observations are the same status; any field differing is a change', () => {
    expect(sameStatus(running, { ...running, replicas: { ...running.replicas! } })).toBe(true);
    expect(sameStatus(running, { ...running, replicas: { ...running.replicas!, ready: 1 } })).toBe(false);
    expect(sameStatus(running, { ...running, message: 'x' })).toBe(false);
    expect(sameStatus({ ...running, replicas: null }, running)).toBe(false);
  });

  it('writes the first observation, nothing for a repeat, one event for the latest of several, none for a round trip', () => {
    const changes = new WorkloadChanges('ws');
    changes.observe(ref, running, '2026-01-01T00:00:00.000Z');
    expect(changes.drain()).toEqual([
      { type: 'WorkloadStatusChanged', data: { workspaceId: 'ws', ...ref, ...running, previousStatus: null, observedAt: '2026-01-01T00:00:00.000Z', since: '2026-01-01T00:00:00.000Z' } },
    ]);
    changes.observe(ref, { ...running }, '2026-01-01T00:00:01.000Z');
    expect(changes.drain()).toEqual([]);

    const scaling: ObservedStatus = { status: 'Progressing', replicas: { desired: 3, ready: 2, available: 2, updated: 3 }, reason: 'ScalingUp', message: '2 of 3 replicas available' };
    changes.observe(ref, scaling, '2026-01-01T00:00:02.000Z');
    changes.observe(ref, running, '2026-01-01T00:00:03.000Z');
    expect(changes.drain()).toEqual([]);

    changes.observe(ref, scaling, '2026-01-01T00:00:04.000Z');
    changes.observe(ref, { ...scaling, replicas: { desired: 3, ready: 3, available: 2, updated: 3 } }, '2026-01-01T00:00:05.000Z');
    const [change] = changes.drain();
    expect(change).toMatchObject({ type: 'WorkloadStatusChanged', data: { status: 'Progressing', previousStatus: 'Running', replicas: { ready: 3 }, observedAt: '2026-01-01T00:00:05.000Z', since: '2026-01-01T00:00:05.000Z' } });
  });

  it('keeps `since` while only the replicas or message change, and removes only what was recorded', () => {
    const changes = new WorkloadChanges('ws');
    changes.seed([{ ...ref, ...running, status: 'Progressing', since: '2026-01-01T00:00:00.000Z' }]);
    changes.observe(ref, { ...running, status: 'Progressing', message: 'still going' }, '2026-01-01T00:01:00.000Z');
    expect(changes.drain()[0]).toMatchObject({ data: { previousStatus: 'Progressing', since: '2026-01-01T00:00:00.000Z', observedAt: '2026-01-01T00:01:00.000Z' } });

    const other = { ...ref, name: 'never-recorded' };
    changes.observe(other, running, '2026-01-01T00:02:00.000Z');
    changes.remove(other, 'Deleted', '2026-01-01T00:02:01.000Z');
    changes.remove(ref, 'Deleted', '2026-01-01T00:02:02.000Z');
    expect(changes.drain()).toEqual([
      { type: 'WorkloadRemoved', data: { workspaceId: 'ws', ...ref, cause: 'Deleted', previousStatus: 'Progressing', observedAt: '2026-01-01T00:02:02.000Z' } },
    ]);
    expect(changes.existing()).toEqual([]);
  });
});
