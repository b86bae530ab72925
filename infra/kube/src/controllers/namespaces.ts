import { getPath } from '../json.js';
import type { ResourceType } from '../resources.js';
import type { Change } from '../store/object-store.js';
import type { ResourceApi } from '../store/resource-api.js';
import { allKeys, splitKey, type Controller, type ReconcileResult } from './manager.js';
import { CONTROLLER_MANAGER, isDeleting, nameOf, namespaceOf } from './util.js';

/**
 * Namespaces: every active namespace gets its `default` ServiceAccount
 * (recreated if deleted); a namespace being deleted (phase Terminating)
 * has its content deleted, then goes.
 */
export class NamespaceController implements Controller {
  readonly name = 'namespaces';
  private readonly nsType: ResourceType;
  private readonly saType: ResourceType;

  constructor(private readonly api: ResourceApi) {
    this.nsType = api.resource('v1', 'Namespace');
    this.saType = api.resource('v1', 'ServiceAccount');
  }

  initialKeys(): string[] {
    return allKeys(this.api, this.nsType);
  }

  keysFor(change: Change): string[] {
    if (change.resource === this.nsType) return change.type === 'DELETED' ? [] : [`/${nameOf(change.object)}`];
    if (change.resource === this.saType && change.type === 'DELETED' && nameOf(change.object) === 'default') return [`/${namespaceOf(change.object) ?? ''}`];
    return [];
  }

  reconcile(key: string): ReconcileResult {
    const { name } = splitKey(key);
    const ns = this.api.store.peek(this.nsType, undefined, name);
    if (!ns) return;
    if (isDeleting(ns)) {
      for (const type of this.api.registry.all()) {
        if (!type.namespaced) continue;
        for (const obj of this.api.store.peekAll(type, name)) this.api.removeNow(type, name, nameOf(obj));
      }
      this.api.removeNow(this.nsType, undefined, name);
      return;
    }
    if (getPath(ns, 'status.phase') === 'Active' && !this.api.store.peek(this.saType, name, 'default')) {
      this.api.create(this.saType, name, { metadata: { name: 'default' } }, { manager: CONTROLLER_MANAGER });
    }
    return;
  }
}
