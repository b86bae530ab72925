import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { ErrorCode } from '@canopy/schema';

/** A subscription sent over HTTP is refused with 400 BAD_USER_INPUT, pointing to the WebSocket endpoint (Apollo Gateway would fail on it). */
export function subscriptionsOverWebSocketOnly<T extends BaseContext>(): ApolloServerPlugin<T> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation }) {
          if (operation?.operation !== 'subscription') return;
          throw new GraphQLError('Subscriptions are served over WebSocket on this same URL (protocol graphql-transport-ws, e.g. the graphql-ws client), not over HTTP.', {
            extensions: { code: ErrorCode.BAD_USER_INPUT, field: 'query', http: { status: 400 } },
          });
        },
      };
    },
  };
}
