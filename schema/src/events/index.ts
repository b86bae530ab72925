import { EventRegistry } from '../event-contract.js';
import { backupEvents, backupLocationEvents, backupScheduleEvents, restoreEvents } from './backups.js';
import { clusterEvents } from './clusters.js';
import { costEvents } from './cost.js';
import { organizationEvents } from './organizations.js';
import { workspaceEvents } from './workspaces.js';
import { workloadEvents } from './workloads.js';

export * from './primitives.js';
export * from './organizations.js';
export * from './workspaces.js';
export * from './governance.js';
export * from './cost.js';
export * from './backups.js';
export * from './clusters.js';
export * from './workloads.js';

/** Every domain event Canopy writes; the log refuses any other type. */
export function canopyEventRegistry(): EventRegistry {
  return new EventRegistry([...organizationEvents, ...workspaceEvents, ...backupLocationEvents, ...backupScheduleEvents, ...backupEvents, ...restoreEvents, ...costEvents, ...workloadEvents, ...clusterEvents]);
}
