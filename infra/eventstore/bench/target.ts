/**
 * What a scenario needs from a log under test. Each subject (the port's
 * adapters, the emmett peer) implements it once, so every subject runs the
 * very same scenario code.
 */
import type { JsonObject } from '../src/event-store.js';

export interface BenchEvent {
  type: string;
  data: JsonObject;
  metadata: JsonObject;
}

export interface BenchTarget {
  /**
   * Appends `events` atomically to `stream`, stating the exact expected
   * state: `eventsInStream` events are already in it (0: it does not exist).
   */
  append(stream: string, events: readonly BenchEvent[], eventsInStream: number): Promise<void>;
  /** Reads the whole log forwards (or only its first `limit` events); resolves to the number of events read. */
  readAll(limit?: number): Promise<number>;
  /**
   * Subscribes from the start of the log and resolves to the number of events
   * delivered once caught up (`expected` is the log's size, for subjects that
   * have no caught-up signal).
   */
  catchUp(expected: number): Promise<number>;
}

/** A subject ready to be measured, and how to tear it down. */
export interface OpenedTarget {
  target: BenchTarget;
  /** Facts about this subject's setup, shown in the report. */
  notes: string[];
  close(): Promise<void>;
}
