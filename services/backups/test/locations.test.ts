import { describe, expect, it } from '@jest/globals';
import { ErrorCode, type WorkspaceRole } from '@canopy/schema';
import { decideLocations, evolveLocations, visibleLocations, type LocationActor, type LocationCommand, type LocationInput, type LocationsState } from '../src/index.js';
import { locations, ORG, W } from './fixtures.js';

const input = (overrides: Partial<LocationInput> = {}): LocationInput => ({
  name: 'archive',
  provider: 'aws',
  bucket: 'acme-archive',
  prefix: 'canopy/prod',
  credentials: { secretName: 'velero-archive', key: 'cloud' },
  ...overrides,
});

/** Organization owner or not; a role per workspace. */
const actor = (organizationOwner: boolean, roles: Record<string, WorkspaceRole> = {}): LocationActor => ({ userId: 'u', organizationOwner, roleIn: (workspaceId) => roles[workspaceId] });
const owner = actor(true);
const admin = actor(false, { [W]: 'admin' });
const member = actor(false, { [W]: 'member' });

const decide = (command: LocationCommand, who: LocationActor, state: LocationsState = locations) => decideLocations(ORG, command, state, who);
const add = (overrides: Partial<LocationInput> = {}, workspaceId: string | null = W, who = admin) => decide({ type: 'AddLocation', locationId: 'loc-new', workspaceId, input: input(overrides) }, who);

function code(fn: () => unknown): [string, unknown] {
  try {
    fn();
  } catch (error) {
    const e = error as { code: string; details: { field?: unknown } };
    return [e.code, e.details.field];
  }
  throw new Error('expected an error');
}

describe('backup locations', () => {
  it('a workspace admin adds a location to the workspace: name, provider, bucket, prefix and a credentials reference', () => {
    expect(add()).toEqual([
      {
        type: 'BackupLocationAdded',
        data: { organizationId: ORG, locationId: 'loc-new', workspaceId: W, name: 'archive', provider: 'aws', bucket: 'acme-archive', prefix: 'canopy/prod', credentials: { secretName: 'velero-archive', key: 'cloud' } },
      },
    ]);
  });

  it('only organization owners add organization-wide locations', () => {
    expect(add({}, null, owner)).toHaveLength(1);
    expect(code(() => add({}, null, admin))).toEqual([ErrorCode.FORBIDDEN, undefined]);
  });

  it('members and viewers manage no location; strangers are told the workspace does not exist', () => {
    expect(code(() => add({}, W, member))[0]).toBe(ErrorCode.FORBIDDEN);
    expect(code(() => add({}, W, actor(false, { [W]: 'viewer' })))[0]).toBe(ErrorCode.FORBIDDEN);
    expect(code(() => add({}, W, actor(false)))[0]).toBe(ErrorCode.NOT_FOUND);
  });

  it('a credential given instead of (or beside) a reference is refused, so it never reaches the log', () => {
    expect(code(() => add({ credentials: { secretName: 'velero', key: 'cloud', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' } }))).toEqual([ErrorCode.BAD_USER_INPUT, 'credentials']);
    expect(code(() => add({ credentials: 'AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG' }))).toEqual([ErrorCode.BAD_USER_INPUT, 'credentials']);
    expect(code(() => add({ credentials: { secretName: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', key: 'cloud' } }))).toEqual([ErrorCode.BAD_USER_INPUT, 'credentials']);
  });

  it.each([
    [{ name: 'Archive' }, 'name'],
    [{ provider: 'dropbox' }, 'provider'],
    [{ bucket: 'ab' }, 'bucket'],
    [{ bucket: 'Acme_Bucket' }, 'bucket'],
    [{ prefix: '/leading' }, 'prefix'],
    [{ prefix: 'a/../b' }, 'prefix'],
    [{ prefix: 'trailing/' }, 'prefix'],
  ])('bad fields are refused: %j', (overrides, field) => {
    expect(code(() => add(overrides))).toEqual([ErrorCode.BAD_USER_INPUT, field]);
  });

  it("names are unique among what a workspace sees: its own and the organization's", () => {
    expect(code(() => add({ name: 'primary' }))).toEqual([ErrorCode.NAME_TAKEN, 'name']);
    expect(code(() => add({ name: 'local' }))).toEqual([ErrorCode.NAME_TAKEN, 'name']);
    // Another workspace's location does not clash with this one's…
    expect(add({ name: 'theirs' })).toHaveLength(1);
    // …but an organization-wide one would be seen beside both.
    expect(code(() => add({ name: 'theirs' }, null, owner))).toEqual([ErrorCode.NAME_TAKEN, 'name']);
  });

  it('a workspace sees the organization-wide locations and its own', () => {
    expect(visibleLocations(locations, W).map((l) => l.name)).toEqual(['local', 'primary']);
    expect(visibleLocations(locations, 'ws-other').map((l) => l.name)).toEqual(['primary', 'theirs']);
  });

  it('a change applies the given fields; the same values record nothing', () => {
    const [event] = decide({ type: 'ChangeLocation', locationId: 'loc-own', changes: { credentials: { secretName: 'rotated', key: 'cloud' } } }, admin);
    expect(event).toMatchObject({ type: 'BackupLocationChanged', data: { locationId: 'loc-own', name: 'local', credentials: { secretName: 'rotated', key: 'cloud' } } });
    const state = evolveLocations(locations, event!);
    expect(state.locations.get('loc-own')!.credentials.secretName).toBe('rotated');
    expect(decide({ type: 'ChangeLocation', locationId: 'loc-own', changes: { name: 'local' } }, admin, state)).toEqual([]);
  });

  it("another workspace's location does not exist for this workspace's admin", () => {
    expect(code(() => decide({ type: 'ChangeLocation', locationId: 'loc-other', changes: { name: 'mine' } }, admin))).toEqual([ErrorCode.NOT_FOUND, 'locationId']);
    expect(code(() => decide({ type: 'RemoveLocation', locationId: 'loc-org', usedBy: { schedules: [], backups: 0 } }, admin))[0]).toBe(ErrorCode.FORBIDDEN);
  });

  it('a location still used by schedules or unexpired backups cannot be removed', () => {
    expect(code(() => decide({ type: 'RemoveLocation', locationId: 'loc-own', usedBy: { schedules: ['s1'], backups: 0 } }, admin))).toEqual([ErrorCode.CONFLICT, 'locationId']);
    expect(code(() => decide({ type: 'RemoveLocation', locationId: 'loc-own', usedBy: { schedules: [], backups: 2 } }, admin))).toEqual([ErrorCode.CONFLICT, 'locationId']);
    const removed = decide({ type: 'RemoveLocation', locationId: 'loc-own', usedBy: { schedules: [], backups: 0 } }, admin);
    expect(removed).toEqual([{ type: 'BackupLocationRemoved', data: { organizationId: ORG, locationId: 'loc-own', workspaceId: W, name: 'local' } }]);
    expect(evolveLocations(locations, removed[0]!).locations.has('loc-own')).toBe(false);
  });
});
