import { describe, it } from '@jest/globals';
import { ErrorCode, type WorkspaceRole } from '@canopy/schema';
import type { WorkspaceCommand } from '../src/index.js';
import { actors, added, as, given, team, W } from './workspace-fixtures.js';

describe('members: who may do what', () => {
  type Case = [string, WorkspaceCommand, Record<keyof typeof actors, 'ok' | ErrorCode>];
  const FORBIDDEN = ErrorCode.FORBIDDEN;
  const cases: Case[] = [
    ['add a viewer', { type: 'AddMember', userId: 'erin', role: 'viewer' }, { owner: 'ok', admin: 'ok', member: FORBIDDEN, viewer: FORBIDDEN }],
    ['add an admin', { type: 'AddMember', userId: 'erin', role: 'admin' }, { owner: 'ok', admin: 'ok', member: FORBIDDEN, viewer: FORBIDDEN }],
    ['add an owner', { type: 'AddMember', userId: 'erin', role: 'owner' }, { owner: 'ok', admin: FORBIDDEN, member: FORBIDDEN, viewer: FORBIDDEN }],
    ['promote a member to admin', { type: 'ChangeMemberRole', userId: 'carol', role: 'admin' }, { owner: 'ok', admin: 'ok', member: FORBIDDEN, viewer: FORBIDDEN }],
    ['promote a member to owner', { type: 'ChangeMemberRole', userId: 'carol', role: 'owner' }, { owner: 'ok', admin: FORBIDDEN, member: FORBIDDEN, viewer: FORBIDDEN }],
    ['remove dan, a viewer (dan may leave)', { type: 'RemoveMember', userId: 'dan' }, { owner: 'ok', admin: 'ok', member: FORBIDDEN, viewer: 'ok' }],
    ['remove carol, a member (carol may leave)', { type: 'RemoveMember', userId: 'carol' }, { owner: 'ok', admin: 'ok', member: 'ok', viewer: FORBIDDEN }],
    ['describe the workspace', { type: 'DescribeWorkspace', description: 'Storefront' }, { owner: 'ok', admin: 'ok', member: FORBIDDEN, viewer: FORBIDDEN }],
  ];
  const rows = cases.flatMap(([label, command, outcomes]) =>
    (Object.keys(outcomes) as (keyof typeof actors)[]).map((role) => [label, role, command, outcomes[role]] as const),
  );
  it.each(rows)('%s as %s', (_label, role, command, outcome) => {
    const attempt = given(actors[role])(team).when(command);
    if (outcome === 'ok') attempt.events();
    else attempt.thenFails(outcome);
  });

  it('a caller with no role is told the workspace does not exist', () => {
    given(as('eve', undefined))(team).when({ type: 'AddMember', userId: 'eve', role: 'owner' }).thenFails(ErrorCode.NOT_FOUND, { workspaceId: W });
    given(as('eve', undefined))(team).when({ type: 'RemoveMember', userId: 'eve' }).thenFails(ErrorCode.NOT_FOUND, { workspaceId: W });
  });
});

describe('members: rules', () => {
  it('records who joined, what changed and who left, with the previous role', () => {
    given(actors.owner)(team).when({ type: 'AddMember', userId: 'erin', role: 'member' }).then([added('erin', 'member')]);
    given(actors.owner)(team).when({ type: 'ChangeMemberRole', userId: 'dan', role: 'member' }).then([
      { type: 'MemberRoleChanged', data: { workspaceId: W, userId: 'dan', role: 'member', previousRole: 'viewer' } },
    ]);
    given(actors.admin)(team).when({ type: 'RemoveMember', userId: 'carol' }).then([{ type: 'MemberRemoved', data: { workspaceId: W, userId: 'carol', previousRole: 'member' } }]);
  });

  it('the last owner can be neither removed nor demoted, not even by themselves', () => {
    given(actors.owner)(team).when({ type: 'RemoveMember', userId: 'ada' }).thenFails(ErrorCode.LAST_OWNER);
    given(actors.owner)(team).when({ type: 'ChangeMemberRole', userId: 'ada', role: 'admin' }).thenFails(ErrorCode.LAST_OWNER);
    const twoOwners = [...team, added('erin', 'owner')];
    given(actors.owner)(twoOwners).when({ type: 'ChangeMemberRole', userId: 'ada', role: 'admin' }).then([
      { type: 'MemberRoleChanged', data: { workspaceId: W, userId: 'ada', role: 'admin', previousRole: 'owner' } },
    ]);
  });

  it('admins cannot touch owners', () => {
    const twoOwners = [...team, added('erin', 'owner')];
    given(actors.admin)(twoOwners).when({ type: 'RemoveMember', userId: 'erin' }).thenFails(ErrorCode.FORBIDDEN);
    given(actors.admin)(twoOwners).when({ type: 'ChangeMemberRole', userId: 'erin', role: 'viewer' }).thenFails(ErrorCode.FORBIDDEN);
  });

  it('adding an existing member is a conflict; changing a role to the same role changes nothing', () => {
    given(actors.owner)(team).when({ type: 'AddMember', userId: 'carol', role: 'admin' }).thenFails(ErrorCode.CONFLICT, { field: 'userId' });
    given(actors.owner)(team).when({ type: 'ChangeMemberRole', userId: 'carol', role: 'member' }).then([]);
  });

  it.each([
    ['an unknown role', { type: 'AddMember', userId: 'erin', role: 'superuser' as WorkspaceRole }, 'role'],
    ['an empty user id', { type: 'AddMember', userId: '', role: 'viewer' }, 'userId'],
    ['an oversized user id', { type: 'AddMember', userId: 'u'.repeat(257), role: 'viewer' }, 'userId'],
    ['an oversized description', { type: 'DescribeWorkspace', description: 'x'.repeat(1025) }, 'description'],
  ] as [string, WorkspaceCommand, string][])('refuses %s with BAD_USER_INPUT naming the field', (_label, command, field) => {
    given(actors.owner)(team).when(command).thenFails(ErrorCode.BAD_USER_INPUT, { field });
  });

  it('changing or removing someone who is not a member is NOT_FOUND', () => {
    given(actors.owner)(team).when({ type: 'ChangeMemberRole', userId: 'zed', role: 'viewer' }).thenFails(ErrorCode.NOT_FOUND, { field: 'userId' });
    given(actors.owner)(team).when({ type: 'RemoveMember', userId: 'zed' }).thenFails(ErrorCode.NOT_FOUND, { field: 'userId' });
  });
});
