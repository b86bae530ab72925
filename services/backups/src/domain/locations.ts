import {
  BackupProvider,
  BucketName,
  CanopyError,
  CredentialsReference,
  ErrorCode,
  KubernetesName,
  ObjectPrefix,
  type backupLocationEvents,
  type EventOf,
  type WorkspaceRole,
} from '@canopy/schema';
import { authorize, parseField } from '@canopy/workspaces';
import { givenFields } from './patch.js';

/** The events of a `backup-locations-{organizationId}` stream. */
export type LocationEvent = EventOf<(typeof backupLocationEvents)[number]>;

export interface BackupLocation {
  locationId: string;
  /** Null: organization-wide, visible to every workspace of the organization. */
  workspaceId: string | null;
  name: string;
  provider: BackupProvider;
  bucket: string;
  prefix: string;
  credentials: CredentialsReference;
}

export interface LocationsState {
  locations: ReadonlyMap<string, BackupLocation>;
}

export const initialLocationsState: LocationsState = { locations: new Map() };

/** A location's fields as users send them (unchecked). */
export interface LocationInput {
  name: string;
  provider: string;
  bucket: string;
  prefix?: string;
  credentials: unknown;
}

export type LocationCommand =
  | { type: 'AddLocation'; locationId: string; workspaceId: string | null; input: LocationInput }
  | { type: 'ChangeLocation'; locationId: string; changes: Partial<LocationInput> }
  /** `usedBy` comes from the schedules and backups: a location they still need cannot be removed. */
  | { type: 'RemoveLocation'; locationId: string; usedBy: { schedules: readonly string[]; backups: number } };

/**
 * Who acts on an organization's locations: organization owners manage the
 * organization-wide ones; a workspace's admins and owners manage that
 * workspace's own (`roleIn` answers the actor's effective role there).
 */
export interface LocationActor {
  userId: string;
  organizationOwner: boolean;
  roleIn(workspaceId: string): WorkspaceRole | undefined;
}

/**
 * Decides a command on an organization's backup locations. Names are unique
 * among what one workspace sees (the organization's locations and its
 * own), so an organization-wide name must be free in every workspace.
 */
export function decideLocations(organizationId: string, command: LocationCommand, state: LocationsState, actor: LocationActor): LocationEvent[] {
  switch (command.type) {
    case 'AddLocation': {
      authorizeScope(actor, command.workspaceId, organizationId);
      if (state.locations.has(command.locationId)) {
        throw new CanopyError(ErrorCode.CONFLICT, `Backup location ${command.locationId} already exists.`, { locationId: command.locationId });
      }
      const location = { locationId: command.locationId, workspaceId: command.workspaceId, ...parseLocation(command.input) };
      assertNameFree(state, location);
      return [{ type: 'BackupLocationAdded', data: { organizationId, ...location } }];
    }

    case 'ChangeLocation': {
      const current = existing(state, command.locationId, actor);
      authorizeScope(actor, current.workspaceId, organizationId);
      const next: BackupLocation = { ...current, ...parseLocation({ ...current, ...givenFields(command.changes) }) };
      if (sameLocation(current, next)) return [];
      assertNameFree(state, next);
      return [{ type: 'BackupLocationChanged', data: { organizationId, ...next } }];
    }

    case 'RemoveLocation': {
      const current = existing(state, command.locationId, actor);
      authorizeScope(actor, current.workspaceId, organizationId);
      const { schedules, backups } = command.usedBy;
      if (schedules.length > 0 || backups > 0) {
        throw new CanopyError(
          ErrorCode.CONFLICT,
          `Backup location ${current.name} is still used by ${schedules.length} schedule(s) and ${backups} backup(s) not yet expired; change or delete the schedules and let the backups expire (or delete them) first.`,
          { field: 'locationId', schedules, backups },
        );
      }
      return [{ type: 'BackupLocationRemoved', data: { organizationId, locationId: current.locationId, workspaceId: current.workspaceId, name: current.name } }];
    }
  }
}

export function evolveLocations(state: LocationsState, event: LocationEvent): LocationsState {
  const locations = new Map(state.locations);
  switch (event.type) {
    case 'BackupLocationAdded':
    case 'BackupLocationChanged': {
      const { organizationId: _organization, ...location } = event.data;
      locations.set(location.locationId, location);
      break;
    }
    case 'BackupLocationRemoved':
      locations.delete(event.data.locationId);
      break;
  }
  return { locations };
}

/** The location if the workspace may use it (organization-wide or its own), else undefined. */
export function visibleLocation(state: LocationsState, workspaceId: string, locationId: string): BackupLocation | undefined {
  const location = state.locations.get(locationId);
  return location && (location.workspaceId === null || location.workspaceId === workspaceId) ? location : undefined;
}

/** The locations a workspace may use, by name. */
export function visibleLocations(state: LocationsState, workspaceId: string): BackupLocation[] {
  return [...state.locations.values()].filter((l) => l.workspaceId === null || l.workspaceId === workspaceId).sort((a, b) => (a.name < b.name ? -1 : 1));
}

function parseLocation(input: LocationInput): Omit<BackupLocation, 'locationId' | 'workspaceId'> {
  return {
    name: parseField('name', KubernetesName, input.name),
    provider: parseField('provider', BackupProvider, input.provider),
    bucket: parseField('bucket', BucketName, input.bucket),
    prefix: parseField('prefix', ObjectPrefix, input.prefix ?? ''),
    // Strict: a credential pasted beside the reference (an access key, a password) is refused, never stored.
    credentials: parseField('credentials', CredentialsReference, input.credentials),
  };
}

function authorizeScope(actor: LocationActor, workspaceId: string | null, organizationId: string): void {
  if (workspaceId !== null) {
    authorize({ userId: actor.userId, role: actor.roleIn(workspaceId) }, 'manageBackups', workspaceId);
  } else if (!actor.organizationOwner) {
    throw new CanopyError(ErrorCode.FORBIDDEN, 'Only an owner of the organization manages its organization-wide backup locations; a workspace admin can add one to the workspace.', {
      organizationId,
    });
  }
}

/** A location the actor cannot see is one that does not exist, for them. */
function existing(state: LocationsState, locationId: string, actor: LocationActor): BackupLocation {
  const location = state.locations.get(locationId);
  const visible = location && (location.workspaceId === null || actor.organizationOwner || actor.roleIn(location.workspaceId) !== undefined);
  if (!location || !visible) throw new CanopyError(ErrorCode.NOT_FOUND, `Backup location ${locationId} does not exist.`, { field: 'locationId', locationId });
  return location;
}

function assertNameFree(state: LocationsState, location: BackupLocation): void {
  for (const other of state.locations.values()) {
    if (other.locationId === location.locationId || other.name !== location.name) continue;
    // Both are seen together when either is organization-wide or both belong to the same workspace.
    if (other.workspaceId === null || location.workspaceId === null || other.workspaceId === location.workspaceId) {
      throw new CanopyError(ErrorCode.NAME_TAKEN, `A backup location named ${location.name} is already visible ${other.workspaceId === null ? 'to every workspace of the organization' : 'in that workspace'}.`, {
        field: 'name',
        locationId: other.locationId,
      });
    }
  }
}

function sameLocation(a: BackupLocation, b: BackupLocation): boolean {
  return (
    a.name === b.name &&
    a.provider === b.provider &&
    a.bucket === b.bucket &&
    a.prefix === b.prefix &&
    a.credentials.secretName === b.credentials.secretName &&
    a.credentials.key === b.credentials.key
  );
}
