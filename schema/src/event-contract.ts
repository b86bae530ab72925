import { z } from 'zod';
import { CanopyError, ErrorCode } from './errors.js';

/** Turns the payload of version `from` into the payload of version `from + 1`. */
export type Upcaster = (payload: unknown) => unknown;

/**
 * The contract of one domain event type: its name, its current version, the
 * validator of the current payload, and one upcaster per older version. Old
 * events are never rewritten in the log; they are upcast when read.
 */
export interface EventContract<TType extends string = string, TPayload = unknown> {
  readonly type: TType;
  readonly version: number;
  readonly payload: z.ZodType<TPayload>;
  /** `upcasters[v]` lifts a version `v` payload to version `v + 1`. */
  readonly upcasters: Readonly<Record<number, Upcaster>>;
}

export function defineEvent<TType extends string, TPayload>(contract: {
  type: TType;
  version?: number;
  payload: z.ZodType<TPayload>;
  upcasters?: Record<number, Upcaster>;
}): EventContract<TType, TPayload> {
  const version = contract.version ?? 1;
  if (!Number.isInteger(version) || version < 1) {
    throw new Error(`event ${contract.type}: version must be a positive integer, got ${version}`);
  }
  const upcasters = contract.upcasters ?? {};
  for (let v = 1; v < version; v++) {
    if (typeof upcasters[v] !== 'function') {
      throw new Error(`event ${contract.type} v${version}: missing upcaster from v${v} to v${v + 1}`);
    }
  }
  return Object.freeze({ type: contract.type, version, payload: contract.payload, upcasters: Object.freeze({ ...upcasters }) });
}

export type PayloadOf<C> = C extends EventContract<string, infer P> ? P : never;

/** The `{ type, data }` union of the events of one or more contracts, as deciders emit them. */
export type EventOf<C> = C extends EventContract<infer T, infer P> ? { type: T; data: P } : never;

/** Formats zod issues as `path: message` lines for error details. */
export function describeIssues(error: z.ZodError): { field: string; message: string }[] {
  return error.issues.map((issue) => ({ field: issue.path.join('.') || '(root)', message: issue.message }));
}

/**
 * Payloads this process validated, with the contract they passed. The log
 * hands a process's own appends to its subscribers as copies of the
 * payloads (parsed from the text it stored); a copy of a checked payload
 * is marked too, and reading it at the contract's current version costs no
 * second validation. Marked copies are frozen: every reader in the process
 * shares them.
 */
const checkedPayloads = new WeakMap<object, EventContract>();

/** Stored payloads this process has lifted (see `EventRegistry.upcast`): the version they were stored at and what they became. */
const liftedPayloads = new WeakMap<object, { contract: EventContract; version: number; payload: unknown }>();

/** That a payload passed its contract, as `checkOf` saw it: to mark a copy of it with (`markCopy`). */
export interface PayloadCheck {
  readonly contract: EventContract;
}

/**
 * The check `payload` passed in this process, if any. For the log's store,
 * in the same synchronous step in which it serializes `payload`: what the
 * text holds is then what was checked.
 */
export function checkOf(payload: unknown): PayloadCheck | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined;
  const contract = checkedPayloads.get(payload);
  return contract && { contract };
}

/** Marks `copy` (parsed from the text of a checked payload) as checked, and freezes it. */
export function markCopy(check: PayloadCheck | undefined, copy: unknown): void {
  if (check === undefined || typeof copy !== 'object' || copy === null) return;
  checkedPayloads.set(deepFreeze(copy), check.contract);
}

function deepFreeze<T extends object>(value: T): T {
  // A payload parsed from JSON: plain objects and arrays, every key its own.
  for (const key in value) {
    const inner = value[key];
    if (typeof inner === 'object' && inner !== null) deepFreeze(inner);
  }
  return Object.freeze(value);
}

/**
 * The set of known event contracts. Writers validate through it (an invalid
 * payload is never appended); readers upcast through it.
 */
export class EventRegistry {
  private readonly contracts = new Map<string, EventContract>();

  constructor(contracts: Iterable<EventContract> = []) {
    for (const contract of contracts) this.register(contract);
  }

  register(contract: EventContract): this {
    if (this.contracts.has(contract.type)) throw new Error(`event type ${contract.type} is registered twice`);
    this.contracts.set(contract.type, contract);
    return this;
  }

  has(type: string): boolean {
    return this.contracts.has(type);
  }

  contract(type: string): EventContract {
    const contract = this.contracts.get(type);
    if (!contract) {
      throw new CanopyError(ErrorCode.UNKNOWN_EVENT_TYPE, `Event type "${type}" has no contract in schema/. Register it before appending.`, { type });
    }
    return contract;
  }

  /** Validates a payload of the current version; returns the parsed payload (unknown keys stripped). */
  validate(type: string, payload: unknown): { version: number; payload: unknown } {
    const contract = this.contract(type);
    const result = contract.payload.safeParse(payload);
    if (!result.success) {
      const issues = describeIssues(result.error);
      throw new CanopyError(
        ErrorCode.INVALID_EVENT_PAYLOAD,
        `Payload of ${type} v${contract.version} is invalid: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`,
        { type, version: contract.version, issues },
      );
    }
    if (typeof result.data === 'object' && result.data !== null) checkedPayloads.set(result.data, contract);
    return { version: contract.version, payload: result.data };
  }

  /**
   * Lifts a stored payload of `version` to the contract's current version and
   * validates it. The lifted payload of a stored object is kept with it (and
   * frozen): the subscriptions of a process share the events they read, and
   * each would otherwise validate the same payload again.
   */
  upcast(type: string, version: number, payload: unknown): unknown {
    const contract = this.contract(type);
    if (!Number.isInteger(version) || version < 1 || version > contract.version) {
      throw new CanopyError(
        ErrorCode.INVALID_EVENT_PAYLOAD,
        `Stored ${type} has version ${version}, but this build knows versions 1..${contract.version}.`,
        { type, version, known: contract.version },
      );
    }
    const stored = typeof payload === 'object' && payload !== null ? payload : undefined;
    if (stored === undefined) return this.lift(contract, version, payload);
    if (version === contract.version && checkedPayloads.get(stored) === contract) return stored;
    const earlier = liftedPayloads.get(stored);
    if (earlier?.contract === contract && earlier.version === version) return earlier.payload;
    const lifted = this.lift(contract, version, stored);
    if (typeof lifted === 'object' && lifted !== null) deepFreeze(lifted);
    liftedPayloads.set(stored, { contract, version, payload: lifted });
    return lifted;
  }

  private lift(contract: EventContract, version: number, payload: unknown): unknown {
    let current = payload;
    for (let v = version; v < contract.version; v++) current = contract.upcasters[v]!(current);
    return this.validate(contract.type, current).payload;
  }
}
