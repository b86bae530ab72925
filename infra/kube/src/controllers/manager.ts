import type { Clock, TimerHandle } from '../clock.js';
import type { JsonObject } from '../json.js';
import type { ResourceType } from '../resources.js';
import { KubeStatusError } from '../status.js';
import type { Change, Subscription } from '../store/object-store.js';
import type { ResourceApi } from '../store/resource-api.js';

/** What a reconcile asks for: to run again after some time (the clock's), e.g. when a pod is due to start. */
export type ReconcileResult = { requeueAfterMs?: number } | void;

/**
 * A simulated controller: level-based, like Kubernetes' own. `keysFor`
 * maps a stored change to the keys (`namespace/name`) it must reconcile;
 * `reconcile` reads the current state through the API and writes the
 * difference.
 */
export interface Controller {
  readonly name: string;
  keysFor(change: Change): string[];
  /** Keys to reconcile when the manager starts (the existing objects of its kind). */
  initialKeys(): string[];
  reconcile(key: string): ReconcileResult;
}

export function keyOf(obj: JsonObject): string {
  const metadata = obj['metadata'] as JsonObject;
  return `${String(metadata['namespace'] ?? '')}/${String(metadata['name'])}`;
}

export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const slash = key.indexOf('/');
  const namespace = key.slice(0, slash);
  return { namespace: namespace || undefined, name: key.slice(slash + 1) };
}

/** Keys of every stored object of `type`. */
export function allKeys(api: ResourceApi, type: ResourceType | undefined): string[] {
  return type ? api.store.peekAll(type).map(keyOf) : [];
}

/**
 * Runs the controllers: every stored change is mapped to work items, and
 * the queue is drained right after the write that caused it (in a
 * microtask, so that every watcher has seen the change first) or inside the
 * clock's timer callbacks (so that a manual clock's `advance` settles the
 * cluster before it returns). A reconcile that fails with a Kubernetes
 * Status (a conflict, a refused write) is retried after `retryMs`.
 */
export class ControllerManager {
  private readonly queue = new Map<string, { controller: Controller; key: string }>();
  private readonly timers = new Map<string, { at: number; handle: TimerHandle }>();
  private subscription: Subscription | undefined;
  private draining = false;
  private scheduled = false;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly api: ResourceApi,
    private readonly clock: Clock,
    private readonly controllers: readonly Controller[],
    private readonly options: { retryMs?: number; onError?: (controller: string, key: string, error: unknown) => void } = {},
  ) {}

  start(): void {
    this.subscription = this.api.store.subscribe(undefined, () => true, (change) => this.onChange(change));
    for (const controller of this.controllers) for (const key of controller.initialKeys()) this.enqueue(controller, key);
    this.drain();
  }

  stop(): void {
    this.stopped = true;
    this.subscription?.cancel();
    for (const { handle } of this.timers.values()) handle.cancel();
    this.timers.clear();
    this.queue.clear();
    this.releaseIdle();
  }

  /** Resolves once no work is queued (timers may still be pending). */
  idle(): Promise<void> {
    if (this.queue.size === 0 && !this.draining) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private onChange(change: Change): void {
    if (this.stopped) return;
    for (const controller of this.controllers) for (const key of controller.keysFor(change)) this.enqueue(controller, key);
    if (!this.draining && !this.scheduled && this.queue.size > 0) {
      this.scheduled = true;
      queueMicrotask(() => {
        this.scheduled = false;
        this.drain();
      });
    }
  }

  private enqueue(controller: Controller, key: string): void {
    const id = `${controller.name}\u0000${key}`;
    if (!this.queue.has(id)) this.queue.set(id, { controller, key });
  }

  private drain(): void {
    if (this.draining || this.stopped) return;
    this.draining = true;
    let budget = 100_000;
    try {
      while (this.queue.size > 0 && budget-- > 0) {
        const [id, item] = this.queue.entries().next().value as [string, { controller: Controller; key: string }];
        this.queue.delete(id);
        let result: ReconcileResult;
        try {
          result = item.controller.reconcile(item.key);
        } catch (error) {
          this.options.onError?.(item.controller.name, item.key, error);
          if (!(error instanceof KubeStatusError)) console.error(`cluster simulator: controller ${item.controller.name} failed on ${item.key}`, error);
          result = { requeueAfterMs: this.options.retryMs ?? 1000 };
        }
        if (result?.requeueAfterMs !== undefined) this.requeueAfter(item.controller, item.key, result.requeueAfterMs);
      }
      if (budget <= 0) console.error('cluster simulator: controllers did not settle (work left after 100000 reconciles)');
    } finally {
      this.draining = false;
    }
    if (this.queue.size === 0) this.releaseIdle();
  }

  private releaseIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private requeueAfter(controller: Controller, key: string, delayMs: number): void {
    const id = `${controller.name}\u0000${key}`;
    const at = this.clock.now() + Math.max(0, delayMs);
    const existing = this.timers.get(id);
    if (existing && existing.at <= at) return;
    existing?.handle.cancel();
    const handle = this.clock.setTimer(() => {
      this.timers.delete(id);
      this.enqueue(controller, key);
      this.drain();
    }, Math.max(0, delayMs));
    this.timers.set(id, { at, handle });
  }
}
