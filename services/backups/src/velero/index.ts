export { startVeleroDriver, type DriverLogger, type VeleroDriver, type VeleroDriverOptions } from './driver.js';
export { probingHealthCheck, type ClusterConnections, type ClusterDirectory } from './health.js';
export { backupObject, clusterResourcesFlag, deleteRequestObject, goDuration, LABELS, MANAGED_SELECTOR, reportOf, restoreObject, storageLocationName, storageLocationObject } from './objects.js';
