import { Gauge, Histogram, type Registry } from 'prom-client';

export type WaitOutcome = 'reached' | 'timeout' | 'failed' | 'stopped';

/**
 * The runner's metrics. They are registered while the runner runs
 * (`register` in start, `unregister` in stop), so one registry can see a
 * runner replaced by another.
 */
export class ProjectionMetrics {
  readonly wait = new Histogram({
    name: 'canopy_projection_wait_seconds',
    help: 'How long a read-your-writes wait took for the projections to reach a position, by outcome',
    labelNames: ['outcome'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [],
  });
  readonly lag: Gauge<'projector' | 'version'>;

  /** `lags` answers each projector's lag (head − position) when Prometheus scrapes. */
  constructor(lags: () => Promise<{ projector: string; version: number; lag: bigint }[]>) {
    this.lag = new Gauge({
      name: 'canopy_projection_lag_events',
      help: 'Events (log positions) between the head of the log and each projector’s checkpoint',
      labelNames: ['projector', 'version'] as const,
      registers: [],
      async collect() {
        try {
          const values = await lags();
          this.reset();
          for (const { projector, version, lag } of values) this.set({ projector, version: String(version) }, Number(lag));
        } catch {
          // The log is unreachable: keep the last values rather than fail the whole scrape.
        }
      },
    });
  }

  register(registry: Registry): void {
    registry.registerMetric(this.wait);
    registry.registerMetric(this.lag);
  }

  unregister(registry: Registry): void {
    registry.removeSingleMetric('canopy_projection_wait_seconds');
    registry.removeSingleMetric('canopy_projection_lag_events');
  }
}
