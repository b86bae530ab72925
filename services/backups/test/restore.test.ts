import { describe, expect, it } from '@jest/globals';
import { ErrorCode } from '@canopy/schema';
import {
  evolveBackup,
  evolveRestore,
  initialBackupState,
  initialRestoreState,
  recordBackupReport,
  recordRestoreReport,
  requestBackup,
  requestRestore,
  restoreProgress,
  type BackupEvent,
  type BackupState,
  type ClusterHealth,
  type RestoreOptionsInput,
  type WorkspaceFacts,
} from '../src/index.js';
import { actors, allHealthy, expectError, locations, options, W, workspace } from './fixtures.js';

const at = new Date('2026-03-01T02:00:00.000Z');
const later = new Date('2026-03-05T09:00:00.000Z');
const restoreOptions: RestoreOptionsInput = { includeClusterResources: false, preserveNodePorts: true, restorePersistentVolumes: true };
const finished = { startedAt: '2026-03-01T02:00:01.000Z', observedAt: '2026-03-01T02:05:00.000Z', itemsDone: 40, totalItems: 40, warnings: 0, errors: 0 };

/** A backup of east and west, both completed (or as `outcomes` say). */
function backupOf(outcomes: Record<string, 'Completed' | 'Failed'> = { 'c-east': 'Completed', 'c-west': 'Completed' }, ws: WorkspaceFacts = workspace): BackupState {
  let state = requestBackup({ backupId: 'b1', requestedAt: at, input: options() }, initialBackupState, { workspace: ws, locations, health: allHealthy, actor: actors.admin }).reduce(
    evolveBackup,
    initialBackupState,
  );
  for (const [clusterId, phase] of Object.entries(outcomes)) {
    state = recordBackupReport({ clusterId, phase, ...finished }, state).reduce<BackupState>((s, e: BackupEvent) => evolveBackup(s, e), state);
  }
  return state;
}

const restore = (backup: BackupState, ws: WorkspaceFacts = workspace, health: ReadonlyMap<string, ClusterHealth> = allHealthy, actor = actors.admin) =>
  requestRestore({ restoreId: 'r1', requestedAt: later, options: restoreOptions }, initialRestoreState, backup, { workspace: ws, health, actor });

describe('restores', () => {
  it('every cluster of the backup still in the workspace is restored, with the options', () => {
    const [event] = restore(backupOf());
    expect(event).toEqual({
      type: 'RestoreRequested',
      data: {
        organizationId: workspace.organizationId,
        workspaceId: W,
        restoreId: 'r1',
        backupId: 'b1',
        backupName: backupOf().request!.name,
        name: expect.stringMatching(/^restore-20260305090000-[0-9a-f]{6}$/),
        requestedBy: 'bob',
        requestedAt: '2026-03-05T09:00:00.000Z',
        options: restoreOptions,
        planned: [
          { clusterId: 'c-east', clusterName: 'east' },
          { clusterId: 'c-west', clusterName: 'west' },
        ],
        skipped: [],
      },
    });
  });

  it('a cluster removed from the workspace since the backup is skipped and reported; one added since is not in the backup', () => {
    const now: WorkspaceFacts = { ...workspace, clusters: new Map([['c-east', { name: 'east' }], ['c-north', { name: 'north' }]]) };
    const [event] = restore(backupOf(), now);
    expect(event!.data).toMatchObject({
      planned: [{ clusterId: 'c-east', clusterName: 'east' }],
      skipped: [
        { clusterId: 'c-north', clusterName: 'north', reason: 'NotInBackup' },
        { clusterId: 'c-west', clusterName: 'west', reason: 'Detached', message: 'The cluster has left the workspace since the backup.' },
      ],
    });
  });

  it('clusters without a file in the backup, and unhealthy ones, are skipped with the reason', () => {
    const health = new Map<string, ClusterHealth>([['c-east', { status: 'unhealthy', message: 'etcd degraded' }]]);
    const [event] = restore(backupOf({ 'c-east': 'Completed', 'c-west': 'Failed' }), workspace, new Map([...allHealthy]));
    expect(event!.data).toMatchObject({ planned: [{ clusterId: 'c-east' }], skipped: [{ clusterId: 'c-west', reason: 'NotBackedUp' }] });
    const err = expectError(() => restore(backupOf({ 'c-east': 'Completed', 'c-west': 'Failed' }), workspace, health), ErrorCode.CONFLICT, { field: 'backupId' });
    expect(err.details.skipped).toEqual([
      { clusterId: 'c-east', clusterName: 'east', reason: 'Unhealthy', message: 'etcd degraded' },
      { clusterId: 'c-west', clusterName: 'west', reason: 'NotBackedUp', message: 'The backup of this cluster failed: there is no file to restore.' },
    ]);
  });

  it('a backup still running, expired or of another workspace cannot be restored', () => {
    expectError(() => restore(backupOf({ 'c-east': 'Completed' })), ErrorCode.CONFLICT, { status: 'InProgress' });
    const expired = evolveBackup(backupOf(), { type: 'BackupExpired', data: { workspaceId: W, backupId: 'b1', name: 'x', expiresAt: at.toISOString() } });
    expectError(() => restore(expired), ErrorCode.CONFLICT, { status: 'Expired' });
    expectError(() => restore(backupOf(), { ...workspace, workspaceId: 'ws-other' }), ErrorCode.NOT_FOUND, { field: 'backupId' });
    expectError(() => restore(initialBackupState), ErrorCode.NOT_FOUND, { field: 'backupId' });
  });

  it('only admins and owners restore; options are three booleans and nothing else', () => {
    expectError(() => restore(backupOf(), workspace, allHealthy, actors.viewer), ErrorCode.FORBIDDEN);
    expectError(() => restore(backupOf(), workspace, allHealthy, actors.member), ErrorCode.FORBIDDEN);
    expectError(
      () => requestRestore({ restoreId: 'r1', requestedAt: later, options: { ...restoreOptions, wipeCluster: true } as RestoreOptionsInput }, initialRestoreState, backupOf(), { workspace, health: allHealthy, actor: actors.admin }),
      ErrorCode.BAD_USER_INPUT,
      { field: 'options' },
    );
  });

  it('per-cluster restore progress and outcome, aggregated like a backup', () => {
    let state = restore(backupOf()).reduce(evolveRestore, initialRestoreState);
    expect(restoreProgress(state, later)).toMatchObject({ status: 'Pending', percent: 0 });
    const progressed = recordRestoreReport({ clusterId: 'c-east', phase: 'InProgress', itemsDone: 20, totalItems: 40, warnings: 1, errors: 0, startedAt: null, observedAt: '2026-03-05T09:01:00Z' }, state);
    expect(progressed).toEqual([{ type: 'RestoreClusterProgressed', data: expect.objectContaining({ restoreId: 'r1', clusterId: 'c-east', itemsRestored: 20, warnings: 1 }) }]);
    state = progressed.reduce(evolveRestore, state);
    for (const clusterId of ['c-east', 'c-west']) {
      state = recordRestoreReport({ clusterId, phase: 'Completed', ...finished }, state).reduce(evolveRestore, state);
    }
    expect(restoreProgress(state, later)).toMatchObject({ status: 'Completed', percent: 100, clusters: { done: 2 } });
    expectError(() => recordRestoreReport({ clusterId: 'c-mars', phase: 'Completed', ...finished }, state), ErrorCode.NOT_FOUND, { field: 'clusterId' });
  });
});
