import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { EventStore } from '@canopy/eventstore';

/** Process metrics plus, in a process with the log open, the log's head position, read when Prometheus scrapes. */
export function createMetrics(store?: EventStore): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'canopy_' });
  if (!store) return registry;
  new Gauge({
    name: 'canopy_log_head_position',
    help: 'Position of the last event in the log (0 when empty).',
    registers: [registry],
    async collect() {
      this.set(Number((await store.headPosition()) ?? 0n));
    },
  });
  return registry;
}
