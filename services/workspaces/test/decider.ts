import { expect } from '@jest/globals';
import { CanopyError, type ErrorCode } from '@canopy/schema';

/**
 * Given events, when a command, then events or an error code: the shape of
 * every domain test.
 */
export function decider<S, C, E>(decide: (command: C, state: S) => E[], evolve: (state: S, event: E) => S, initial: S) {
  return (given: E[]) => {
    const state = given.reduce(evolve, initial);
    return {
      state,
      when(command: C) {
        let events: E[] | undefined;
        let error: unknown;
        try {
          events = decide(command, state);
        } catch (e) {
          error = e;
        }
        return {
          then(expected: E[]): void {
            if (error) throw error;
            expect(events).toEqual(expected);
          },
          thenFails(code: ErrorCode, details: Record<string, unknown> = {}): void {
            expect(error).toBeInstanceOf(CanopyError);
            expect((error as CanopyError).code).toBe(code);
            expect((error as CanopyError).details).toMatchObject(details);
          },
          events(): E[] {
            if (error) throw error;
            return events!;
          },
        };
      },
    };
  };
}
