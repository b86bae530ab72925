import { createSourceEventStream, execute, type ExecutionArgs, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';

/** What a subscription asked for, as its subscribe message gave it. */
export interface SubscriptionRequest {
  query: string;
  operationName?: string | null | undefined;
  variables?: Readonly<Record<string, unknown>> | null | undefined;
  /** Whether its results may be shared with alike subscriptions (they do not depend on the caller). */
  shared: boolean;
}

/** Distinct subscription documents kept compiled, per schema (the oldest compiled is dropped beyond). */
const COMPILED_DOCUMENTS = 500;

type Execute = (payload: unknown) => ExecutionResult | Promise<ExecutionResult>;

/**
 * Executes the events of the subscriptions served in this process.
 *
 * Each event is executed with the subscription's document compiled once
 * (graphql-jit) rather than interpreted by graphql-js: graphql-js rebuilds
 * its execution context, coerces the variables and walks the selection
 * anew for every event, which at thousands of events a second was a fifth
 * of the server's time. The source stream is still graphql-js's
 * (`createSourceEventStream`), and a document graphql-jit cannot compile is
 * executed by graphql-js.
 *
 * Results many subscribers share: a source event (the same object for
 * every subscription it reaches, as the hub and the resolvers hand it out)
 * is executed once per distinct operation and variables, and that one
 * result goes to all of them. A thousand dashboards on one workspace cost
 * one execution per event, not a thousand. Only for subgraphs whose
 * subscription results do not depend on the caller (access is checked
 * before an event is let through).
 */
export class SubscriptionExecution {
  private readonly compiled = new WeakMap<GraphQLSchema, Map<string, CompiledQuery | undefined>>();
  private readonly results = new WeakMap<object, Map<string, ExecutionResult | Promise<ExecutionResult>>>();

  /** Like graphql's `subscribe`. */
  async subscribe(args: ExecutionArgs, request: SubscriptionRequest): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
    const stream = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in stream)) return stream as ExecutionResult;
    const source = stream[Symbol.asyncIterator]();
    const run = this.executor(args, request);
    const key = request.shared ? shareKey(request.query, request.operationName, request.variables) : undefined;
    const resultOf = (payload: unknown): ExecutionResult | Promise<ExecutionResult> => {
      if (key === undefined || typeof payload !== 'object' || payload === null) return run(payload);
      let byKey = this.results.get(payload);
      if (!byKey) this.results.set(payload, (byKey = new Map()));
      let result = byKey.get(key);
      if (!result) byKey.set(key, (result = run(payload)));
      return result;
    };
    const iterator: AsyncIterableIterator<ExecutionResult> = {
      [Symbol.asyncIterator]() {
        return iterator;
      },
      async next() {
        const step = await source.next();
        return step.done ? { done: true, value: undefined } : { done: false, value: await resultOf(step.value) };
      },
      async return() {
        await source.return?.();
        return { done: true, value: undefined };
      },
      async throw(error: unknown) {
        if (source.throw) await source.throw(error);
        throw error;
      },
    };
    return iterator;
  }

  private executor(args: ExecutionArgs, request: SubscriptionRequest): Execute {
    const compiled = this.compile(args, request);
    if (!compiled) return (payload) => execute({ ...args, rootValue: payload });
    const { contextValue, variableValues } = args;
    return (payload) => compiled.query(payload, contextValue, variableValues) as ExecutionResult | Promise<ExecutionResult>;
  }

  private compile(args: ExecutionArgs, request: SubscriptionRequest): CompiledQuery | undefined {
    let bySchema = this.compiled.get(args.schema);
    if (!bySchema) this.compiled.set(args.schema, (bySchema = new Map()));
    const key = `${request.operationName ?? ''}\u0000${request.query}`;
    if (bySchema.has(key)) return bySchema.get(key);
    const outcome = compileQuery(args.schema, args.document, request.operationName ?? undefined);
    const compiled = isCompiledQuery(outcome) ? outcome : undefined;
    bySchema.set(key, compiled);
    if (bySchema.size > COMPILED_DOCUMENTS) bySchema.delete(bySchema.keys().next().value!);
    return compiled;
  }
}

/** What makes two subscriptions' results equal for the same event: the operation and its variables. */
export function shareKey(query: string, operationName: string | null | undefined, variables: Readonly<Record<string, unknown>> | null | undefined): string {
  return `${operationName ?? ''}\u0000${JSON.stringify(variables ?? {})}\u0000${query}`;
}
