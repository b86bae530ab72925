import pg from 'pg';
import type { Logger } from 'pino';
import type { ClusterWorkConfig } from './config.js';

/**
 * Which process of a deployment leads: the one that runs the cluster work.
 * `leading` changes only through `onChange` listeners, called in order, one
 * change at a time.
 */
export interface Leadership {
  readonly leading: boolean;
  /** What the process holds leadership through, for logs and health. */
  readonly description: string;
  /** Called with each change of `leading` (not with the current value). */
  onChange(listener: (leading: boolean) => void): void;
  /** Gives leadership up (if held) and stops trying to take it. */
  stop(): Promise<void>;
}

/** A process alone on its data (the embedded databases are locked to it): it always leads. */
export function soleLeadership(): Leadership {
  return { leading: true, description: 'sole process on its data directory', onChange() {}, stop: async () => {} };
}

export interface PostgresLeadershipOptions {
  url: string;
  /** Processes with the same name compete for one leadership (Canopy uses its PostgreSQL schema). */
  name: string;
  /** How often a standby tries to take over, and the leader checks that it still holds the lock. */
  intervalMs: number;
  logger: Logger;
}

/**
 * Leadership through a PostgreSQL session-level advisory lock, held on a
 * connection of its own: the server releases it the moment that session
 * ends (process exit or crash, connection closed), and another process takes
 * it at its next try. The session sets TCP keepalives, so that the server
 * also ends it within about 15 s when the leader's host vanishes without
 * closing the connection. The leader runs a query every interval, bounded
 * by `TIMEOUT_MS`: when one fails it counts itself a follower at once
 * (before the server could have released the lock to anyone else, short of
 * a session the server ended unseen by the client) and tries again later.
 */
/** Bound of a connection attempt and of each query: a busy server is not a lost one. */
const TIMEOUT_MS = 5000;

export async function postgresLeadership(options: PostgresLeadershipOptions): Promise<Leadership> {
  const leadership = new PostgresLeadership(options);
  await leadership.attempt();
  leadership.schedule();
  return leadership;
}

class PostgresLeadership implements Leadership {
  leading = false;
  readonly description: string;
  private client: pg.Client | undefined;
  private readonly listeners: ((leading: boolean) => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly options: PostgresLeadershipOptions) {
    this.description = `PostgreSQL advisory lock "${lockName(options.name)}"`;
  }

  onChange(listener: (leading: boolean) => void): void {
    this.listeners.push(listener);
  }

  schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.attempt().finally(() => this.schedule());
    }, this.options.intervalMs);
    this.timer.unref();
  }

  /** A standby's try to take the lock, or the leader's check that it still has its session. */
  async attempt(): Promise<void> {
    try {
      if (this.leading) {
        await this.client!.query({ text: 'SELECT 1', query_timeout: TIMEOUT_MS } as pg.QueryConfig);
        return;
      }
      this.client ??= await this.connect();
      const { rows } = await this.client.query<{ taken: boolean }>({
        text: 'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS taken',
        values: [lockName(this.options.name)],
        query_timeout: TIMEOUT_MS,
      } as pg.QueryConfig);
      if (rows[0]?.taken && !this.stopped) this.change(true);
    } catch (error) {
      this.lost(error);
    }
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: this.options.url, keepAlive: true, application_name: 'canopy-leadership', connectionTimeoutMillis: TIMEOUT_MS });
    // The session in use dying between queries: leadership goes with it at once. (An earlier client's last
    // events, and a new one's failure to connect, which `connect` answers, change nothing.)
    client.on('error', (error) => {
      if (this.client === client) this.lost(error);
    });
    client.on('end', () => {
      if (this.client === client) this.lost(new Error('the leadership connection ended'));
    });
    try {
      await client.connect();
      await client.query('SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; SET tcp_keepalives_count = 5');
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    return client;
  }

  private lost(error: unknown): void {
    const client = this.client;
    this.client = undefined;
    client?.end().catch(() => {});
    if (this.leading) {
      this.options.logger.error({ err: error }, 'lost the leadership connection: the cluster work stops here until this process leads again');
      this.change(false);
    } else if (!this.stopped) {
      this.options.logger.warn({ err: error }, 'could not try to take leadership; trying again');
    }
  }

  private change(leading: boolean): void {
    if (this.leading === leading) return;
    this.leading = leading;
    for (const listener of this.listeners) listener(leading);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    const client = this.client;
    this.client = undefined;
    this.change(false);
    // Ending the session releases the lock.
    await client?.end().catch(() => {});
  }
}

function lockName(name: string): string {
  return `canopy-cluster-work:${name}`;
}

/** The leadership a configuration asks for: none with CANOPY_CLUSTER_WORK=off, the PostgreSQL server's with CANOPY_POSTGRES_URL, else the sole process's. */
export async function leadershipFor(config: ClusterWorkConfig, logger: Logger): Promise<Leadership> {
  if (config.mode === 'off') return { leading: false, description: 'CANOPY_CLUSTER_WORK=off', onChange() {}, stop: async () => {} };
  if (config.leadership.kind === 'sole') return soleLeadership();
  return postgresLeadership({ url: config.leadership.url, name: config.leadership.name, intervalMs: config.intervalMs, logger });
}
