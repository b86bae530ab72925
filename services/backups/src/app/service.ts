import type { EventLog } from '@canopy/eventstore';
import { BackupCommands, type ClusterHealthCheck, type WorkspaceLookup } from './commands.js';
import { BackupsDirectory } from './directory.js';
import { feedBackupsDirectory } from './feed.js';

export interface BackupsService {
  commands: BackupCommands;
  directory: BackupsDirectory;
  /** Records the backups schedules have due and expires the backups past their expiry, at `now`. */
  tick(now?: Date): Promise<void>;
  /** Runs `tick` every `intervalMs`, one at a time, until the returned ticking is stopped (or the service closes). */
  tickEvery(intervalMs: number): { stop(): Promise<void> };
  close(): Promise<void>;
}

export interface BackupsServiceOptions {
  log: EventLog;
  /** The workspaces service's directory (workspaces, their clusters, namespaces and members). */
  workspaces: WorkspaceLookup;
  health: ClusterHealthCheck;
  clock?: () => Date;
  /** Runs `tick` this often (milliseconds) from the start; without it, nothing runs on its own until `tickEvery`. */
  tickIntervalMs?: number;
  onError?: (error: unknown) => void;
}

/**
 * Starts the backups service on a log: folds the backup streams into the
 * directory (resolving once caught up), and with `tickIntervalMs` runs the
 * scheduler and the expiry sweep on a timer.
 */
export async function startBackupsService(options: BackupsServiceOptions): Promise<BackupsService> {
  const onError = options.onError ?? (() => {});
  const directory = new BackupsDirectory();
  const feed = feedBackupsDirectory(options.log, directory, onError);
  await feed.caughtUp;
  const commands = new BackupCommands({ log: options.log, directory, workspaces: options.workspaces, health: options.health, clock: options.clock });
  const tick = async (now?: Date) => {
    const { failed } = await commands.runDueSchedules(now);
    for (const failure of failed) onError(failure.error);
    await commands.expireBackups(now);
  };
  const tickings = new Set<{ stop(): Promise<void> }>();
  const tickEvery = (intervalMs: number) => {
    let ticking: Promise<void> | undefined;
    const timer = setInterval(() => {
      // One tick at a time: a slow one (many clusters' health) is not overlapped by the next.
      ticking ??= tick()
        .catch(onError)
        .finally(() => (ticking = undefined));
    }, intervalMs);
    timer.unref();
    const handle = {
      async stop() {
        clearInterval(timer);
        tickings.delete(handle);
        await ticking;
      },
    };
    tickings.add(handle);
    return handle;
  };
  if (options.tickIntervalMs !== undefined) tickEvery(options.tickIntervalMs);
  return {
    commands,
    directory,
    tick,
    tickEvery,
    async close() {
      for (const ticking of [...tickings]) await ticking.stop();
      await feed.close();
    },
  };
}

/** Until the clusters service reports health, every cluster counts as healthy. */
export const everyClusterHealthy: ClusterHealthCheck = async () => ({ status: 'healthy' });
