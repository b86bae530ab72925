import { describe, expect, it } from '@jest/globals';
import { ErrorCode, type WorkspaceRole } from '@canopy/schema';
import {
  decideOrganization,
  evolveOrganization,
  initialOrganizationState,
  type Actor,
  type OrganizationCommand,
  type OrganizationEvent,
} from '../src/index.js';
import { decider } from './decider.js';

const ada: Actor = { userId: 'ada', role: 'owner' };
const as = (userId: string, role: WorkspaceRole | undefined): Actor => ({ userId, role });
const given = (actor: Actor) =>
  decider<typeof initialOrganizationState, OrganizationCommand, OrganizationEvent>(
    (command, state) => decideOrganization(command, state, actor),
    evolveOrganization,
    initialOrganizationState,
  );

const teamCreated: OrganizationEvent = {
  type: 'OrganizationCreated',
  data: { organizationId: 'org-1', name: 'Acme', kind: 'team', ownerId: 'ada', defaultWorkspace: { workspaceId: 'ws-default', name: 'default' } },
};
const personalCreated: OrganizationEvent = {
  type: 'OrganizationCreated',
  data: { organizationId: 'org-2', name: 'Ada', kind: 'personal', ownerId: 'ada', defaultWorkspace: { workspaceId: 'ws-personal', name: 'personal' } },
};
const webCreated: OrganizationEvent = {
  type: 'WorkspaceCreated',
  data: { organizationId: 'org-1', workspaceId: 'ws-web', name: 'web', kind: 'project', stage: null, description: '', createdBy: 'ada' },
};

describe('organizations', () => {
  it('creating an organization creates its default workspace in the same change, owned by the creator', () => {
    given(ada)([])
      .when({ type: 'CreateOrganization', organizationId: 'org-1', name: 'Acme', kind: 'team', defaultWorkspaceId: 'ws-default' })
      .then([teamCreated]);
    given(ada)([])
      .when({ type: 'CreateOrganization', organizationId: 'org-2', name: 'Ada', kind: 'personal', defaultWorkspaceId: 'ws-personal' })
      .then([personalCreated]);
  });

  it('an organization cannot be created twice', () => {
    given(ada)([teamCreated]).when({ type: 'CreateOrganization', organizationId: 'org-1', name: 'Acme', kind: 'team', defaultWorkspaceId: 'x' }).thenFails(ErrorCode.CONFLICT);
  });

  it('an organization needs a name', () => {
    given(ada)([]).when({ type: 'CreateOrganization', organizationId: 'o', name: '  ', kind: 'team', defaultWorkspaceId: 'w' }).thenFails(ErrorCode.BAD_USER_INPUT, { field: 'name' });
  });

  it('the last owner of an organization cannot be removed; another can', () => {
    given(ada)([teamCreated]).when({ type: 'RemoveOrganizationOwner', userId: 'ada' }).thenFails(ErrorCode.LAST_OWNER);
    const withBob: OrganizationEvent = { type: 'OrganizationOwnerAdded', data: { organizationId: 'org-1', userId: 'bob' } };
    given(ada)([teamCreated]).when({ type: 'AddOrganizationOwner', userId: 'bob' }).then([withBob]);
    given(ada)([teamCreated, withBob]).when({ type: 'RemoveOrganizationOwner', userId: 'ada' }).then([
      { type: 'OrganizationOwnerRemoved', data: { organizationId: 'org-1', userId: 'ada' } },
    ]);
  });

  it('only organization owners manage organization owners', () => {
    given(as('eve', undefined))([teamCreated]).when({ type: 'AddOrganizationOwner', userId: 'eve' }).thenFails(ErrorCode.FORBIDDEN);
  });
});

describe('creating workspaces', () => {
  it('creates project and environment workspaces', () => {
    given(ada)([teamCreated]).when({ type: 'CreateWorkspace', workspaceId: 'ws-web', name: 'web', kind: 'project' }).then([webCreated]);
    given(ada)([teamCreated])
      .when({ type: 'CreateWorkspace', workspaceId: 'ws-prod', name: 'web-production', kind: 'environment', stage: 'production', description: 'Live traffic' })
      .then([
        {
          type: 'WorkspaceCreated',
          data: { organizationId: 'org-1', workspaceId: 'ws-prod', name: 'web-production', kind: 'environment', stage: 'production', description: 'Live traffic', createdBy: 'ada' },
        },
      ]);
  });

  it.each([
    ['an upper-case name', { name: 'Web' }, 'name'],
    ['an empty name', { name: '' }, 'name'],
    ['a name over 63 characters', { name: 'a'.repeat(64) }, 'name'],
    ['a name ending with a dash', { name: 'web-' }, 'name'],
    ['an environment without a stage', { kind: 'environment' as const }, 'stage'],
    ['an environment with an invalid stage', { kind: 'environment' as const, stage: 'Prod!' }, 'stage'],
    ['a project with a stage', { stage: 'dev' }, 'stage'],
    ['a description over 1024 characters', { description: 'x'.repeat(1025) }, 'description'],
  ])('refuses %s with BAD_USER_INPUT naming the field', (_label, change, field) => {
    given(ada)([teamCreated])
      .when({ type: 'CreateWorkspace', workspaceId: 'ws-x', name: 'web', kind: 'project', ...change })
      .thenFails(ErrorCode.BAD_USER_INPUT, { field });
  });

  it('names are unique in the organization, and freed by deletion', () => {
    given(ada)([teamCreated, webCreated]).when({ type: 'CreateWorkspace', workspaceId: 'ws-2', name: 'web', kind: 'project' }).thenFails(ErrorCode.NAME_TAKEN, { field: 'name' });
    given(ada)([teamCreated]).when({ type: 'CreateWorkspace', workspaceId: 'ws-2', name: 'default', kind: 'project' }).thenFails(ErrorCode.NAME_TAKEN);
    const deleted: OrganizationEvent = { type: 'WorkspaceDeleted', data: { organizationId: 'org-1', workspaceId: 'ws-web', name: 'web' } };
    expect(given(ada)([teamCreated, webCreated, deleted]).when({ type: 'CreateWorkspace', workspaceId: 'ws-2', name: 'web', kind: 'project' }).events()).toHaveLength(1);
  });

  it('only organization owners create workspaces', () => {
    given(as('bob', 'admin'))([teamCreated]).when({ type: 'CreateWorkspace', workspaceId: 'ws-2', name: 'api', kind: 'project' }).thenFails(ErrorCode.FORBIDDEN);
  });

  it('nothing can be done in an organization that does not exist', () => {
    given(ada)([]).when({ type: 'CreateWorkspace', workspaceId: 'ws-2', name: 'api', kind: 'project' }).thenFails(ErrorCode.NOT_FOUND);
  });
});

describe('renaming and deleting workspaces', () => {
  it('admins and owners rename; members and viewers may not; strangers do not see the workspace', () => {
    for (const role of ['admin', 'owner'] as const) {
      given(as('bob', role))([teamCreated, webCreated])
        .when({ type: 'RenameWorkspace', workspaceId: 'ws-web', name: 'website' })
        .then([{ type: 'WorkspaceRenamed', data: { organizationId: 'org-1', workspaceId: 'ws-web', name: 'website', previousName: 'web' } }]);
    }
    for (const role of ['viewer', 'member'] as const) {
      given(as('bob', role))([teamCreated, webCreated]).when({ type: 'RenameWorkspace', workspaceId: 'ws-web', name: 'website' }).thenFails(ErrorCode.FORBIDDEN);
    }
    given(as('eve', undefined))([teamCreated, webCreated]).when({ type: 'RenameWorkspace', workspaceId: 'ws-web', name: 'website' }).thenFails(ErrorCode.NOT_FOUND);
  });

  it('a team default workspace can be renamed; a personal one cannot', () => {
    expect(given(ada)([teamCreated]).when({ type: 'RenameWorkspace', workspaceId: 'ws-default', name: 'main' }).events()).toHaveLength(1);
    given(ada)([personalCreated]).when({ type: 'RenameWorkspace', workspaceId: 'ws-personal', name: 'mine' }).thenFails(ErrorCode.PROTECTED_WORKSPACE);
  });

  it('renaming to the current name changes nothing; to a taken name is refused', () => {
    given(ada)([teamCreated, webCreated]).when({ type: 'RenameWorkspace', workspaceId: 'ws-web', name: 'web' }).then([]);
    given(ada)([teamCreated, webCreated]).when({ type: 'RenameWorkspace', workspaceId: 'ws-web', name: 'default' }).thenFails(ErrorCode.NAME_TAKEN);
  });

  it('only owners delete, only empty workspaces, never the default one', () => {
    given(as('bob', 'admin'))([teamCreated, webCreated]).when({ type: 'DeleteWorkspace', workspaceId: 'ws-web', clusterCount: 0 }).thenFails(ErrorCode.FORBIDDEN);
    given(ada)([teamCreated, webCreated]).when({ type: 'DeleteWorkspace', workspaceId: 'ws-web', clusterCount: 2 }).thenFails(ErrorCode.WORKSPACE_NOT_EMPTY, { clusters: 2 });
    given(ada)([teamCreated]).when({ type: 'DeleteWorkspace', workspaceId: 'ws-default', clusterCount: 0 }).thenFails(ErrorCode.PROTECTED_WORKSPACE);
    given(ada)([teamCreated, webCreated])
      .when({ type: 'DeleteWorkspace', workspaceId: 'ws-web', clusterCount: 0 })
      .then([{ type: 'WorkspaceDeleted', data: { organizationId: 'org-1', workspaceId: 'ws-web', name: 'web' } }]);
  });

  it('a deleted workspace no longer exists', () => {
    const deleted: OrganizationEvent = { type: 'WorkspaceDeleted', data: { organizationId: 'org-1', workspaceId: 'ws-web', name: 'web' } };
    given(ada)([teamCreated, webCreated, deleted]).when({ type: 'RenameWorkspace', workspaceId: 'ws-web', name: 'x' }).thenFails(ErrorCode.NOT_FOUND);
  });
});

describe('organization auditors', () => {
  const auditorAdded = (userId: string): OrganizationEvent => ({ type: 'OrganizationAuditorAdded', data: { organizationId: 'org-1', userId } });
  const auditorRemoved = (userId: string): OrganizationEvent => ({ type: 'OrganizationAuditorRemoved', data: { organizationId: 'org-1', userId } });

  it('organization owners add and remove auditors', () => {
    given(ada)([teamCreated]).when({ type: 'AddOrganizationAuditor', userId: 'ivy' }).then([auditorAdded('ivy')]);
    given(ada)([teamCreated, auditorAdded('ivy')]).when({ type: 'RemoveOrganizationAuditor', userId: 'ivy' }).then([auditorRemoved('ivy')]);
    // Another owner may, too; an owner may audit as well (it grants nothing more).
    const withBob: OrganizationEvent = { type: 'OrganizationOwnerAdded', data: { organizationId: 'org-1', userId: 'bob' } };
    given(as('bob', undefined))([teamCreated, withBob]).when({ type: 'AddOrganizationAuditor', userId: 'ada' }).then([auditorAdded('ada')]);
  });

  it('adding an auditor twice or removing someone who is not one changes nothing', () => {
    given(ada)([teamCreated, auditorAdded('ivy')]).when({ type: 'AddOrganizationAuditor', userId: 'ivy' }).then([]);
    given(ada)([teamCreated]).when({ type: 'RemoveOrganizationAuditor', userId: 'ivy' }).then([]);
    given(ada)([teamCreated, auditorAdded('ivy'), auditorRemoved('ivy')]).when({ type: 'RemoveOrganizationAuditor', userId: 'ivy' }).then([]);
    // An owner is not an auditor unless added as one.
    given(ada)([teamCreated]).when({ type: 'RemoveOrganizationAuditor', userId: 'ada' }).then([]);
  });

  it('only organization owners manage auditors: workspace roles, strangers and auditors themselves are refused', () => {
    for (const role of ['owner', 'admin', 'member', 'viewer', undefined] as const) {
      given(as('bob', role))([teamCreated]).when({ type: 'AddOrganizationAuditor', userId: 'ivy' }).thenFails(ErrorCode.FORBIDDEN, { organizationId: 'org-1' });
      given(as('bob', role))([teamCreated, auditorAdded('ivy')]).when({ type: 'RemoveOrganizationAuditor', userId: 'ivy' }).thenFails(ErrorCode.FORBIDDEN);
    }
    given(as('ivy', undefined))([teamCreated, auditorAdded('ivy')]).when({ type: 'AddOrganizationAuditor', userId: 'eve' }).thenFails(ErrorCode.FORBIDDEN);
    given(as('ivy', undefined))([teamCreated, auditorAdded('ivy')]).when({ type: 'RemoveOrganizationAuditor', userId: 'ivy' }).thenFails(ErrorCode.FORBIDDEN);
    // The refusal comes before the no-op: a non-owner learns nothing about who audits.
    given(as('bob', 'admin'))([teamCreated]).when({ type: 'RemoveOrganizationAuditor', userId: 'ivy' }).thenFails(ErrorCode.FORBIDDEN);
  });

  it('an auditor may change nothing in the organization', () => {
    const ivy = as('ivy', undefined);
    const audited = [teamCreated, webCreated, auditorAdded('ivy')];
    given(ivy)(audited).when({ type: 'AddOrganizationOwner', userId: 'ivy' }).thenFails(ErrorCode.FORBIDDEN);
    given(ivy)(audited).when({ type: 'RemoveOrganizationOwner', userId: 'ada' }).thenFails(ErrorCode.FORBIDDEN);
    given(ivy)(audited).when({ type: 'CreateWorkspace', workspaceId: 'ws-2', name: 'api', kind: 'project' }).thenFails(ErrorCode.FORBIDDEN);
    // Auditing grants no workspace role: with none, the workspace decisions refuse as for anyone without one.
    given(ivy)(audited).when({ type: 'RenameWorkspace', workspaceId: 'ws-web', name: 'shop' }).thenFails(ErrorCode.NOT_FOUND);
    given(ivy)(audited).when({ type: 'DeleteWorkspace', workspaceId: 'ws-web', clusterCount: 0 }).thenFails(ErrorCode.NOT_FOUND);
  });

  it.each([
    ['an empty user id', ''],
    ['a user id over 256 characters', 'u'.repeat(257)],
  ])('refuses %s with BAD_USER_INPUT naming userId', (_label, userId) => {
    given(ada)([teamCreated]).when({ type: 'AddOrganizationAuditor', userId }).thenFails(ErrorCode.BAD_USER_INPUT, { field: 'userId' });
  });

  it('nothing can be audited in an organization that does not exist', () => {
    given(ada)([]).when({ type: 'AddOrganizationAuditor', userId: 'ivy' }).thenFails(ErrorCode.NOT_FOUND);
    given(ada)([]).when({ type: 'RemoveOrganizationAuditor', userId: 'ivy' }).thenFails(ErrorCode.NOT_FOUND);
  });

  it('evolve folds auditors apart from owners: auditing grants no role', () => {
    const state = given(ada)([teamCreated, auditorAdded('ivy'), auditorAdded('joe'), auditorRemoved('joe')]).state;
    expect([...state.auditors]).toEqual(['ivy']);
    expect([...state.owners]).toEqual(['ada']);
    expect(given(ada)([teamCreated]).state.auditors.size).toBe(0);
    expect(initialOrganizationState.auditors.size).toBe(0);
  });
});
