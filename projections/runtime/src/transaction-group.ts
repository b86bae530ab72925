import { joinScripts, type ReadModelDb, type ReadModelTx } from './read-model-db.js';

interface Work {
  fn: (tx: ReadModelTx) => Promise<void>;
  key: string;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Runs the work handed in during one turn of the event loop in one
 * transaction: live, every projector gets the same new event at the same
 * moment, and one commit for all of them costs far less than one each
 * (on embedded PGlite, a commit is most of a small batch's time). Scripts
 * the work runs (`exec`) are sent together, in one call, before the next
 * query or the commit: on PGlite each call costs about as much as a short
 * script. When the shared transaction fails, each piece of work runs again
 * in a transaction of its own, so each gets its own outcome.
 */
export class TransactionGroup {
  private pending: Work[] = [];
  private scheduled = false;

  constructor(private readonly db: ReadModelDb) {}

  /** `key`: the work of one group runs in key order, so that two processes grouping the same keys take their locks in one order (no deadlock). */
  run(key: string, fn: (tx: ReadModelTx) => Promise<void>): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ fn, key, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const group = this.pending.splice(0).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    if (group.length === 1) return this.alone(group[0]!);
    try {
      await this.db.transaction(async (tx) => {
        const deferred = new DeferredScripts(tx);
        for (const work of group) await work.fn(deferred);
        await deferred.flush();
      });
    } catch {
      await Promise.all(group.map((work) => this.alone(work)));
      return;
    }
    for (const work of group) work.resolve();
  }

  private alone(work: Work): Promise<void> {
    return this.db
      .transaction(async (tx) => {
        const deferred = new DeferredScripts(tx);
        await work.fn(deferred);
        await deferred.flush();
      })
      .then(work.resolve, work.reject);
  }
}

/** A transaction whose scripts wait, joined into one, until a query needs the database or `flush`. */
class DeferredScripts implements ReadModelTx {
  private scripts: string[] = [];

  constructor(private readonly tx: ReadModelTx) {}

  async query<Row>(sql: string, params?: readonly unknown[]): Promise<Row[]> {
    await this.flush();
    return this.tx.query<Row>(sql, params);
  }

  async exec(script: string): Promise<void> {
    this.scripts.push(script);
  }

  async flush(): Promise<void> {
    if (this.scripts.length === 0) return;
    const script = joinScripts(this.scripts);
    this.scripts = [];
    await this.tx.exec(script);
  }
}
