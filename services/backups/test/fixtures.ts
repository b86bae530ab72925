import { expect } from '@jest/globals';
import { CanopyError, type ErrorCode, type WorkspaceRole } from '@canopy/schema';
import type { Actor } from '@canopy/workspaces';
import { evolveLocations, initialLocationsState, type BackupOptionsInput, type ClusterHealth, type LocationEvent, type LocationsState, type WorkspaceFacts } from '../src/index.js';

/** The workspace the domain tests run on: two clusters, four namespaces. */
export const ORG = 'org-1';
export const W = 'ws-web';
export const workspace: WorkspaceFacts = {
  workspaceId: W,
  organizationId: ORG,
  clusters: new Map([
    ['c-east', { name: 'east' }],
    ['c-west', { name: 'west' }],
  ]),
  namespaces: new Set(['shop', 'db', 'team-a', 'team-b']),
};

export const as = (userId: string, role: WorkspaceRole | undefined): Actor => ({ userId, role });
/** ada owns the workspace; bob is an admin, carol a member, dan a viewer; eve has no role. */
export const actors = { owner: as('ada', 'owner'), admin: as('bob', 'admin'), member: as('carol', 'member'), viewer: as('dan', 'viewer'), stranger: as('eve', undefined) };

const location = (locationId: string, workspaceId: string | null, name: string): LocationEvent => ({
  type: 'BackupLocationAdded',
  data: { organizationId: ORG, locationId, workspaceId, name, provider: 'aws', bucket: 'canopy-backups', prefix: `team/${name}`, credentials: { secretName: 'velero-credentials', key: 'cloud' } },
});

/** An organization-wide location, one of this workspace's own, and one of another workspace. */
export const locations: LocationsState = [location('loc-org', null, 'primary'), location('loc-own', W, 'local'), location('loc-other', 'ws-other', 'theirs')].reduce(
  evolveLocations,
  initialLocationsState,
);

export const allHealthy: ReadonlyMap<string, ClusterHealth> = new Map([
  ['c-east', { status: 'healthy' }],
  ['c-west', { status: 'healthy' }],
]);

export function options(overrides: Partial<BackupOptionsInput> = {}): BackupOptionsInput {
  return { prefix: 'nightly', locationId: 'loc-org', includeAllDisks: true, includeClusterResources: 'auto', namespaces: ['shop', 'db'], clusters: null, ...overrides };
}

/** Runs `fn` and checks it throws a CanopyError with this code and (a subset of) these details. */
export function expectError(fn: () => unknown, code: ErrorCode, details: Record<string, unknown> = {}): CanopyError {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(CanopyError);
  expect((thrown as CanopyError).code).toBe(code);
  expect((thrown as CanopyError).details).toMatchObject(details);
  return thrown as CanopyError;
}

export async function expectRejection(promise: Promise<unknown>, code: ErrorCode, details: Record<string, unknown> = {}): Promise<CanopyError> {
  let thrown: unknown;
  try {
    await promise;
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(CanopyError);
  expect((thrown as CanopyError).code).toBe(code);
  expect((thrown as CanopyError).details).toMatchObject(details);
  return thrown as CanopyError;
}
