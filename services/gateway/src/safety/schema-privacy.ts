import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, type ValidationRule } from 'graphql';
import { CanopyError, ErrorCode } from '@canopy/schema';

/** Production mode: `__schema` and `__type` are refused (`__typename` stays: clients need it). */
export const noIntrospection: ValidationRule = (context) => ({
  Field(node) {
    const name = node.name.value;
    if (name !== '__schema' && name !== '__type') return;
    const message = 'Introspection is off in production mode (CANOPY_MODE=production).';
    context.reportError(new GraphQLError(message, { nodes: [node], originalError: new CanopyError(ErrorCode.INTROSPECTION_DISABLED, message) }));
  },
});

/**
 * Production mode: graphql-js's "Did you mean …?" hints name fields, types,
 * arguments and enum values the caller did not ask for, which would map
 * the schema with introspection off. They are cut from every error message.
 */
export function hideSuggestions(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors }) {
          for (const error of errors) error.message = withoutSuggestions(error.message);
        },
      };
    },
  };
}

export function withoutSuggestions(message: string): string {
  return message.replace(/ ?Did you mean [^?]*\?/g, '');
}
