import type { ServerResponse } from 'node:http';
import type { FieldRequirement } from '../fields.js';
import type { JsonObject } from '../json.js';
import type { Selector } from '../labels.js';
import { apiVersionOf, type ResourceType } from '../resources.js';
import { badRequest, KubeStatusError } from '../status.js';
import type { Change } from '../store/object-store.js';
import type { ResourceApi } from '../store/resource-api.js';
import { toTable, type IncludeObject } from './tables.js';

export type WatchRequest = {
  type: ResourceType;
  namespace?: string;
  labelSelector?: Selector;
  fieldSelector?: FieldRequirement[];
  /** Start after this resourceVersion; unset or "0": start with ADDED events for every object that exists now. */
  resourceVersion?: string;
  allowBookmarks: boolean;
  bookmarkIntervalMs: number;
  timeoutSeconds?: number;
  /** Send each object as a one-row Table (kubectl get -w). */
  table?: { apiVersion: string; includeObject: IncludeObject };
};

/**
 * Streams a watch as the API server does: HTTP 200, then one JSON object
 * per line, `{"type": "ADDED|MODIFIED|DELETED|BOOKMARK|ERROR", "object": …}`.
 * A resourceVersion older than the retained history gets an ERROR event
 * carrying a 410 Gone Status and the end of the stream (the client relists).
 * Returns a function that ends the stream.
 */
export function serveWatch(api: ResourceApi, res: ServerResponse, request: WatchRequest, now: () => number): () => void {
  const { type } = request;
  const selection = { namespace: request.namespace, labelSelector: request.labelSelector, fieldSelector: request.fieldSelector };
  let start: number | undefined;
  if (request.resourceVersion && request.resourceVersion !== '0') {
    start = Number(request.resourceVersion);
    if (!Number.isSafeInteger(start) || start < 0) throw badRequest(`invalid resource version: ${request.resourceVersion}`);
  }

  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
  res.flushHeaders();

  let ended = false;
  const timers: NodeJS.Timeout[] = [];
  let cancel = () => {};
  const end = () => {
    if (ended) return;
    ended = true;
    cancel();
    for (const timer of timers) clearInterval(timer);
    res.end();
  };
  res.on('close', end);

  const send = (eventType: string, object: JsonObject) => {
    if (ended) return;
    const payload =
      request.table && eventType !== 'ERROR' && eventType !== 'BOOKMARK'
        ? toTable(type, [object], { now: now(), includeObject: request.table.includeObject, apiVersion: request.table.apiVersion })
        : object;
    res.write(`${JSON.stringify({ type: eventType, object: payload })}\n`);
  };

  const onChange = (change: Change) => {
    const matchesNow = api.matches(type, change.object, selection);
    const matchedBefore = change.previous ? api.matches(type, change.previous, selection) : false;
    if (change.type === 'ADDED') {
      if (matchesNow) send('ADDED', change.object);
    } else if (change.type === 'DELETED') {
      if (matchesNow || matchedBefore) send('DELETED', change.object);
    } else if (matchesNow) {
      send(matchedBefore ? 'MODIFIED' : 'ADDED', change.object);
    } else if (matchedBefore) {
      send('DELETED', change.object);
    }
  };

  try {
    let from = start;
    if (from === undefined) {
      const initial = api.list(type, selection);
      for (const obj of initial.items) send('ADDED', obj);
      from = Number(initial.resourceVersion);
    }
    const subscription = api.store.subscribe(from, (change) => change.resource === type, onChange);
    cancel = () => subscription.cancel();
  } catch (error) {
    if (error instanceof KubeStatusError) {
      send('ERROR', error.toStatus());
      end();
      return end;
    }
    throw error;
  }

  if (request.allowBookmarks) {
    timers.push(
      setInterval(() => {
        send('BOOKMARK', { kind: type.kind, apiVersion: apiVersionOf(type), metadata: { resourceVersion: String(api.store.resourceVersion()) } });
      }, request.bookmarkIntervalMs).unref(),
    );
  }
  if (request.timeoutSeconds && request.timeoutSeconds > 0) {
    timers.push(setTimeout(end, request.timeoutSeconds * 1000).unref());
  }
  return end;
}
