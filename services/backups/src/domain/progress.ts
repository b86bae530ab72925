import type { FailedPhase, RunningPhase } from '@canopy/schema';

/** Where one cluster's Velero backup (or restore) is: `Pending` until its first report, then Velero's phase. */
export type ClusterPhase = 'Pending' | RunningPhase | 'Completed' | 'PartiallyFailed' | FailedPhase;

/** One planned cluster's run as its reports tell it. */
export interface ClusterRun {
  clusterId: string;
  clusterName: string;
  phase: ClusterPhase;
  /** Items backed up (or restored) so far, out of `totalItems` (Velero's estimate, which may grow). */
  itemsDone: number;
  totalItems: number;
  warnings: number;
  errors: number;
  startedAt: string | null;
  /** When the figures were read from the cluster. */
  observedAt: string | null;
  completedAt: string | null;
  message: string | null;
}

/** A workspace backup's or restore's state, from its clusters'. */
export type RunStatus = 'Pending' | 'InProgress' | 'Completed' | 'PartiallyFailed' | 'Failed';

export interface RunAggregate {
  status: RunStatus;
  clusters: {
    planned: number;
    /** Not reported yet. */
    pending: number;
    running: number;
    /** Finished with a file (restored): completed plus partially failed. */
    done: number;
    completed: number;
    partiallyFailed: number;
    failed: number;
    /** Not attempted (unhealthy, unreachable, …), as the request recorded. */
    skipped: number;
  };
  /** 0–100, whole: finished clusters count in full, running ones by items done; 100 only once every planned cluster has finished. */
  percent: number;
  itemsDone: number;
  totalItems: number;
  warnings: number;
  errors: number;
  /**
   * Seconds until the last running cluster finishes at the rate it has gone
   * so far (clusters run side by side), counted from `now`; 0 when finished;
   * null while a cluster has no rate yet (not started, or nothing done).
   */
  estimatedSecondsLeft: number | null;
  /** The earliest cluster start, and once every cluster finished, the latest completion. */
  startedAt: string | null;
  finishedAt: string | null;
}

export function isFinished(phase: ClusterPhase): boolean {
  return phase === 'Completed' || phase === 'PartiallyFailed' || phase === 'Failed' || phase === 'FailedValidation';
}

/**
 * The aggregate of a workspace backup or restore over its planned clusters
 * (`runs`) and the number it skipped. Status: `Completed` when every
 * cluster completed and none was skipped; `Failed` when none produced a
 * file (or none could be attempted); `PartiallyFailed` otherwise once all
 * have finished; before that `Pending` (no report yet) or `InProgress`.
 */
export function aggregateRuns(runs: readonly ClusterRun[], skipped: number, now: Date): RunAggregate {
  const count = (...phases: ClusterPhase[]) => runs.filter((run) => phases.includes(run.phase)).length;
  const completed = count('Completed');
  const partiallyFailed = count('PartiallyFailed');
  const failed = count('Failed', 'FailedValidation');
  const pending = count('Pending');
  const finished = completed + partiallyFailed + failed;
  const running = runs.length - finished - pending;
  const allFinished = finished === runs.length;

  let status: RunStatus;
  if (!allFinished) status = pending === runs.length ? 'Pending' : 'InProgress';
  else if (runs.length > 0 && completed === runs.length && skipped === 0) status = 'Completed';
  else if (completed + partiallyFailed === 0) status = 'Failed';
  else status = 'PartiallyFailed';

  const share = (run: ClusterRun) => (isFinished(run.phase) ? 1 : run.totalItems > 0 ? Math.min(1, run.itemsDone / run.totalItems) : 0);
  const mean = runs.length === 0 ? 1 : runs.reduce((sum, run) => sum + share(run), 0) / runs.length;
  const percent = allFinished ? 100 : Math.min(99, Math.floor(mean * 100));

  const sum = (pick: (run: ClusterRun) => number) => runs.reduce((total, run) => total + pick(run), 0);
  const starts = runs.map((run) => run.startedAt).filter((at): at is string => at !== null);
  const ends = runs.map((run) => run.completedAt).filter((at): at is string => at !== null);
  return {
    status,
    clusters: { planned: runs.length, pending, running, done: completed + partiallyFailed, completed, partiallyFailed, failed, skipped },
    percent,
    itemsDone: sum((run) => run.itemsDone),
    totalItems: sum((run) => run.totalItems),
    warnings: sum((run) => run.warnings),
    errors: sum((run) => run.errors),
    estimatedSecondsLeft: allFinished ? 0 : secondsLeft(runs, now),
    startedAt: starts.length ? earliest(starts) : null,
    finishedAt: allFinished && ends.length ? latest(ends) : null,
  };
}

/** The longest time left over the unfinished clusters, each at its own rate; null when one has no rate yet. */
function secondsLeft(runs: readonly ClusterRun[], now: Date): number | null {
  let longest = 0;
  for (const run of runs) {
    if (isFinished(run.phase)) continue;
    if (run.startedAt === null || run.observedAt === null || run.itemsDone === 0) return null;
    const observed = Date.parse(run.observedAt);
    const elapsed = (observed - Date.parse(run.startedAt)) / 1000;
    if (elapsed <= 0) return null;
    const remaining = Math.max(0, run.totalItems - run.itemsDone);
    const atObservation = remaining / (run.itemsDone / elapsed);
    longest = Math.max(longest, atObservation - Math.max(0, (now.getTime() - observed) / 1000));
  }
  return Math.max(0, Math.ceil(longest));
}

function earliest(times: readonly string[]): string {
  return times.reduce((a, b) => (Date.parse(b) < Date.parse(a) ? b : a));
}

function latest(times: readonly string[]): string {
  return times.reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a));
}
