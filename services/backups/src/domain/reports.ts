import { z } from 'zod';
import { CanopyError, ErrorCode, Id, type FailedPhase, type RunningPhase } from '@canopy/schema';
import { parseField } from '@canopy/workspaces';
import { isFinished, type ClusterRun } from './progress.js';

/** Every phase of Velero's Backup and Restore objects. */
export const VeleroPhase = z.enum([
  'New',
  'FailedValidation',
  'InProgress',
  'WaitingForPluginOperations',
  'WaitingForPluginOperationsPartiallyFailed',
  'Finalizing',
  'FinalizingPartiallyFailed',
  'Completed',
  'PartiallyFailed',
  'Failed',
  'Deleting',
]);
export type VeleroPhase = z.infer<typeof VeleroPhase>;

const Count = z.number().int('must be a whole number').min(0, 'must be 0 or more').max(Number.MAX_SAFE_INTEGER);
const Time = z.iso.datetime({ offset: true });

/**
 * What the watcher of one cluster reads off the Velero Backup or Restore
 * object of a workspace backup or restore (status.phase, status.progress,
 * warnings, errors, timestamps), as it reports it.
 */
export const ClusterReport = z.object({
  clusterId: Id,
  phase: VeleroPhase,
  /** Items backed up or restored so far. */
  itemsDone: Count,
  totalItems: Count,
  warnings: Count,
  errors: Count,
  startedAt: Time.nullable(),
  /** Velero's completion time; for a finished phase, `observedAt` when absent. */
  completedAt: Time.nullable().optional(),
  observedAt: Time,
  /** Velero's failure reason or validation errors. */
  message: z.string().max(2048).optional(),
});
export type ClusterReport = z.infer<typeof ClusterReport>;

/** What a report means for its cluster's run. */
export type ReportOutcome =
  | { kind: 'progress'; phase: RunningPhase }
  | { kind: 'completed' }
  | { kind: 'partiallyFailed' }
  | { kind: 'failed'; phase: FailedPhase }
  /** Nothing to record: a repeat, a report after the cluster finished, or Velero deleting the object (recorded as the backup's expiry or deletion). */
  | { kind: 'none' };

/**
 * Checks a report and judges it against the cluster's run so far: reports
 * arrive at least once and maybe late, so a repeat or one about a finished
 * cluster records nothing. A cluster that is not part of the run is an error.
 */
export function judgeReport(input: unknown, runs: ReadonlyMap<string, ClusterRun>, what: string): { report: ClusterReport; outcome: ReportOutcome } {
  const report = parseField('report', ClusterReport, input);
  const run = runs.get(report.clusterId);
  if (!run) throw new CanopyError(ErrorCode.NOT_FOUND, `Cluster ${report.clusterId} is not part of this ${what}.`, { field: 'clusterId', clusterId: report.clusterId });
  if (isFinished(run.phase)) return { report, outcome: { kind: 'none' } };
  switch (report.phase) {
    case 'Completed':
      return { report, outcome: { kind: 'completed' } };
    case 'PartiallyFailed':
      return { report, outcome: { kind: 'partiallyFailed' } };
    case 'Failed':
    case 'FailedValidation':
      return { report, outcome: { kind: 'failed', phase: report.phase } };
    case 'Deleting':
      return { report, outcome: { kind: 'none' } };
    default: {
      const phase = runningPhase(report.phase);
      const same =
        run.phase === phase && run.itemsDone === report.itemsDone && run.totalItems === report.totalItems && run.warnings === report.warnings && run.errors === report.errors;
      return { report, outcome: same ? { kind: 'none' } : { kind: 'progress', phase } };
    }
  }
}

/** Velero's "…PartiallyFailed" intermediate phases are the running phase with errors already counted. */
function runningPhase(phase: 'New' | 'InProgress' | 'WaitingForPluginOperations' | 'WaitingForPluginOperationsPartiallyFailed' | 'Finalizing' | 'FinalizingPartiallyFailed'): RunningPhase {
  if (phase === 'WaitingForPluginOperationsPartiallyFailed') return 'WaitingForPluginOperations';
  if (phase === 'FinalizingPartiallyFailed') return 'Finalizing';
  return phase;
}

/** A planned cluster before any report. */
export function pendingRun(clusterId: string, clusterName: string): ClusterRun {
  return { clusterId, clusterName, phase: 'Pending', itemsDone: 0, totalItems: 0, warnings: 0, errors: 0, startedAt: null, observedAt: null, completedAt: null, message: null };
}

/** The figures every progress and outcome event carries. */
export function figures(report: ClusterReport): { totalItems: number; warnings: number; errors: number; startedAt: string | null } {
  return { totalItems: report.totalItems, warnings: report.warnings, errors: report.errors, startedAt: report.startedAt };
}
