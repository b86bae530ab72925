import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KubernetesObject } from '@kubernetes/client-node';
import { SIM_ANNOTATIONS, simulatedVelero } from '../src/index.js';
import { startHarness, statusOf, type Harness } from './support.js';

type VeleroObject = KubernetesObject & { spec?: Record<string, unknown>; status?: Record<string, any> };

const object = (kind: string, name: string, spec: Record<string, unknown>, annotations: Record<string, string> = {}): VeleroObject => ({
  apiVersion: 'velero.io/v1',
  kind,
  metadata: { name, namespace: 'velero', annotations },
  spec,
});

describe('the simulated Velero, through client-node', () => {
  let h: Harness;
  const create = (obj: VeleroObject) => h.client.objects.create(obj) as Promise<VeleroObject>;
  const read = (kind: string, name: string) => h.client.objects.read({ apiVersion: 'velero.io/v1', kind, metadata: { name, namespace: 'velero' } }) as Promise<VeleroObject>;

  beforeAll(async () => {
    h = await startHarness({ namespaces: ['shop', 'db'], ...simulatedVelero({ startMs: 1000, itemsPerSecond: 2, progressIntervalMs: 1000 }) });
    for (const name of ['a', 'b', 'c']) await h.client.core.createNamespacedConfigMap({ namespace: 'shop', body: { metadata: { name } } });
    await h.client.core.createNamespacedSecret({ namespace: 'db', body: { metadata: { name: 'pw' }, stringData: { pw: 'x' } } });
    await create(object('BackupStorageLocation', 'primary', { provider: 'aws', objectStorage: { bucket: 'acme', prefix: 'east' }, credential: { name: 'cloud-credentials', key: 'cloud' } }));
    await h.cluster.settled();
  });
  afterAll(() => h.cluster.stop());

  it('serves velero.io/v1 in discovery, in the velero namespace it installs', async () => {
    const resources = await h.client.kubeConfig.makeApiClient((await import('@kubernetes/client-node')).CustomObjectsApi).getAPIResources({ group: 'velero.io', version: 'v1' });
    expect(resources.resources.filter((r) => !r.name.includes('/')).map((r) => r.kind).sort()).toEqual(['Backup', 'BackupStorageLocation', 'DeleteBackupRequest', 'Restore', 'Schedule']);
    expect((await h.client.core.readNamespace({ name: 'velero' })).status?.phase).toBe('Active');
    expect((await read('BackupStorageLocation', 'primary')).status).toMatchObject({ phase: 'Available' });
  });

  it('moves a backup New → InProgress with growing item progress → Completed, counting the objects of its namespaces', async () => {
    await create(object('Backup', 'nightly-1', { includedNamespaces: ['shop', 'db'], storageLocation: 'primary', ttl: '24h0m0s', snapshotVolumes: false }));
    await h.cluster.settled();
    expect((await read('Backup', 'nightly-1')).status).toMatchObject({ phase: 'New' });
    const start = h.clock.now();
    await h.cluster.advance(1000);
    const running = (await read('Backup', 'nightly-1')).status!;
    // 2 namespaces + 3 configmaps + 1 secret + each namespace's default ServiceAccount
    expect(running).toMatchObject({ phase: 'InProgress', progress: { totalItems: 8, itemsBackedUp: 0 } });
    expect(Date.parse(running['expiration']) - Date.parse(running['startTimestamp'])).toBe(24 * 3600_000);
    expect(Date.parse(running['startTimestamp'])).toBe(start + 1000);
    await h.cluster.advance(2000);
    expect((await read('Backup', 'nightly-1')).status).toMatchObject({ phase: 'InProgress', progress: { totalItems: 8, itemsBackedUp: 4 } });
    await h.cluster.advance(2000);
    const done = (await read('Backup', 'nightly-1')).status!;
    expect(done).toMatchObject({ phase: 'Completed', progress: { totalItems: 8, itemsBackedUp: 8 } });
    expect(done['completionTimestamp']).toBeDefined();
    expect(done['errors']).toBeUndefined();
  });

  it('fails validation when the storage location does not exist', async () => {
    await create(object('Backup', 'lost', { includedNamespaces: ['shop'], storageLocation: 'nowhere' }));
    await h.cluster.settled();
    const status = (await read('Backup', 'lost')).status!;
    expect(status['phase']).toBe('FailedValidation');
    expect(status['validationErrors'][0]).toContain('"nowhere" not found');
  });

  it('fails on request: PartiallyFailed with errors and warnings, or Failed half way with a reason', async () => {
    await create(object('Backup', 'partial', { includedNamespaces: ['shop'], storageLocation: 'primary' }, { [SIM_ANNOTATIONS.veleroOutcome]: 'PartiallyFailed', [SIM_ANNOTATIONS.veleroErrors]: '2', [SIM_ANNOTATIONS.veleroWarnings]: '3' }));
    await create(object('Backup', 'broken', { includedNamespaces: ['shop'], storageLocation: 'primary' }, { [SIM_ANNOTATIONS.veleroOutcome]: 'Failed' }));
    await h.cluster.advance(1000);
    await h.cluster.advance(5000);
    expect((await read('Backup', 'partial')).status).toMatchObject({ phase: 'PartiallyFailed', errors: 2, warnings: 3, progress: { totalItems: 5, itemsBackedUp: 5 } });
    const broken = (await read('Backup', 'broken')).status!;
    expect(broken).toMatchObject({ phase: 'Failed', progress: { totalItems: 5, itemsBackedUp: 2 } });
    expect(broken['failureReason']).toContain('simulated failure');
  });

  it('a namespace annotated to fail makes the backups covering it partially fail', async () => {
    await h.client.core.patchNamespace({ name: 'db', body: [{ op: 'add', path: '/metadata/annotations', value: { [SIM_ANNOTATIONS.veleroOutcome]: 'PartiallyFailed' } }] });
    await create(object('Backup', 'db-only', { includedNamespaces: ['db'], storageLocation: 'primary' }));
    await h.cluster.advance(1000);
    await h.cluster.advance(5000);
    expect((await read('Backup', 'db-only')).status).toMatchObject({ phase: 'PartiallyFailed', errors: 1 });
    await h.client.core.patchNamespace({ name: 'db', body: [{ op: 'remove', path: '/metadata/annotations' }] });
  });

  it('restores a finished backup with item progress, and refuses one that does not exist', async () => {
    await create(object('Restore', 'back', { backupName: 'nightly-1', includedNamespaces: ['shop'], includeClusterResources: true, preserveNodePorts: true, restorePVs: false }));
    await create(object('Restore', 'from-nothing', { backupName: 'missing' }));
    await h.cluster.settled();
    expect((await read('Restore', 'back')).status).toMatchObject({ phase: 'New' });
    const refused = (await read('Restore', 'from-nothing')).status!;
    expect(refused['phase']).toBe('FailedValidation');
    expect(refused['validationErrors'][0]).toContain('"missing" not found');
    await h.cluster.advance(1000);
    await h.cluster.advance(1000);
    expect((await read('Restore', 'back')).status).toMatchObject({ phase: 'InProgress', progress: { totalItems: 8, itemsRestored: 2 } });
    await h.cluster.advance(4000);
    expect((await read('Restore', 'back')).status).toMatchObject({ phase: 'Completed', progress: { totalItems: 8, itemsRestored: 8 } });
  });

  it('a DeleteBackupRequest deletes the backup and the restores made from it', async () => {
    await create(object('DeleteBackupRequest', 'nightly-1-del', { backupName: 'nightly-1' }));
    await h.cluster.settled();
    expect((await read('DeleteBackupRequest', 'nightly-1-del')).status).toMatchObject({ phase: 'Processed' });
    expect((await statusOf(read('Backup', 'nightly-1'))).code).toBe(404);
    expect((await statusOf(read('Restore', 'back'))).code).toBe(404);
    await create(object('DeleteBackupRequest', 'again', { backupName: 'nightly-1' }));
    await h.cluster.settled();
    expect((await read('DeleteBackupRequest', 'again')).status).toMatchObject({ phase: 'Processed', errors: ['backup "nightly-1" not found'] });
  });

  it('a Schedule creates a Backup from its template at each scheduled minute', async () => {
    await create(object('Schedule', 'hourly', { schedule: '0 * * * *', template: { includedNamespaces: ['shop'], storageLocation: 'primary' } }));
    await h.cluster.settled();
    expect((await read('Schedule', 'hourly')).status).toMatchObject({ phase: 'Enabled' });
    const nextHour = Math.ceil((h.clock.now() + 1) / 3_600_000) * 3_600_000;
    await h.cluster.advance(nextHour - h.clock.now());
    const name = `hourly-${new Date(nextHour).toISOString().replace(/[-:T]/g, '').slice(0, 14)}`;
    const backup = await read('Backup', name);
    expect(backup.metadata?.labels).toEqual({ 'velero.io/schedule-name': 'hourly' });
    expect(backup.spec).toMatchObject({ includedNamespaces: ['shop'], storageLocation: 'primary' });
    expect((await read('Schedule', 'hourly')).status).toMatchObject({ phase: 'Enabled', lastBackup: new Date(nextHour).toISOString().replace('.000Z', 'Z') });
  });
});
