import { createSourceEventStream, execute, type ExecutionArgs, type ExecutionResult } from 'graphql';

/**
 * Executes subscriptions whose results many subscribers share: a source
 * event (the same object for every subscription it reaches, as the hub and
 * the resolvers hand it out) is executed once per distinct operation and
 * variables, and that one result goes to all of them. A thousand
 * dashboards on one workspace cost one execution per event, not a
 * thousand. Only for subgraphs whose subscription results do not depend on
 * the caller (access is checked before an event is let through).
 */
export class SharedExecution {
  private readonly results = new WeakMap<object, Map<string, Promise<ExecutionResult>>>();

  /** Like graphql's `subscribe`, with each event's result shared by every subscription of the same `key`. */
  async subscribe(args: ExecutionArgs, key: string): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
    const stream = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in stream)) return stream as ExecutionResult;
    const source = stream[Symbol.asyncIterator]();
    const resultOf = (payload: unknown): Promise<ExecutionResult> => {
      if (typeof payload !== 'object' || payload === null) return Promise.resolve(execute({ ...args, rootValue: payload }));
      let byKey = this.results.get(payload);
      if (!byKey) this.results.set(payload, (byKey = new Map()));
      let result = byKey.get(key);
      if (!result) byKey.set(key, (result = Promise.resolve(execute({ ...args, rootValue: payload }))));
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
}

/** What makes two subscriptions' results equal for the same event: the operation and its variables. */
export function shareKey(query: string, operationName: string | null | undefined, variables: Readonly<Record<string, unknown>> | null | undefined): string {
  return `${operationName ?? ''}\u0000${JSON.stringify(variables ?? {})}\u0000${query}`;
}
