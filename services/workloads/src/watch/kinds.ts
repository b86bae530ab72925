import type { WatchedWorkloadKind } from '@canopy/schema';

/** Where each watched kind is listed and watched in one namespace. */
const PATHS: Readonly<Record<WatchedWorkloadKind, (namespace: string) => string>> = {
  Deployment: (ns) => `/apis/apps/v1/namespaces/${ns}/deployments`,
  StatefulSet: (ns) => `/apis/apps/v1/namespaces/${ns}/statefulsets`,
  DaemonSet: (ns) => `/apis/apps/v1/namespaces/${ns}/daemonsets`,
  Job: (ns) => `/apis/batch/v1/namespaces/${ns}/jobs`,
  CronJob: (ns) => `/apis/batch/v1/namespaces/${ns}/cronjobs`,
  Pod: (ns) => `/api/v1/namespaces/${ns}/pods`,
};

export const WATCHED_KINDS: readonly WatchedWorkloadKind[] = ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'Pod'];

export function collectionPath(kind: WatchedWorkloadKind, namespace: string): string {
  return PATHS[kind](encodeURIComponent(namespace));
}
