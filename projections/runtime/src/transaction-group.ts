import type { ReadModelDb, ReadModelTx } from './read-model-db.js';

interface Work {
  fn: (tx: ReadModelTx) => Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Runs the work handed in during one turn of the event loop in one
 * transaction: live, every projector gets the same new event at the same
 * moment, and one commit for all of them costs far less than one each
 * (on embedded PGlite, a commit is most of a small batch's time). When the
 * shared transaction fails, each piece of work runs again in a transaction
 * of its own, so each gets its own outcome.
 */
export class TransactionGroup {
  private pending: Work[] = [];
  private scheduled = false;

  constructor(private readonly db: ReadModelDb) {}

  run(fn: (tx: ReadModelTx) => Promise<void>): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ fn, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const group = this.pending.splice(0);
    if (group.length === 1) return this.alone(group[0]!);
    try {
      await this.db.transaction(async (tx) => {
        for (const work of group) await work.fn(tx);
      });
    } catch {
      await Promise.all(group.map((work) => this.alone(work)));
      return;
    }
    for (const work of group) work.resolve();
  }

  private alone(work: Work): Promise<void> {
    return this.db.transaction(work.fn).then(work.resolve, work.reject);
  }
}
