import type { ClusterConnection } from '@canopy/kube';
import type { WorkspaceIdentity } from '../desired/identity.js';
import { MANAGED_KINDS, objectKey, type KubeObject, type ManagedKind } from '../desired/types.js';
import { classify, httpStatus, isUnreachable, SyncError, withDeadline, type SyncFailure } from './failure.js';

type PatchStrategy = Parameters<ClusterConnection['objects']['patch']>[5];
const SERVER_SIDE_APPLY = 'application/apply-patch+yaml' as PatchStrategy;

export interface CallOptions {
  /** Calls in flight at once on this cluster. */
  parallelism: number;
  /** One call's deadline: past it the attempt counts the cluster unreachable. */
  callTimeoutMs: number;
}

export interface SyncReport {
  desiredHash: string;
  objects: number;
  /** Objects created or changed (an apply that changed nothing does not count). */
  applied: number;
  deleted: number;
}

/** What a sync leaves behind for the next one: the objects applied and the cluster's namespaces then. */
export interface Applied {
  objects: ReadonlyMap<string, KubeObject>;
  clusterNamespaces: readonly string[];
}

export interface ReleaseReport {
  deleted: number;
  namespacesReleased: number;
}

/** Whether every field of `desired` has the same value in `live` (lists element by element): then applying would change nothing. */
export function contains(live: unknown, desired: unknown): boolean {
  if (Array.isArray(desired)) return Array.isArray(live) && live.length === desired.length && desired.every((item, i) => contains(live[i], item));
  if (desired && typeof desired === 'object') {
    if (!live || typeof live !== 'object' || Array.isArray(live)) return false;
    return Object.entries(desired as Record<string, unknown>).every(([key, value]) => contains((live as Record<string, unknown>)[key], value));
  }
  return live === desired;
}

async function eachLimited<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await run(items[next++]!);
  });
  await Promise.all(lanes);
}

function resourceVersion(obj: unknown): string | undefined {
  return (obj as { metadata?: { resourceVersion?: string } } | undefined)?.metadata?.resourceVersion;
}

/** Talks to one cluster for one attempt: every call under the deadline, failures gathered, the rest skipped once the cluster is found unreachable. */
class Attempt {
  private readonly failures: SyncFailure[] = [];
  private unreachable: SyncFailure | undefined;

  constructor(
    private readonly conn: ClusterConnection,
    private readonly id: WorkspaceIdentity,
    private readonly options: CallOptions,
  ) {}

  async call<T>(what: string, run: () => Promise<T>): Promise<T | undefined> {
    if (this.unreachable) return undefined;
    try {
      return await withDeadline(run(), this.options.callTimeoutMs);
    } catch (error) {
      const failure = classify(error, what);
      if (isUnreachable(failure)) this.unreachable ??= failure;
      else this.failures.push(failure);
      return undefined;
    }
  }

  /** Every object of a kind this workspace applied, across namespaces. */
  async listOwned(kind: ManagedKind, selector: string | undefined): Promise<KubeObject[]> {
    const items: KubeObject[] = [];
    let continueToken: string | undefined;
    do {
      const page = await this.call(`listing ${kind.kind}`, () =>
        this.conn.objects.list<KubeObject & { apiVersion: string; kind: string }>(kind.apiVersion, kind.kind, undefined, undefined, undefined, undefined, undefined, selector, 500, continueToken),
      );
      if (!page) throw this.failed();
      for (const item of page.items) items.push({ ...item, apiVersion: kind.apiVersion, kind: kind.kind } as KubeObject);
      continueToken = page.metadata?._continue || undefined;
    } while (continueToken);
    return items;
  }

  apply(obj: KubeObject, force: boolean): Promise<KubeObject | undefined> {
    return this.call(`applying ${describe(obj)}`, () => this.conn.objects.patch(obj, undefined, undefined, this.id.fieldManager, force, SERVER_SIDE_APPLY) as Promise<KubeObject>);
  }

  async remove(obj: KubeObject): Promise<boolean> {
    const target = { apiVersion: obj.apiVersion, kind: obj.kind, metadata: { name: obj.metadata.name, ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}) } };
    const done = await this.call(`deleting ${describe(obj)}`, async () => {
      try {
        await this.conn.objects.delete(target);
      } catch (error) {
        if (httpStatus(error) !== 404) throw error;
      }
      return true;
    });
    return done === true;
  }

  /** Drops this workspace's fields from a namespace (its labels) by applying nothing: the namespace and its content stay. */
  async releaseNamespace(name: string): Promise<boolean> {
    return (await this.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, false)) !== undefined;
  }

  /** Throws the attempt's failure if there is one. */
  check(): void {
    if (this.unreachable || this.failures.length > 0) throw this.failed();
  }

  failed(): SyncError {
    if (this.unreachable) return new SyncError(this.unreachable);
    const first = this.failures[0];
    if (!first) return new SyncError({ reason: 'error', message: 'the attempt failed', failedObjects: 0 });
    const more = this.failures.length > 1 ? ` (and ${this.failures.length - 1} more)` : '';
    return new SyncError({ reason: first.reason, message: `${first.message}${more}`.slice(0, 2000), failedObjects: this.failures.reduce((n, f) => n + f.failedObjects, 0) });
  }
}

function describe(obj: KubeObject): string {
  return `${obj.kind} ${obj.metadata.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata.name}`;
}

const NAMESPACE_KIND = MANAGED_KINDS[0];
const byKey = (objects: Iterable<KubeObject>) => new Map([...objects].map((obj) => [objectKey(obj), obj]));

/**
 * Applies what one workspace wants on one cluster and removes what it
 * applied there before and wants no more: lists what carries the
 * workspace's labels, applies (server-side, the workspace's field manager)
 * each desired object that is missing or differs — forced when the object
 * is the workspace's, so a hand edit is undone; not forced otherwise, so an
 * object of the same name that someone else made is never taken over (a
 * conflict) — and deletes the workspace's objects no longer desired.
 * Namespaces are never deleted: one that leaves the workspace only loses
 * Canopy's labels. Throws a SyncError when anything failed.
 */
export async function syncCluster(
  conn: ClusterConnection,
  id: WorkspaceIdentity,
  build: (clusterNamespaces: readonly string[]) => { objects: KubeObject[]; hash: string },
  options: CallOptions,
): Promise<SyncReport & { state: Applied }> {
  const attempt = new Attempt(conn, id, options);
  const namespaces = await attempt.listOwned(NAMESPACE_KIND, undefined);
  const { objects: desired, hash } = build(namespaces.map((ns) => ns.metadata.name));
  const ownedLists = await Promise.all(MANAGED_KINDS.slice(1).map((kind) => attempt.listOwned(kind, id.selector)));
  const ownedNamespaces = namespaces.filter((ns) => ns.metadata.labels && contains(ns.metadata.labels, id.labels));
  const owned = byKey([...ownedNamespaces, ...ownedLists.flat()]);
  const existingNamespaces = new Set(namespaces.map((ns) => ns.metadata.name));

  let applied = 0;
  let deleted = 0;
  const applyOne = async (obj: KubeObject) => {
    const live = owned.get(objectKey(obj));
    if (live && contains(live, obj)) return;
    if (live && (obj.kind === 'RoleBinding' || obj.kind === 'ClusterRoleBinding') && !contains(live['roleRef'], obj['roleRef'])) {
      // roleRef cannot change: the binding is made anew.
      if (!(await attempt.remove(live))) return;
      deleted++;
    }
    const result = await attempt.apply(obj, live !== undefined);
    const existed = live !== undefined || (obj.kind === 'Namespace' && existingNamespaces.has(obj.metadata.name));
    if (result && (!existed || resourceVersion(result) !== resourceVersion(live ?? namespaces.find((ns) => ns.metadata.name === obj.metadata.name)))) applied++;
  };
  const phases = [desired.filter((o) => o.kind === 'Namespace'), desired.filter((o) => o.kind !== 'Namespace' && o.kind !== 'ValidatingAdmissionPolicyBinding'), desired.filter((o) => o.kind === 'ValidatingAdmissionPolicyBinding')];
  for (const phase of phases) await eachLimited(phase, options.parallelism, applyOne);

  const wanted = new Set(desired.map(objectKey));
  const stale = [...owned.values()].filter((obj) => !wanted.has(objectKey(obj)));
  await eachLimited(stale, options.parallelism, async (obj) => {
    if (obj.kind === 'Namespace') await attempt.releaseNamespace(obj.metadata.name);
    else if (await attempt.remove(obj)) deleted++;
  });
  attempt.check();
  return { desiredHash: hash, objects: desired.length, applied, deleted, state: { objects: byKey(desired), clusterNamespaces: namespaces.map((ns) => ns.metadata.name) } };
}

/**
 * The quick path after a change: with what the last sync applied known,
 * only what differs from it is applied or deleted, with no listing. Drift
 * since then is the next full sync's to repair (every resync is one).
 */
export async function syncChanges(
  conn: ClusterConnection,
  id: WorkspaceIdentity,
  previous: Applied,
  build: (clusterNamespaces: readonly string[]) => { objects: KubeObject[]; hash: string },
  options: CallOptions,
): Promise<SyncReport & { state: Applied }> {
  const attempt = new Attempt(conn, id, options);
  const { objects: desired, hash } = build(previous.clusterNamespaces);
  let applied = 0;
  let deleted = 0;
  const applyOne = async (obj: KubeObject) => {
    const before = previous.objects.get(objectKey(obj));
    if (before && contains(before, obj) && contains(obj, before)) return;
    if (before && (obj.kind === 'RoleBinding' || obj.kind === 'ClusterRoleBinding') && !contains(before['roleRef'], obj['roleRef'])) {
      if (!(await attempt.remove(before))) return;
      deleted++;
    }
    if (await attempt.apply(obj, before !== undefined)) applied++;
  };
  const phases = [desired.filter((o) => o.kind === 'Namespace'), desired.filter((o) => o.kind !== 'Namespace' && o.kind !== 'ValidatingAdmissionPolicyBinding'), desired.filter((o) => o.kind === 'ValidatingAdmissionPolicyBinding')];
  for (const phase of phases) await eachLimited(phase, options.parallelism, applyOne);
  const wanted = new Set(desired.map(objectKey));
  await eachLimited(
    [...previous.objects.values()].filter((obj) => !wanted.has(objectKey(obj))),
    options.parallelism,
    async (obj) => {
      if (obj.kind === 'Namespace') await attempt.releaseNamespace(obj.metadata.name);
      else if (await attempt.remove(obj)) deleted++;
    },
  );
  attempt.check();
  const clusterNamespaces = [...new Set([...previous.clusterNamespaces, ...desired.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name)])];
  return { desiredHash: hash, objects: desired.length, applied, deleted, state: { objects: byKey(desired), clusterNamespaces } };
}

/** Removes everything the workspace applied on the cluster (its namespaces only lose Canopy's labels); throws a SyncError when anything failed. */
export async function releaseCluster(conn: ClusterConnection, id: WorkspaceIdentity, options: CallOptions): Promise<ReleaseReport> {
  const attempt = new Attempt(conn, id, options);
  const owned = (await Promise.all(MANAGED_KINDS.map((kind) => attempt.listOwned(kind, id.selector)))).flat();
  let deleted = 0;
  let namespacesReleased = 0;
  // Bindings before policies, and everything before the namespaces lose their labels.
  const order = (obj: KubeObject) => (obj.kind === 'Namespace' ? 2 : obj.kind === 'ValidatingAdmissionPolicyBinding' ? 0 : 1);
  for (const rank of [0, 1, 2]) {
    await eachLimited(
      owned.filter((obj) => order(obj) === rank),
      options.parallelism,
      async (obj) => {
        if (obj.kind === 'Namespace') {
          if (await attempt.releaseNamespace(obj.metadata.name)) namespacesReleased++;
        } else if (await attempt.remove(obj)) deleted++;
      },
    );
  }
  attempt.check();
  return { deleted, namespacesReleased };
}
