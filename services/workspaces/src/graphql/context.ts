import type { WorkspaceCommands } from '../app/commands.js';
import type { WorkspaceQueries } from '../app/queries.js';

/** What every resolver of this subgraph gets: the authenticated caller and the service. */
export interface WorkspacesContext {
  caller: { userId: string };
  commands: WorkspaceCommands;
  queries: WorkspaceQueries;
  correlationId?: string;
}
