import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import type { Leadership } from './leadership.js';

/** One piece of the cluster work, started when this process leads and stopped when it stops leading. */
export interface ClusterWorkPart<T extends { stop(): Promise<void> } = { stop(): Promise<void> }> {
  name: string;
  start(): Promise<T>;
}

/** The running pieces by name (empty while this process does not lead). */
export interface ClusterWork {
  /** The running piece of that name, if this process runs it now. */
  running<T>(name: string): T | undefined;
  /** For `/healthz`: whether this process leads, through what, and the pieces running. */
  describe(): { leading: boolean; leadership: string; running: string[] };
  /** Settles once the changes of leadership so far have been acted on (pieces started or stopped). */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The cluster work — whatever acts on the clusters or records what they do:
 * the reconciler, the workload watcher, the backup schedules and the Velero
 * driver, the usage collector — runs in one process of a deployment at a
 * time: the one that leads. It starts when this process takes leadership
 * and stops when it loses it; the API (queries, mutations, subscriptions)
 * is served by every process all along.
 */
export async function startClusterWork(options: {
  leadership: Leadership;
  parts: readonly ClusterWorkPart[];
  registry: Registry;
  logger: Logger;
  /** Wait before starting again a part that failed to start, while leading; default 5 s. */
  retryMs?: number;
}): Promise<ClusterWork> {
  const { leadership, parts, logger } = options;
  const running = new Map<string, { stop(): Promise<void> }>();
  const gauge = new Gauge({ name: 'canopy_cluster_work_leader', help: 'Whether this process leads and runs the cluster work (1) or stands by (0).', registers: [options.registry] });
  let transitions: Promise<void> = Promise.resolve();
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;

  const start = async () => {
    const started: string[] = [];
    const failed: string[] = [];
    for (const part of parts) {
      if (running.has(part.name)) continue;
      try {
        running.set(part.name, await part.start());
        started.push(part.name);
      } catch (error) {
        failed.push(part.name);
        logger.error({ err: error, part: part.name }, 'a part of the cluster work failed to start: trying again');
      }
    }
    gauge.set(1);
    if (started.length > 0) logger.info({ leadership: leadership.description, started, parts: [...running.keys()] }, 'this process leads: the cluster work runs here');
    // A part that could not start (the log or a database did not answer) is tried again while this process leads.
    if (failed.length > 0) {
      retry = setTimeout(() => follow(true), options.retryMs ?? 5000);
      retry.unref();
    }
  };
  const halt = async () => {
    clearTimeout(retry);
    for (const part of [...parts].reverse()) {
      const piece = running.get(part.name);
      if (!piece) continue;
      running.delete(part.name);
      await piece.stop().catch((error: unknown) => logger.error({ err: error, part: part.name }, 'a part of the cluster work failed to stop'));
    }
    gauge.set(0);
  };
  const follow = (leading: boolean) => {
    transitions = transitions.then(() => (leading && !stopped && leadership.leading ? start() : halt()));
  };

  leadership.onChange((leading) => {
    // On `stop` leadership is given up on purpose: nothing to warn about.
    if (!leading && !stopped) logger.warn({ leadership: leadership.description }, 'this process no longer leads: the cluster work stops here');
    follow(leading);
  });
  gauge.set(0);
  if (leadership.leading) follow(true);
  else logger.info({ leadership: leadership.description }, 'this process does not lead: it stands by for the cluster work');
  await transitions;

  return {
    running: <T>(name: string) => running.get(name) as T | undefined,
    describe: () => ({ leading: leadership.leading, leadership: leadership.description, running: [...running.keys()] }),
    settled: () => transitions,
    async stop() {
      stopped = true;
      await leadership.stop();
      follow(false);
      await transitions;
    },
  };
}
