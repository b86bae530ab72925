import type { PreparedEvent } from '../validation.js';

/** One append waiting for its turn: a stream, what the writer expects of it, and its events. */
export interface AppendRequest {
  stream: string;
  /** `'any'`, `'no_stream'`, `'stream_exists'` or a revision, as text. */
  expected: string;
  events: readonly PreparedEvent[];
  /** Its events' `preparedSize`: a group closes at a size. */
  size: number;
}

/**
 * What the log answered one append: written (its stream's revision and the
 * position of its last event after it), not written because the expected
 * revision does not hold, or not written because one of its ids is in the
 * log already.
 */
export type AppendOutcome =
  | { ok: true; revision: bigint; position: bigint; recordedAt: Date }
  | { ok: false; reason: 'revision'; actual: bigint | undefined }
  | { ok: false; reason: 'duplicate-id' };

/** Writes appends in the order given, each all or nothing, one outcome per append. */
export type SendGroup = (group: readonly AppendRequest[]) => Promise<AppendOutcome[]>;

interface Waiting {
  request: AppendRequest;
  resolve(outcome: AppendOutcome): void;
  reject(error: unknown): void;
}

/**
 * Group commit for one process's appends. The log takes one append
 * transaction at a time (see `log-schema.ts`), so appends made while one is
 * in flight would only queue for its lock, each holding a connection and
 * paying a round trip and a commit of its own. Here they wait in memory
 * instead and go together as the next group: one call, one transaction,
 * one commit, their outcomes in submission order. An append made when none
 * is in flight goes at once, alone.
 *
 * A group never holds the same event id twice (such an append waits for
 * the next group), so the log can check ids once for the whole group.
 */
export class AppendGroups {
  private waiting: Waiting[] = [];
  private sending = false;

  constructor(
    private readonly send: SendGroup,
    /** A group closes once it reaches this many bytes of events (the first append always fits). */
    private readonly maxGroupBytes: number,
    private readonly maxGroupAppends = 1000,
  ) {}

  submit(request: AppendRequest): Promise<AppendOutcome> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ request, resolve, reject });
      if (!this.sending) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.sending = true;
    try {
      while (this.waiting.length > 0) {
        const group = this.nextGroup();
        try {
          const outcomes = await this.send(group.map((w) => w.request));
          group.forEach((waiting, i) => waiting.resolve(outcomes[i]!));
        } catch (error) {
          for (const waiting of group) waiting.reject(error);
        }
      }
    } finally {
      this.sending = false;
    }
  }

  /** Takes the longest run of waiting appends that fits a group. */
  private nextGroup(): Waiting[] {
    const ids = new Set<string>();
    let bytes = 0;
    let taken = 0;
    for (const waiting of this.waiting) {
      if (taken > 0 && (taken >= this.maxGroupAppends || bytes + waiting.request.size > this.maxGroupBytes)) break;
      if (waiting.request.events.some((event) => ids.has(event.id))) break;
      for (const event of waiting.request.events) ids.add(event.id);
      bytes += waiting.request.size;
      taken++;
    }
    return this.waiting.splice(0, taken);
  }
}
