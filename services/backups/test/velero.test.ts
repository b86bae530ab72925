import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ClusterConnector, ManualClock, SIM_ANNOTATIONS, simulatedVelero, simulatorDirectory, startSimulatedCluster, type SimulatedCluster } from '@canopy/kube';
import type { ReadDomainEvent } from '@canopy/eventstore';
import { backupProgress, probingHealthCheck, startBackupsService, startVeleroDriver, type BackupsService, type VeleroDriver } from '../src/index.js';
import { as, startHarness, until, type Harness, type Team } from './harness.js';

type Obj = Record<string, any>;

/**
 * End to end: the workspaces and backups services on one log, two simulated
 * clusters (east, west) with the simulated Velero on manual clocks, the
 * driver reaching them over HTTPS through the connector, and the health
 * check probing them.
 */
describe('Velero on the clusters', () => {
  let h: Harness;
  let team: Team;
  let east: SimulatedCluster;
  let west: SimulatedCluster;
  /** A cluster without Velero. */
  let bare: SimulatedCluster;
  let service: BackupsService;
  let driver: VeleroDriver;
  let connector: ClusterConnector;

  const veleroObjects = (cluster: SimulatedCluster, kind: string): Obj[] => cluster.api.list(cluster.api.resource('velero.io/v1', kind), { namespace: 'velero' }).items as Obj[];
  const veleroObject = (cluster: SimulatedCluster, kind: string, name: string): Obj | undefined => cluster.api.tryGet(cluster.api.resource('velero.io/v1', kind), 'velero', name) as Obj | undefined;
  const typesOf = (events: ReadDomainEvent[]) => events.map((e) => e.type);
  const startDriver = () => startVeleroDriver({ log: h.log, backups: service, workspaces: h.workspaces.directory, connector, clock: () => h.clock.now, retryMs: 50 });
  /** Moves both clusters' clocks in steps, letting the driver report after each. */
  async function run(seconds: number, clusters = [east, west]) {
    for (let i = 0; i < seconds; i++) {
      for (const cluster of clusters) if (cluster.fault().mode === 'healthy') await cluster.advance(1000);
      await new Promise((resolve) => setTimeout(resolve, 20));
      await driver.idle();
    }
  }

  beforeAll(async () => {
    h = await startHarness();
    const cluster = (name: string) =>
      startSimulatedCluster({ name, nodes: 1, clock: new ManualClock(Date.parse('2026-03-01T10:00:00Z')), namespaces: ['shop', 'db'], ...simulatedVelero({ startMs: 1000, itemsPerSecond: 2, progressIntervalMs: 1000 }) });
    [east, west, bare] = await Promise.all([cluster('east'), cluster('west'), startSimulatedCluster({ name: 'bare', nodes: 1, namespaces: ['shop', 'db'] })]);
    for (const sim of [east, west]) {
      const cm = sim.api.resource('v1', 'ConfigMap');
      for (const name of ['cart', 'catalog']) sim.api.create(cm, 'shop', { metadata: { name } });
    }
    connector = new ClusterConnector(simulatorDirectory([east, west, bare]));
    team = await h.team();
    service = await startBackupsService({ log: h.log, workspaces: h.workspaces.directory, clock: () => h.clock.now, health: probingHealthCheck({ workspaces: h.workspaces.directory, connector, timeoutMs: 2000 }) });
    driver = startDriver();
    await driver.caughtUp;
  });

  afterAll(async () => {
    await driver?.close();
    await service?.close();
    await h?.close();
    await Promise.all([east?.stop(), west?.stop(), bare?.stop()]);
  });

  const input = (prefix: string) => ({ prefix, locationId: team.locationId, includeAllDisks: true, includeClusterResources: 'auto', namespaces: ['shop', 'db'] });

  let completed: { backupId: string; name: string };

  it('backs up the healthy cluster only, and reports its progress in order to completion', async () => {
    await west.setFault('unreachable');
    const { backupId } = await service.commands.backupNow(as('bob'), team.workspaceId, input('before-upgrade'));
    const request = service.directory.backup(backupId).state.request!;
    expect(request.planned.map((p) => p.clusterName)).toEqual(['east']);
    expect(request.skipped).toEqual([{ clusterId: team.west, clusterName: 'west', reason: 'Unreachable', message: expect.stringContaining('connection-refused') }]);

    await until(() => veleroObject(east, 'Backup', request.name) !== undefined);
    const backup = veleroObject(east, 'Backup', request.name)!;
    const bslName = backup['spec'].storageLocation;
    expect(backup['spec']).toEqual({ includedNamespaces: ['db', 'shop'], storageLocation: bslName, snapshotVolumes: true, ttl: '720h0m0s' });
    expect(backup['metadata'].labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'canopy', 'canopy.dev/backup-id': backupId, 'canopy.dev/cluster-id': team.east, 'canopy.dev/workspace-id': team.workspaceId });
    expect(bslName).toMatch(/^primary-[0-9a-f]{8}$/);
    expect(veleroObject(east, 'BackupStorageLocation', bslName)!['spec']).toEqual({
      provider: 'aws',
      objectStorage: { bucket: 'acme-backups', prefix: `canopy/workspaces/${team.workspaceId}/clusters/${team.east}` },
      credential: { name: 'velero-credentials', key: 'cloud' },
    });
    expect(veleroObjects(west, 'Backup')).toEqual([]);

    await run(6, [east]);
    await until(() => service.directory.backup(backupId).state.runs.get(team.east)!.phase === 'Completed');
    const events = (await h.events(`backup-${backupId}`)).slice(1);
    expect(typesOf(events)).toEqual([...events.slice(0, -1).map(() => 'BackupClusterProgressed'), 'BackupClusterCompleted']);
    // 2 namespaces + their default ServiceAccounts + 2 ConfigMaps: 6 items, 2 a second after a one-second start.
    expect(events.map((e) => [(e.data as Obj)['phase'] ?? 'Completed', (e.data as Obj)['itemsBackedUp'], (e.data as Obj)['totalItems']])).toEqual([
      ['New', 0, 0],
      ['InProgress', 0, 6],
      ['InProgress', 2, 6],
      ['InProgress', 4, 6],
      ['Completed', 6, 6],
    ]);
    expect(backupProgress(service.directory.backup(backupId).state, h.clock.now).status).toBe('PartiallyFailed');
    completed = { backupId, name: request.name };
    await west.setFault('healthy');
  });

  it('a schedule that comes due backs up the healthy cluster only, the unreachable one skipped with the reason', async () => {
    await west.setFault('unreachable');
    try {
      const { scheduleId } = await service.commands.createSchedule(as('bob'), team.workspaceId, { ...input('hourly'), cron: '0 * * * *', expiry: '7d' });
      const before = new Set(veleroObjects(east, 'Backup').map((b) => b['metadata'].name));
      const nextHour = new Date(Math.ceil((h.clock.now.getTime() + 1) / 3_600_000) * 3_600_000);
      await service.tick(nextHour);
      const scheduled = service.directory.backupsOf(team.workspaceId).map((b) => b.request!).find((r) => r.trigger.kind === 'schedule' && r.trigger.scheduleId === scheduleId);
      expect(scheduled).toBeDefined();
      expect(scheduled!.planned.map((p) => p.clusterName)).toEqual(['east']);
      expect(scheduled!.skipped).toEqual([expect.objectContaining({ clusterName: 'west', reason: 'Unreachable' })]);
      await until(() => veleroObject(east, 'Backup', scheduled!.name) !== undefined);
      expect(veleroObjects(east, 'Backup').filter((b) => !before.has(b['metadata'].name)).map((b) => b['metadata'].name)).toEqual([scheduled!.name]);
      expect(veleroObjects(west, 'Backup')).toEqual([]);
      await service.commands.deleteSchedule(as('bob'), team.workspaceId, scheduleId);
    } finally {
      await west.setFault('healthy');
    }
  });

  let partial: { backupId: string; name: string };

  it('a failure requested in the simulator shows as a partial failure with its errors', async () => {
    const { backupId } = await service.commands.backupNow(as('bob'), team.workspaceId, { ...input('with-errors'), includeClusterResources: 'yes', includeAllDisks: false });
    const { name, planned } = service.directory.backup(backupId).state.request!;
    expect(planned.map((p) => p.clusterName)).toEqual(['east', 'west']);
    await until(() => veleroObject(east, 'Backup', name) !== undefined && veleroObject(west, 'Backup', name) !== undefined);
    expect(veleroObject(west, 'Backup', name)!['spec']).toMatchObject({ includeClusterResources: true, snapshotVolumes: false });
    const backupType = east.api.resource('velero.io/v1', 'Backup');
    east.api.patch(backupType, 'velero', name, 'merge', { metadata: { annotations: { [SIM_ANNOTATIONS.veleroOutcome]: 'PartiallyFailed', [SIM_ANNOTATIONS.veleroErrors]: '3', [SIM_ANNOTATIONS.veleroWarnings]: '1' } } }, { manager: 'test' });

    await run(20);
    await until(() => [...service.directory.backup(backupId).state.runs.values()].every((r) => r.completedAt !== null));
    const outcomes = (await h.events(`backup-${backupId}`)).filter((e) => e.type !== 'BackupClusterProgressed').slice(1);
    expect(outcomes.map((e) => [e.type, (e.data as Obj)['clusterId'], (e.data as Obj)['errors'], (e.data as Obj)['warnings']])).toEqual(
      expect.arrayContaining([
        ['BackupClusterPartiallyFailed', team.east, 3, 1],
        ['BackupClusterCompleted', team.west, 0, 0],
      ]),
    );
    expect((outcomes.find((e) => e.type === 'BackupClusterPartiallyFailed')!.data as Obj)['message']).toBe('3 item(s) could not be backed up.');
    expect(backupProgress(service.directory.backup(backupId).state, h.clock.now).status).toBe('PartiallyFailed');
    partial = { backupId, name };
  });

  it('restores onto every cluster with the options as Velero names them, and reports each to completion', async () => {
    const options = { includeClusterResources: true, preserveNodePorts: false, restorePersistentVolumes: true };
    const { restoreId } = await service.commands.restoreBackup(as('bob'), partial.backupId, options);
    const { name } = service.directory.restore(restoreId).state.request!;
    await until(() => veleroObject(east, 'Restore', name) !== undefined && veleroObject(west, 'Restore', name) !== undefined);
    for (const [sim, clusterId] of [[east, team.east], [west, team.west]] as const) {
      const restore = veleroObject(sim, 'Restore', name)!;
      expect(restore['spec']).toEqual({ backupName: partial.name, includedNamespaces: ['db', 'shop'], includeClusterResources: true, preserveNodePorts: false, restorePVs: true });
      expect(restore['metadata'].labels).toMatchObject({ 'canopy.dev/restore-id': restoreId, 'canopy.dev/backup-id': partial.backupId, 'canopy.dev/cluster-id': clusterId });
    }
    await run(20);
    await until(() => [...service.directory.restore(restoreId).state.runs.values()].every((r) => r.phase === 'Completed'));
    const events = await h.events(`restore-${restoreId}`);
    expect(typesOf(events).filter((t) => t === 'RestoreClusterCompleted')).toHaveLength(2);
    expect(events.filter((e) => e.type === 'RestoreClusterProgressed').some((e) => (e.data as Obj)['phase'] === 'InProgress' && (e.data as Obj)['itemsRestored'] > 0)).toBe(true);

    const other = await service.commands.restoreBackup(as('bob'), partial.backupId, { includeClusterResources: false, preserveNodePorts: true, restorePersistentVolumes: false });
    const otherName = service.directory.restore(other.restoreId).state.request!.name;
    await until(() => veleroObject(east, 'Restore', otherName) !== undefined);
    expect(veleroObject(east, 'Restore', otherName)!['spec']).toMatchObject({ includeClusterResources: false, preserveNodePorts: true, restorePVs: false });
  });

  it('a restart adopts the objects already on the clusters instead of making them again', async () => {
    const { backupId } = await service.commands.backupNow(as('bob'), team.workspaceId, input('across-restart'));
    const { name } = service.directory.backup(backupId).state.request!;
    await until(() => veleroObject(east, 'Backup', name) !== undefined && veleroObject(west, 'Backup', name) !== undefined);
    await run(2);
    await driver.close();
    await run(1);
    driver = startDriver();
    await driver.caughtUp;
    await run(6);
    await until(() => [...service.directory.backup(backupId).state.runs.values()].every((r) => r.phase === 'Completed'));
    expect(veleroObjects(east, 'Backup').filter((b) => b['metadata'].labels['canopy.dev/backup-id'] === backupId)).toHaveLength(1);
    const events = await h.events(`backup-${backupId}`);
    expect(typesOf(events).filter((t) => t !== 'BackupClusterProgressed')).toEqual(['BackupRequested', 'BackupClusterCompleted', 'BackupClusterCompleted']);
  });

  it('deleting or expiring a backup deletes it on the clusters through a DeleteBackupRequest', async () => {
    await service.commands.deleteBackup(as('bob'), partial.backupId);
    await until(() => veleroObject(east, 'Backup', partial.name) === undefined && veleroObject(west, 'Backup', partial.name) === undefined);
    expect(veleroObject(east, 'DeleteBackupRequest', partial.name)).toMatchObject({ spec: { backupName: partial.name }, status: { phase: 'Processed' } });
    // The restores made from it go with it, as Velero does.
    expect(veleroObjects(east, 'Restore').filter((r) => r['spec'].backupName === partial.name)).toEqual([]);

    expect(veleroObject(east, 'Backup', completed.name)).toBeDefined();
    const { expired } = await service.commands.expireBackups(new Date(h.clock.now.getTime() + 721 * 3600_000));
    expect(expired).toContain(completed.backupId);
    await until(() => veleroObject(east, 'Backup', completed.name) === undefined);
  });

  it('a cluster without Velero gets a failed run with the reason, so the backup still finishes', async () => {
    const clusterId = `${team.workspaceId}-bare`;
    await team.ws({ type: 'AttachCluster', clusterId, name: 'bare', connection: { kind: 'simulator', simulator: 'bare' } });
    const { backupId } = await service.commands.backupNow(as('bob'), team.workspaceId, { ...input('no-velero'), clusters: [clusterId] });
    await until(() => service.directory.backup(backupId).state.runs.get(clusterId)!.phase === 'Failed');
    expect(service.directory.backup(backupId).state.runs.get(clusterId)!.message).toContain('Velero is not installed on the cluster');
    expect(backupProgress(service.directory.backup(backupId).state, h.clock.now).status).toBe('Failed');
    await team.ws({ type: 'DetachCluster', clusterId });
  });

  it('the health check probes each cluster through its connection', async () => {
    const check = probingHealthCheck({ workspaces: h.workspaces.directory, connector, timeoutMs: 2000 });
    await west.setFault('unreachable');
    expect(await check({ workspaceId: team.workspaceId, clusterId: team.east, name: 'east' })).toEqual({ status: 'healthy' });
    expect(await check({ workspaceId: team.workspaceId, clusterId: team.west, name: 'west' })).toMatchObject({ status: 'unreachable' });
    expect(await check({ workspaceId: team.workspaceId, clusterId: 'gone', name: 'gone' })).toEqual({ status: 'unreachable', message: 'The cluster is not part of the workspace.' });
    await west.setFault('healthy');
  });
});
