import armor from '@escape.tech/graphql-armor';
import { GraphQLError, Lexer, Source, TokenKind, type ValidationRule } from 'graphql';
import { CanopyError, ErrorCode } from '@canopy/schema';

/** What one GraphQL request may ask for; the README's "Limits" table lists the defaults and variables. */
export interface GraphQLLimits {
  /** Nesting of fields and fragment spreads (CANOPY_MAX_DEPTH). */
  depth: number;
  /** graphql-armor's cost estimate: fields weighted by depth, lists by their literal `first`/`last` (CANOPY_MAX_COST). */
  cost: number;
  aliases: number;
  directives: number;
  /** Lexical tokens of one document, counted before it is parsed (CANOPY_MAX_TOKENS). */
  tokens: number;
  /** Operations in one batched HTTP request (CANOPY_MAX_BATCH). */
  batch: number;
}

type RejectCallbacks = NonNullable<NonNullable<ConstructorParameters<typeof armor.ApolloArmor>[0]>['maxDepth']>['onReject'];

/**
 * The validation rules for depth, cost, aliases and directives, from
 * graphql-armor. Each refusal is reported as a GraphQL error wrapping a
 * CanopyError, so the endpoint answers it with its own stable code rather
 * than Apollo's generic GRAPHQL_VALIDATION_FAILED.
 */
export function limitRules(limits: GraphQLLimits): ValidationRule[] {
  const refuse = (code: ErrorCode, limit: number, variable: string): { propagateOnRejection: false; onReject: RejectCallbacks } => ({
    propagateOnRejection: false,
    onReject: [
      (context, error) => {
        const message = `${error.message.replace(/^Syntax Error: /, '')} (${variable})`;
        context?.reportError(new GraphQLError(message, { originalError: new CanopyError(code, message, { limit }) }));
      },
    ],
  });
  const { validationRules } = new armor.ApolloArmor({
    maxDepth: { n: limits.depth, ...refuse(ErrorCode.QUERY_TOO_DEEP, limits.depth, 'CANOPY_MAX_DEPTH') },
    costLimit: { maxCost: limits.cost, ...refuse(ErrorCode.QUERY_TOO_COMPLEX, limits.cost, 'CANOPY_MAX_COST') },
    maxAliases: { n: limits.aliases, ...refuse(ErrorCode.TOO_MANY_ALIASES, limits.aliases, 'CANOPY_MAX_ALIASES') },
    maxDirectives: { n: limits.directives, ...refuse(ErrorCode.TOO_MANY_DIRECTIVES, limits.directives, 'CANOPY_MAX_DIRECTIVES') },
    // Counted before Apollo parses (see requestLimitError): armor's Apollo plugin throws from a hook, which Apollo answers with a 500.
    maxTokens: { enabled: false },
    // Replaced by hideSuggestions, which also hides enum value suggestions.
    blockFieldSuggestion: { enabled: false },
  }).protect();
  return validationRules;
}

/** How many operations a request body holds (a batch is an array). */
export function operationCount(body: unknown): number {
  return Array.isArray(body) ? body.length : 1;
}

/**
 * The limits checked on the request itself, before authentication and
 * parsing: the batch size, and each document's tokens (GET `query` or the
 * body's operations). Undefined when the request is within them.
 */
export function requestLimitError(body: unknown, search: string, limits: Pick<GraphQLLimits, 'batch' | 'tokens'>): CanopyError | undefined {
  if (Array.isArray(body) && body.length > limits.batch) {
    return new CanopyError(ErrorCode.BATCH_TOO_LARGE, `A batched request may hold at most ${limits.batch} operations; this one holds ${body.length} (CANOPY_MAX_BATCH).`, {
      limit: limits.batch,
    });
  }
  const documents: unknown[] = (Array.isArray(body) ? body : [body]).map((operation) => (typeof operation === 'object' && operation !== null ? (operation as { query?: unknown }).query : undefined));
  if (search) documents.push(new URLSearchParams(search).get('query'));
  for (const document of documents) {
    if (typeof document === 'string' && exceedsTokens(document, limits.tokens)) {
      return new CanopyError(ErrorCode.TOO_MANY_TOKENS, `A GraphQL document may hold at most ${limits.tokens} tokens (CANOPY_MAX_TOKENS).`, { limit: limits.tokens });
    }
  }
  return undefined;
}

/** Lexes `document` until it has seen more than `limit` tokens (comments aside); a lexical error is left for the parser to report. */
function exceedsTokens(document: string, limit: number): boolean {
  const lexer = new Lexer(new Source(document));
  let count = 0;
  try {
    while (lexer.advance().kind !== TokenKind.EOF) {
      if (++count > limit) return true;
    }
  } catch {
    return false;
  }
  return false;
}
