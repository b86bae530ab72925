import type { ClusterConnection } from '@canopy/kube';
import type { KubeObject } from '../status/status-of.js';
import { listAll } from './list.js';

export interface ResourceWatchHandlers {
  /** A full list: everything the collection holds now (what is not in it is gone). */
  listed(items: readonly KubeObject[]): void;
  /** One change from the watch. */
  changed(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: KubeObject): void;
  /** The watch works again (after a list, or a watch that resumed), or failed and will retry. */
  state(state: { healthy: true } | { healthy: false; message: string }): void;
}

export interface RetryOptions {
  /** First wait after a failure; doubles per failure in a row, up to `retryMaxMs`. */
  retryInitialMs: number;
  retryMaxMs: number;
  /** A watch that delivers nothing (no change, no bookmark) this long is dropped and opened again. */
  idleTimeoutMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { retryInitialMs: 500, retryMaxMs: 30_000, idleTimeoutMs: 300_000 };

type WatchEnd = { kind: 'closed' } | { kind: 'gone' } | { kind: 'failed'; error: unknown };

/**
 * List, then watch from the list's resourceVersion, for one collection
 * (a kind in a namespace). A watch that ends is opened again from the last
 * resourceVersion seen (bookmarks included); 410 Gone (history compacted)
 * relists; failures (unreachable, refused, 5xx) retry with back-off, resuming
 * where they stopped and relisting when that is too old.
 */
export class ResourceWatch {
  private stopped = false;
  private readonly abort = new AbortController();
  private current: AbortController | undefined;
  private wake: (() => void) | undefined;
  private endWatch: (() => void) | undefined;
  private readonly done: Promise<void>;

  constructor(
    private readonly connection: ClusterConnection,
    private readonly path: string,
    private readonly handlers: ResourceWatchHandlers,
    private readonly retry: RetryOptions = DEFAULT_RETRY,
  ) {
    this.done = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.current?.abort();
    this.endWatch?.();
    this.wake?.();
    await this.done;
  }

  private async run(): Promise<void> {
    let resourceVersion: string | undefined;
    let failures = 0;
    while (!this.stopped) {
      try {
        if (resourceVersion === undefined) {
          const listed = await listAll(this.connection, this.path, this.abort.signal);
          if (this.stopped) return;
          this.handlers.listed(listed.items);
          resourceVersion = listed.resourceVersion;
          failures = 0;
          this.handlers.state({ healthy: true });
        }
        const opened = Date.now();
        let delivered = false;
        const recovered = () => {
          if (failures === 0) return;
          failures = 0;
          this.handlers.state({ healthy: true });
        };
        const end = await this.watchFrom(
          resourceVersion,
          (rv) => {
            resourceVersion = rv;
            delivered = true;
            recovered();
          },
          recovered,
        );
        if (this.stopped) return;
        if (end.kind === 'gone') resourceVersion = undefined;
        else if (end.kind === 'failed') throw end.error;
        // A server that ends every watch at once would otherwise be asked again in a tight loop.
        else if (!delivered && Date.now() - opened < 1000) throw new Error('the watch ended as soon as it opened');
      } catch (error) {
        if (this.stopped) return;
        failures += 1;
        this.handlers.state({ healthy: false, message: describe(error) });
        await this.sleep(Math.min(this.retry.retryInitialMs * 2 ** (failures - 1), this.retry.retryMaxMs));
      }
    }
  }

  /** One watch request, until it ends; `seen` gets each resourceVersion it delivers, `accepted` is called once the server answered 200. */
  private watchFrom(resourceVersion: string, seen: (rv: string) => void, accepted: () => void): Promise<WatchEnd> {
    return new Promise<WatchEnd>((resolve) => {
      let ended = false;
      let idle: NodeJS.Timeout | undefined;
      const finish = (end: WatchEnd) => {
        if (ended) return;
        ended = true;
        clearTimeout(idle);
        controller?.abort();
        resolve(end);
      };
      const touch = () => {
        clearTimeout(idle);
        idle = setTimeout(() => finish({ kind: 'closed' }), this.retry.idleTimeoutMs);
        idle.unref();
      };
      let controller: AbortController | undefined;
      this.endWatch = () => finish({ kind: 'closed' });
      touch();
      this.connection.watch
        .watch(
          this.path,
          { resourceVersion, allowWatchBookmarks: true },
          (type: string, object: KubeObject & { code?: number; message?: string }) => {
            if (ended) return;
            touch();
            if (type === 'ERROR') {
              finish(object.code === 410 ? { kind: 'gone' } : { kind: 'failed', error: new Error(`watch error ${object.code ?? '?'}: ${object.message ?? ''}`) });
              return;
            }
            const rv = object.metadata?.resourceVersion;
            if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') this.handlers.changed(type, object);
            if (rv) seen(rv);
          },
          (error: unknown) => finish(error ? { kind: 'failed', error } : { kind: 'closed' }),
        )
        .then((started) => {
          controller = started;
          this.current = started;
          if (ended || this.stopped) started.abort();
          else accepted();
        })
        .catch((error: unknown) => finish({ kind: 'failed', error }));
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown; statusCode?: unknown }).code ?? (error as { statusCode?: unknown }).statusCode;
    const cause = (error as { cause?: { code?: unknown } }).cause?.code;
    return [error.message, code ?? cause].filter((part) => part !== undefined && part !== '').join(' ').slice(0, 300);
  }
  return String(error).slice(0, 300);
}
