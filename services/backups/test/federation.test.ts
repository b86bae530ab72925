import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { composeSupergraph } from '@canopy/schema/graphql';
import { buildWorkspacesSubgraph, subgraphSdl, WORKSPACES_SUBGRAPH } from '@canopy/workspaces';
import { BACKUPS_SUBGRAPH, buildBackupsSubgraph } from '../src/index.js';

describe('the backups subgraph in a supergraph', () => {
  it('composes with the workspaces subgraph, both built in one process: Workspace gains its backups', async () => {
    const workspaces = await buildWorkspacesSubgraph();
    const backups = await buildBackupsSubgraph();
    const composed = composeSupergraph([
      { name: WORKSPACES_SUBGRAPH, url: 'http://localhost:4001/graphql', sdl: subgraphSdl(workspaces) },
      { name: BACKUPS_SUBGRAPH, url: 'http://localhost:4002/graphql', sdl: subgraphSdl(backups) },
    ]);
    expect(composed.supergraphSdl).toMatch(/\): BackupConnection! @join__field\(graph: BACKUPS\)/);
    expect(composed.supergraphSdl).toContain('backupProgress(');
    // Each subgraph keeps only its own fields.
    expect(workspaces.getType('Backup')).toBeUndefined();
    expect(Object.keys((backups.getType('Workspace') as unknown as { getFields(): object }).getFields()).sort()).toEqual(['backupLocations', 'backupSchedules', 'backups', 'id', 'restores']);
  });
});
