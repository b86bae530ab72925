import type { EventRecorder } from '../controllers/events.js';
import type { Controller } from '../controllers/manager.js';
import type { ResourceType } from '../resources.js';
import type { ResourceApi } from '../store/resource-api.js';
import { BackupController, BackupStorageLocationController, DEFAULT_VELERO_TIMING, DeleteBackupRequestController, RestoreController, ScheduleController, type VeleroTiming } from './controllers.js';
import { VELERO_NAMESPACE, VELERO_RESOURCES } from './resources.js';

export { applyVeleroObject, httpStatusOf, veleroInformer, type VeleroObject, type VeleroPlural } from './client.js';
export { DEFAULT_VELERO_TIMING, ttlMs, type VeleroTiming } from './controllers.js';
export { VELERO_API_VERSION, VELERO_GROUP, VELERO_NAMESPACE, VELERO_RESOURCES } from './resources.js';

/** What `startSimulatedCluster` takes to serve Velero: spread it into the options. */
export type SimulatedVelero = {
  extraResources: ResourceType[];
  extraControllers: (api: ResourceApi, events: EventRecorder) => Controller[];
};

/**
 * A simulated Velero for a simulated cluster: the `velero.io/v1` kinds and
 * their controllers, installed in the `velero` namespace (created at start).
 *
 * ```ts
 * const sim = await startSimulatedCluster({ name: 'east', ...simulatedVelero({ itemsPerSecond: 50 }) });
 * ```
 */
export function simulatedVelero(timing: Partial<VeleroTiming> = {}): SimulatedVelero {
  const resolved = { ...DEFAULT_VELERO_TIMING, ...timing };
  return {
    extraResources: [...VELERO_RESOURCES],
    extraControllers: (api, events) => {
      const nsType = api.resource('v1', 'Namespace');
      if (!api.store.peek(nsType, undefined, VELERO_NAMESPACE)) api.create(nsType, undefined, { metadata: { name: VELERO_NAMESPACE } }, { manager: 'velero-install' });
      return [
        new BackupStorageLocationController(api),
        new BackupController(api, events, resolved),
        new RestoreController(api, events, resolved),
        new DeleteBackupRequestController(api, events),
        new ScheduleController(api, events),
      ];
    },
  };
}
