import { randomBytes } from 'node:crypto';
import { timestamp } from '../clock.js';
import { clone, type JsonObject } from '../json.js';
import { apiVersionOf, type ResourceType } from '../resources.js';
import { KubeStatusError } from '../status.js';
import type { ResourceApi } from '../store/resource-api.js';
import { metadataOf, nameOf, namespaceOf, uidOf } from './util.js';

/**
 * Core v1 Events, as controllers and kubelets record them (what `kubectl
 * describe` shows under Events). A repeat of the same event on the same
 * object bumps its count. At most `limit` events are kept: the oldest go
 * first (a real cluster expires them after an hour).
 */
export class EventRecorder {
  private readonly index = new Map<string, { namespace: string; name: string }>();
  private readonly order: { namespace: string; name: string; key: string }[] = [];
  private readonly eventType: ResourceType;

  constructor(
    private readonly api: ResourceApi,
    private readonly limit = 1000,
  ) {
    this.eventType = api.resource('v1', 'Event');
  }

  record(involved: JsonObject, involvedType: ResourceType, type: 'Normal' | 'Warning', reason: string, message: string, component: string, host?: string): void {
    const namespace = namespaceOf(involved) ?? 'default';
    const key = `${uidOf(involved)}\u0000${type}\u0000${reason}\u0000${message}`;
    const now = this.api.clock.now();
    const time = timestamp(now);
    try {
      const known = this.index.get(key);
      const existing = known ? this.api.store.peek(this.eventType, known.namespace, known.name) : undefined;
      if (existing) {
        const next = clone(existing);
        next['count'] = Number(existing['count'] ?? 1) + 1;
        next['lastTimestamp'] = time;
        this.api.update(this.eventType, known!.namespace, known!.name, next, { manager: component });
        return;
      }
      const name = `${nameOf(involved)}.${randomBytes(8).toString('hex')}`;
      const event: JsonObject = {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace },
        involvedObject: {
          apiVersion: apiVersionOf(involvedType),
          kind: involvedType.kind,
          name: nameOf(involved),
          uid: uidOf(involved),
          resourceVersion: String(metadataOf(involved)['resourceVersion'] ?? ''),
          ...(namespaceOf(involved) ? { namespace: namespaceOf(involved)! } : {}),
        },
        reason,
        message,
        type,
        count: 1,
        firstTimestamp: time,
        lastTimestamp: time,
        eventTime: null,
        source: host ? { component, host } : { component },
        reportingComponent: component,
        reportingInstance: host ?? '',
      };
      this.api.create(this.eventType, namespace, event, { manager: component });
      this.index.set(key, { namespace, name });
      this.order.push({ namespace, name, key });
      while (this.order.length > this.limit) {
        const oldest = this.order.shift()!;
        this.index.delete(oldest.key);
        if (this.api.store.peek(this.eventType, oldest.namespace, oldest.name)) this.api.removeNow(this.eventType, oldest.namespace, oldest.name);
      }
    } catch (error) {
      // An event that cannot be recorded (e.g. its namespace is being deleted) is dropped, as on a real cluster.
      if (!(error instanceof KubeStatusError)) throw error;
    }
  }
}
