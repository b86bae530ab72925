import type { WorkspacesContext } from './context.js';
import { toCluster, toOrganization } from './mapping.js';
import type { Cluster, Organization, Workspace } from './types.js';
import { visibleWorkspace } from './workspace-fields-resolver.js';

/**
 * How a router resolves a reference to one of this subgraph's entities
 * (`_entities`). Each checks the caller's access exactly as the queries do:
 * a reference the caller may not see resolves to null, as if it did not
 * exist, and says nothing more.
 */
export const referenceResolvers = {
  Workspace: {
    async __resolveReference(reference: { id: string }, context: WorkspacesContext): Promise<Workspace | null> {
      return (await visibleWorkspace(context.reads, reference.id)) ?? null;
    },
  },
  Organization: {
    async __resolveReference(reference: { id: string }, context: WorkspacesContext): Promise<Organization | null> {
      const [belongs, organization] = await Promise.all([context.reads.belongsTo(reference.id), context.reads.organization(reference.id)]);
      return belongs && organization ? toOrganization(organization) : null;
    },
  },
  Cluster: {
    async __resolveReference(reference: { workspaceId: string; id: string }, context: WorkspacesContext): Promise<Cluster | null> {
      if (!(await context.reads.roleIn(reference.workspaceId))) return null;
      const cluster = (await context.reads.details(reference.workspaceId)).clusters.find((candidate) => candidate.id === reference.id);
      return cluster ? toCluster(reference.workspaceId, cluster) : null;
    },
  },
};
