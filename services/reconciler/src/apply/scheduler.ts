import type { Clock, TimerHandle } from '@canopy/kube';

export interface RetryPolicy {
  /** First retry after about this long; each further failure doubles it. */
  initialMs: number;
  maxMs: number;
}

/** The delay before retry `attempt` (1, 2, …): exponential, capped, with jitter between half and all of it so that clusters that failed together do not retry together. */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

interface Target {
  /** A change came in since the current or last run began. */
  dirty: boolean;
  running: boolean;
  queued: boolean;
  failures: number;
  retry: TimerHandle | undefined;
  forgotten: boolean;
}

/**
 * Runs work per target (one workspace on one cluster) with a queue per
 * target that coalesces: however many changes arrive while a target runs or
 * waits, it runs once more, on the latest state. At most `concurrency`
 * targets run at once; the others wait their turn in arrival order. A
 * failed run is retried with backoff; a change arriving meanwhile runs at
 * once (it may be the fix), a resync does not (it would defeat the backoff).
 */
export class Scheduler {
  private readonly targets = new Map<string, Target>();
  private readonly ready: string[] = [];
  private active = 0;
  private stopped = false;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(
    private readonly run: (key: string) => Promise<boolean>,
    private readonly options: { concurrency: number; retry: RetryPolicy; clock: Clock; onError: (key: string, error: unknown) => void },
  ) {}

  /** Something about the target changed: run it soon. */
  schedule(key: string): void {
    const target = this.target(key);
    target.dirty = true;
    target.retry?.cancel();
    target.retry = undefined;
    this.enqueue(key, target);
  }

  /** The periodic resync: run every target that is not waiting out a backoff. */
  resync(keys: Iterable<string>): void {
    for (const key of keys) {
      const target = this.target(key);
      if (target.retry) continue;
      target.dirty = true;
      this.enqueue(key, target);
    }
  }

  /** Forgets a target (its work is done for good); a run in progress finishes. */
  forget(key: string): void {
    const target = this.targets.get(key);
    if (!target) return;
    target.retry?.cancel();
    target.retry = undefined;
    target.forgotten = true;
    this.targets.delete(key);
  }

  /** Whether the target waits out a backoff after a failure. */
  backingOff(key: string): boolean {
    return this.targets.get(key)?.retry !== undefined;
  }

  /** Resolves once nothing runs or waits to run (backoff timers aside). */
  idle(): Promise<void> {
    if (this.active === 0 && this.ready.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops starting runs and cancels retries; resolves once the runs in progress end. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const target of this.targets.values()) target.retry?.cancel();
    this.ready.length = 0;
    await this.idle();
  }

  private target(key: string): Target {
    let target = this.targets.get(key);
    if (!target) {
      target = { dirty: false, running: false, queued: false, failures: 0, retry: undefined, forgotten: false };
      this.targets.set(key, target);
    }
    return target;
  }

  private enqueue(key: string, target: Target): void {
    if (this.stopped || target.running || target.queued) return;
    target.queued = true;
    this.ready.push(key);
    this.pump();
  }

  private pump(): void {
    while (!this.stopped && this.active < this.options.concurrency && this.ready.length > 0) {
      const key = this.ready.shift()!;
      const target = this.targets.get(key);
      if (!target || target.forgotten) continue;
      target.queued = false;
      target.running = true;
      target.dirty = false;
      this.active++;
      void this.execute(key, target);
    }
    if (this.active === 0 && this.ready.length === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private async execute(key: string, target: Target): Promise<void> {
    let ok = false;
    try {
      ok = await this.run(key);
    } catch (error) {
      this.options.onError(key, error);
    }
    this.active--;
    target.running = false;
    if (target.forgotten) {
      // Its work is done for good.
    } else if (target.dirty) {
      this.enqueue(key, target);
    } else if (!ok && !this.stopped) {
      target.failures++;
      target.retry = this.options.clock.setTimer(() => {
        target.retry = undefined;
        this.schedule(key);
      }, backoffDelay(this.options.retry, target.failures));
    }
    if (ok) target.failures = 0;
    this.pump();
  }
}
