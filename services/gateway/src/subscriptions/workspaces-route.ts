import type { GraphQLSchema } from 'graphql';
import type { WorkspacesContext } from '@canopy/workspaces';
import type { CallerRequest } from '../request-context.js';
import type { SubscriptionRoute } from './routing.js';

/**
 * The workspaces subgraph's subscriptions, executed in this process: the
 * resolvers get the same context as over HTTP (built by the backend's
 * `contextFor`), plus `live` — the subscription's event feed, and reads made
 * afresh for every access check.
 */
export function workspacesSubscriptionRoute(deps: { schema: GraphQLSchema; contextFor(request: CallerRequest): WorkspacesContext }): SubscriptionRoute {
  return {
    subgraph: 'workspaces',
    schema: deps.schema,
    // workspaceEvents maps an event to the same entry whoever asks (access is checked before the event is let through).
    sharedResults: true,
    context({ userId, correlationId, events }): WorkspacesContext {
      const request: CallerRequest = { caller: { userId }, correlationId, readAfter: undefined, authorization: '' };
      return { ...deps.contextFor(request), live: { events, reads: () => deps.contextFor(request).reads } };
    },
  };
}
