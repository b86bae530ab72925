/**
 * The cluster work follows leadership: its parts start when the process
 * leads, stop (in reverse order) when it no longer does, start again when
 * it leads again; a part that fails to start is tried again while leading.
 * Leadership here is a switch of the test's own (the PostgreSQL one is
 * tested on the server in leadership.postgres.test.ts).
 */
import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { startClusterWork, type ClusterWorkPart } from '../src/cluster-work.js';
import type { Leadership } from '../src/leadership.js';
import { eventually } from './api/ws-client.js';

/** A leadership the test hands over and takes back. */
function switchable(leading: boolean): Leadership & { set(leading: boolean): void } {
  const listeners: ((leading: boolean) => void)[] = [];
  const leadership = {
    leading,
    description: 'test switch',
    onChange: (listener: (leading: boolean) => void) => void listeners.push(listener),
    stop: async () => leadership.set(false),
    set(next: boolean) {
      if (leadership.leading === next) return;
      leadership.leading = next;
      for (const listener of listeners) listener(next);
    },
  };
  return leadership;
}

/** Parts that record what happened to them, in order; `failures` of a part's starts fail first. */
function recordingParts(names: string[], failures: Record<string, number> = {}) {
  const log: string[] = [];
  const parts: ClusterWorkPart[] = names.map((name) => ({
    name,
    start: async () => {
      if ((failures[name] ?? 0) > 0) {
        failures[name]! -= 1;
        log.push(`${name} failed`);
        throw new Error(`${name} cannot start yet`);
      }
      log.push(`${name} started`);
      return { stop: async () => void log.push(`${name} stopped`) };
    },
  }));
  return { parts, log };
}

async function leaderGauge(registry: Registry): Promise<number | undefined> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === 'canopy_cluster_work_leader');
  return metric?.values[0]?.value;
}

const logger = pino({ level: 'silent' });

describe('the cluster work follows leadership', () => {
  it('starts its parts when leading, stops them in reverse order when not, and starts them again', async () => {
    const leadership = switchable(false);
    const { parts, log } = recordingParts(['reconciler', 'watcher']);
    const registry = new Registry();
    const work = await startClusterWork({ leadership, parts, registry, logger });
    expect(log).toEqual([]);
    expect(work.describe()).toEqual({ leading: false, leadership: 'test switch', running: [] });
    expect(await leaderGauge(registry)).toBe(0);

    leadership.set(true);
    await work.settled();
    expect(log).toEqual(['reconciler started', 'watcher started']);
    expect(work.running('reconciler')).toBeDefined();
    expect(await leaderGauge(registry)).toBe(1);

    leadership.set(false);
    await work.settled();
    expect(log.slice(2)).toEqual(['watcher stopped', 'reconciler stopped']);
    expect(work.running('reconciler')).toBeUndefined();
    expect(await leaderGauge(registry)).toBe(0);

    leadership.set(true);
    await work.settled();
    await work.stop();
    expect(log.slice(4)).toEqual(['reconciler started', 'watcher started', 'watcher stopped', 'reconciler stopped']);
    expect(leadership.leading).toBe(false);
  });

  it('tries a part that failed to start again while leading, and the others run meanwhile', async () => {
    const leadership = switchable(true);
    const { parts, log } = recordingParts(['reconciler', 'watcher'], { reconciler: 2 });
    const work = await startClusterWork({ leadership, parts, registry: new Registry(), logger, retryMs: 20 });
    expect(work.describe().running).toEqual(['watcher']);
    await eventually(() => work.running('reconciler') !== undefined, 'the reconciler to start on a later try');
    expect(log).toEqual(['reconciler failed', 'watcher started', 'reconciler failed', 'reconciler started']);
    await work.stop();
  });

  it('stops trying once it no longer leads', async () => {
    const leadership = switchable(true);
    const { parts, log } = recordingParts(['reconciler'], { reconciler: 1 });
    const work = await startClusterWork({ leadership, parts, registry: new Registry(), logger, retryMs: 20 });
    leadership.set(false);
    await work.settled();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(log).toEqual(['reconciler failed']);
    await work.stop();
  });

  it('warns when leadership is lost, not when the process gives it up as it stops', async () => {
    const warnings: string[] = [];
    const capturing = pino({ level: 'warn' }, { write: (line: string) => void warnings.push((JSON.parse(line) as { msg: string }).msg) });
    const leadership = switchable(true);
    const work = await startClusterWork({ leadership, parts: recordingParts(['reconciler']).parts, registry: new Registry(), logger: capturing });
    leadership.set(false);
    await work.settled();
    expect(warnings).toEqual(['this process no longer leads: the cluster work stops here']);
    leadership.set(true);
    await work.settled();
    await work.stop();
    expect(warnings).toHaveLength(1);
  });
});
