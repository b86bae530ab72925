import { CustomObjectsApi, makeInformer, PatchStrategy, type Informer, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { ClusterConnection } from '../access.js';
import { VELERO_GROUP, VELERO_NAMESPACE } from './resources.js';

/** A `velero.io/v1` object as the client reads it. */
export type VeleroObject = KubernetesObject & { spec?: Record<string, unknown>; status?: Record<string, unknown> };
export type VeleroPlural = 'backups' | 'restores' | 'backupstoragelocations' | 'deletebackuprequests' | 'schedules';

/**
 * An informer over one kind of Velero object in Velero's namespace (list,
 * then watch; relists after 410 Gone). On `error` it stops: the caller
 * starts it again when it wants to retry.
 */
export function veleroInformer(connection: ClusterConnection, plural: VeleroPlural, options: { namespace?: string; labelSelector?: string } = {}): Informer<VeleroObject> {
  const namespace = options.namespace ?? VELERO_NAMESPACE;
  const api = connection.kubeConfig.makeApiClient(CustomObjectsApi);
  const list = async (): Promise<KubernetesListObject<VeleroObject>> =>
    (await api.listNamespacedCustomObject({ group: VELERO_GROUP, version: 'v1', namespace, plural, ...(options.labelSelector ? { labelSelector: options.labelSelector } : {}) })) as KubernetesListObject<VeleroObject>;
  return makeInformer<VeleroObject>(connection.kubeConfig, `/apis/${VELERO_GROUP}/v1/namespaces/${namespace}/${plural}`, list, options.labelSelector);
}

/** Server-side apply of a Velero object (creates or updates the fields `fieldManager` owns; `force` takes them over from others). */
export async function applyVeleroObject(connection: ClusterConnection, obj: VeleroObject, fieldManager: string): Promise<VeleroObject> {
  return (await connection.objects.patch(obj, undefined, undefined, fieldManager, true, PatchStrategy.ServerSideApply)) as VeleroObject;
}

/** The HTTP status a client-node call failed with (404, 409…), or undefined for a failure without one (connection refused). */
export function httpStatusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}
