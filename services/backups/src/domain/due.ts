import type { BackupState } from './backup.js';
import { cronEvaluator, nextRun } from './cron.js';
import type { BackupSchedule } from './schedules.js';

/** A schedule as the scheduler sees it: with its workspace and the due time of its latest recorded run. */
export interface ScheduleRuns {
  workspaceId: string;
  schedule: BackupSchedule;
  lastDueAt: string | undefined;
}

export interface DueRun {
  workspaceId: string;
  scheduleId: string;
  dueAt: Date;
}

/** How many cron steps one schedule may be walked forward in one call: a minutely schedule idle for ten weeks. */
const MAX_STEPS = 100_000;

/**
 * The runs due at `now`: for each active schedule, the latest time its cron
 * matches after both its latest recorded run and the moment it became
 * active (created, resumed or given a new cron), and not after `now`. Runs
 * missed meanwhile (the scheduler was down) are made up once, not once each,
 * as Velero's own schedules do. Paused schedules have no runs.
 */
export function dueRuns(schedules: Iterable<ScheduleRuns>, now: Date): DueRun[] {
  const due: DueRun[] = [];
  for (const { workspaceId, schedule, lastDueAt } of schedules) {
    if (schedule.paused || schedule.activeSince === undefined) continue;
    const since = lastDueAt !== undefined && Date.parse(lastDueAt) > Date.parse(schedule.activeSince) ? lastDueAt : schedule.activeSince;
    const cron = cronEvaluator(schedule.cron);
    let run = nextRun(cron, new Date(since));
    if (run === undefined || run.getTime() > now.getTime()) continue;
    for (let step = 0; step < MAX_STEPS; step++) {
      const next = nextRun(cron, run);
      if (next === undefined || next.getTime() > now.getTime()) break;
      run = next;
    }
    due.push({ workspaceId, scheduleId: schedule.scheduleId, dueAt: run });
  }
  return due;
}

/** The backups the expiry sweep deletes at `now`: past their expiry and still holding files. */
export function expiredBackups(backups: Iterable<BackupState>, now: Date): string[] {
  const expired: string[] = [];
  for (const backup of backups) {
    if (backup.request && !backup.gone && Date.parse(backup.request.expiresAt) <= now.getTime()) expired.push(backup.request.backupId);
  }
  return expired;
}
