import { describe, expect, it } from '@jest/globals';
import type { WorkspaceRole } from '@canopy/schema';
import { can, type WorkspaceAction } from '../src/index.js';

// PRODUCT.md's role table, written out: every role reads; members create
// resources (clusters, namespaces); admins also govern (quotas, bindings,
// image rules), manage secrets, members and backups; owners also delete.
const table: Record<WorkspaceRole, Record<WorkspaceAction, boolean>> = {
  viewer: { read: true, readHistory: false, createResources: false, governWorkspace: false, manageSecrets: false, manageMembers: false, manageBackups: false, renameWorkspace: false, deleteWorkspace: false },
  member: { read: true, readHistory: false, createResources: true, governWorkspace: false, manageSecrets: false, manageMembers: false, manageBackups: false, renameWorkspace: false, deleteWorkspace: false },
  admin: { read: true, readHistory: true, createResources: true, governWorkspace: true, manageSecrets: true, manageMembers: true, manageBackups: true, renameWorkspace: true, deleteWorkspace: false },
  owner: { read: true, readHistory: true, createResources: true, governWorkspace: true, manageSecrets: true, manageMembers: true, manageBackups: true, renameWorkspace: true, deleteWorkspace: true },
};

describe('the role matrix', () => {
  const cases = Object.entries(table).flatMap(([role, actions]) =>
    Object.entries(actions).map(([action, allowed]) => [role as WorkspaceRole, action as WorkspaceAction, allowed] as const),
  );
  it.each(cases)('%s may %s: %s', (role, action, allowed) => {
    expect(can(role, action)).toBe(allowed);
  });

  it('a caller with no role may do nothing, not even read', () => {
    for (const action of Object.keys(table.owner) as WorkspaceAction[]) expect(can(undefined, action)).toBe(false);
  });
});
