import DataLoader from 'dataloader';
import type { ReadModelTx } from '@canopy/projections';
import type { WorkspaceRole } from '@canopy/schema';
import { effectiveRole } from '@canopy/workspaces';
import type { WorkspaceLookup } from '../app/commands.js';
import type { BackupsDirectory } from '../app/directory.js';
import { visibleLocations } from '../domain/locations.js';
import { backupsById, backupsPage, restoresById, restoresPage, type BackupDetail, type RestoreDetail } from '../read-model/queries.js';
import type { BackupsReads } from './context.js';

/** Where the reads go. */
export interface BackupsReadSource {
  /** The read models' database. */
  db: ReadModelTx;
  /** The schema the `backups` projector is served from right now (`runner.activeSchema('backups')`: blue/green moves it). */
  schema(): string;
  /** Schedules and locations: the backups service's directory (folded from the log). */
  directory: BackupsDirectory;
  /** The workspaces service's directory: which organization a workspace belongs to, and (unless `roleIn` is given) who holds which role. */
  workspaces: WorkspaceLookup;
  /**
   * The caller's effective role in a workspace, when it should come from
   * elsewhere than the directory: the workspaces read models (their
   * `WorkspaceReads.roleIn`), say, so that access follows the same
   * read-your-writes as the workspaces subgraph's.
   */
  roleIn?(workspaceId: string): Promise<WorkspaceRole | undefined>;
  /** Awaited before every read-model query (read-your-writes: until the read models reflect the caller's writes). */
  ready?(): Promise<unknown>;
  /** The time estimates and next runs are computed at; default the system clock. */
  clock?: () => Date;
}

/**
 * The caller's reads for one request. Backups and restores by id go
 * through a DataLoader: the lookups of one tick (a page's details, say)
 * become two statements, and a repeated lookup is answered from the
 * request's cache.
 */
export function backupsReads(source: BackupsReadSource, userId: string): BackupsReads {
  const { db, directory, workspaces } = source;
  const clock = source.clock ?? (() => new Date());
  const ready = async (): Promise<void> => {
    await source.ready?.();
  };
  const backups = new DataLoader<string, BackupDetail | undefined>(async (ids) => {
    await ready();
    const found = await backupsById(db, source.schema(), ids, clock());
    return ids.map((id) => found.get(id));
  });
  const restores = new DataLoader<string, RestoreDetail | undefined>(async (ids) => {
    await ready();
    const found = await restoresById(db, source.schema(), ids, clock());
    return ids.map((id) => found.get(id));
  });
  return {
    async roleIn(workspaceId) {
      if (source.roleIn) return source.roleIn(workspaceId);
      const view = workspaces.workspace(workspaceId);
      return view && effectiveRole(view, userId);
    },
    async organizationOf(workspaceId) {
      return workspaces.workspace(workspaceId)?.organizationId;
    },
    async backupsPage(query) {
      await ready();
      return backupsPage(db, source.schema(), query);
    },
    async restoresPage(query) {
      await ready();
      return restoresPage(db, source.schema(), query);
    },
    backup: (backupId) => backups.load(backupId),
    restore: (restoreId) => restores.load(restoreId),
    async schedules(workspaceId) {
      return [...directory.schedulesOf(workspaceId).state.schedules.values()].sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0));
    },
    async locations(workspaceId) {
      const organizationId = workspaces.workspace(workspaceId)?.organizationId;
      return organizationId === undefined ? [] : visibleLocations(directory.locationsOf(organizationId).state, workspaceId);
    },
    now: clock,
  };
}
