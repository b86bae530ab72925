import { describe, expect, it } from '@jest/globals';
import {
  GraphQLError,
  GraphQLInt,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
  parse,
  subscribe,
  type ExecutionArgs,
  type ExecutionResult,
} from 'graphql';
import { SubscriptionExecution } from '../../src/subscriptions/subscription-execution.js';

/**
 * Compiled execution (graphql-jit) against graphql-js's own `subscribe`, on
 * the same source events: what a client receives must not depend on which
 * one ran — fields, aliases, fragments, variables, directives, errors and
 * null propagation.
 */

interface Tick {
  n: number;
  label: string | null;
}

const Detail: GraphQLObjectType = new GraphQLObjectType({
  name: 'Detail',
  fields: {
    square: { type: GraphQLInt, resolve: (tick: Tick) => tick.n * tick.n },
    broken: {
      type: GraphQLString,
      resolve: (tick: Tick) => {
        if (tick.n % 2 === 1) throw new GraphQLError(`odd ${tick.n}`, { extensions: { code: 'ODD' } });
        return 'even';
      },
    },
  },
});

const TickType = new GraphQLObjectType({
  name: 'Tick',
  fields: {
    n: { type: new GraphQLNonNull(GraphQLInt) },
    label: { type: GraphQLString, args: { suffix: { type: GraphQLString } }, resolve: (tick: Tick, args: { suffix?: string }) => (tick.label === null ? null : `${tick.label}${args.suffix ?? ''}`) },
    detail: { type: Detail, resolve: (tick: Tick) => tick },
    required: {
      type: new GraphQLNonNull(GraphQLString),
      resolve: (tick: Tick) => {
        if (tick.n === 3) throw new Error('three is not allowed');
        return `n${tick.n}`;
      },
    },
    later: { type: GraphQLInt, resolve: async (tick: Tick) => tick.n + 100 },
  },
});

const events: Tick[] = [
  { n: 1, label: 'a' },
  { n: 2, label: null },
  { n: 3, label: 'c' },
  { n: 4, label: 'd' },
];

/** The ticks schema; `onResolve` is called each time an event is executed. */
function tickSchema(onResolve: () => void = () => {}): GraphQLSchema {
  return new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLString } } }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: {
        ticks: {
          type: TickType,
          args: { from: { type: GraphQLInt } },
          subscribe: async function* (_root: unknown, args: { from?: number }) {
            for (const tick of events) if (tick.n >= (args.from ?? 0)) yield tick;
          },
          resolve: (tick: unknown) => (onResolve(), tick),
        },
        refused: {
          type: TickType,
          subscribe: () => {
            throw new GraphQLError('not for you', { extensions: { code: 'FORBIDDEN' } });
          },
        },
      },
    }),
  });
}

const schema = tickSchema();

async function collect(outcome: AsyncIterableIterator<ExecutionResult> | ExecutionResult): Promise<unknown> {
  if (!(Symbol.asyncIterator in outcome)) return JSON.parse(JSON.stringify(outcome));
  const results: unknown[] = [];
  for await (const result of outcome) results.push(JSON.parse(JSON.stringify(result)));
  return results;
}

const documents: { name: string; query: string; variables?: Record<string, unknown> }[] = [
  { name: 'fields', query: 'subscription { ticks { n label } }' },
  { name: 'aliases and __typename', query: 'subscription { t: ticks { number: n __typename again: n } }' },
  { name: 'arguments and variables', query: 'subscription ($from: Int, $s: String) { ticks(from: $from) { n label(suffix: $s) } }', variables: { from: 2, s: '!' } },
  { name: 'fragments', query: 'subscription { ticks { ...T } } fragment T on Tick { n detail { ... on Detail { square } } }' },
  { name: 'directives', query: 'subscription ($yes: Boolean!) { ticks { n label @include(if: $yes) detail @skip(if: $yes) { square } } }', variables: { yes: true } },
  { name: 'a field error', query: 'subscription { ticks { n detail { square broken } } }' },
  { name: 'null propagation from a non-null field', query: 'subscription { ticks { n required } }' },
  { name: 'an asynchronous field', query: 'subscription { ticks { n later } }' },
  { name: 'a refusing subscribe resolver', query: 'subscription { refused { n } }' },
];

describe('compiled subscription execution', () => {
  it.each(documents)('gives what graphql-js gives: $name', async ({ query, variables }) => {
    const args = (): ExecutionArgs => ({ schema, document: parse(query), variableValues: variables ?? null, contextValue: {} });
    const expected = await collect(await subscribe(args()));
    const compiled = await collect(await new SubscriptionExecution().subscribe(args(), { query, variables, shared: false }));
    expect(compiled).toEqual(expected);
    expect(JSON.stringify(compiled)).not.toBe('[]');
  });

  it('executes an event once for the subscriptions that share its operation and variables', async () => {
    let resolved = 0;
    const counting = tickSchema(() => (resolved += 1));
    const query = 'subscription { ticks { n } }';
    const execution = new SubscriptionExecution();
    const run = async (shared: boolean) => collect(await execution.subscribe({ schema: counting, document: parse(query), contextValue: {} }, { query, shared }));
    const [a, b] = await Promise.all([run(true), run(true)]);
    expect(a).toEqual(b);
    expect(resolved).toBe(events.length);
    await run(false);
    expect(resolved).toBe(2 * events.length);
  });
});
