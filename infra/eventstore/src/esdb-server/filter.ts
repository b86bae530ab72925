/**
 * Server-side filters of $all reads and subscriptions
 * (`ReadReq.Options.FilterOptions`): on the stream name or on the event type,
 * by a list of prefixes or by one regular expression, plus the checkpoint
 * interval of filtered subscriptions.
 */
import type { RecordedEvent } from '../event-store.js';
import { ReadReq } from './protocol.js';

/** EventStoreDB's page size, also the default search window of a filter. */
export const DEFAULT_SEARCH_WINDOW = 32;

export interface ServerFilter {
  matches(event: RecordedEvent): boolean;
  /** Considered events between two checkpoints: checkpoint interval multiplier × search window. */
  checkpointInterval: number;
  describe: string;
}

export class FilterError extends Error {
  override readonly name = 'FilterError';
}

function expressionPredicate(expression: ReadReq.Options.FilterOptions.Expression, what: string): (value: string) => boolean {
  const regex = expression.getRegex();
  if (regex !== '') {
    let compiled: RegExp;
    try {
      compiled = new RegExp(regex);
    } catch (error) {
      throw new FilterError(`The ${what} regex '${regex}' is not valid: ${(error as Error).message}`);
    }
    return (value) => compiled.test(value);
  }
  const prefixes = expression.getPrefixList();
  return (value) => prefixes.some((prefix) => value.startsWith(prefix));
}

export function toServerFilter(options: ReadReq.Options.FilterOptions): ServerFilter {
  const Case = ReadReq.Options.FilterOptions.FilterCase;
  let matches: (event: RecordedEvent) => boolean;
  let describe: string;
  switch (options.getFilterCase()) {
    case Case.STREAM_IDENTIFIER: {
      const expression = options.getStreamIdentifier()!;
      const test = expressionPredicate(expression, 'stream name');
      matches = (event) => test(event.stream);
      describe = `stream name ${expression.getRegex() || expression.getPrefixList().join('|')}`;
      break;
    }
    case Case.EVENT_TYPE: {
      const expression = options.getEventType()!;
      const test = expressionPredicate(expression, 'event type');
      matches = (event) => test(event.type);
      describe = `event type ${expression.getRegex() || expression.getPrefixList().join('|')}`;
      break;
    }
    default:
      throw new FilterError('A filter must be on the stream name or on the event type.');
  }
  const window = options.getWindowCase() === ReadReq.Options.FilterOptions.WindowCase.MAX ? options.getMax() : DEFAULT_SEARCH_WINDOW;
  const multiplier = options.getCheckpointintervalmultiplier();
  if (window <= 0) throw new FilterError('The filter search window must be greater than 0.');
  if (multiplier <= 0) throw new FilterError('The checkpoint interval multiplier must be greater than 0.');
  return { matches, checkpointInterval: multiplier * window, describe };
}
