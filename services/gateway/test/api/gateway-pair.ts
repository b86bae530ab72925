import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { uniqueSchema } from '@canopy/eventstore/testing';
import { TestGateway } from './client.js';

/**
 * Two gateways on one PostgreSQL schema — log, keys and read models on the
 * server — as two processes of one deployment run; `stop` stops both and
 * drops the schema and the read models' schemas (`<schema>_…`).
 */
export class GatewayPair {
  private constructor(
    readonly a: TestGateway,
    readonly b: TestGateway,
    readonly schema: string,
    /** The environment both run with (a restart takes it again). */
    readonly env: Record<string, string>,
    private readonly url: string,
  ) {}

  static async start(url: string, prefix: string, env: Record<string, string> = {}): Promise<GatewayPair> {
    const schema = uniqueSchema(prefix);
    const shared = { CANOPY_EVENTSTORE: 'postgres', CANOPY_POSTGRES_URL: url, CANOPY_POSTGRES_SCHEMA: schema, CANOPY_MASTER_KEY: randomBytes(32).toString('base64'), ...env };
    const a = await TestGateway.start({ env: shared });
    try {
      return new GatewayPair(a, await TestGateway.start({ env: shared }), schema, shared, url);
    } catch (error) {
      await a.stop();
      throw error;
    }
  }

  async stop(): Promise<void> {
    await this.a.stop();
    await this.b.stop();
    const client = new pg.Client({ connectionString: this.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE nspname = $1 OR nspname LIKE $2`, [this.schema, `${this.schema}\\_%`]);
      for (const { nspname } of rows) await client.query(`DROP SCHEMA "${nspname}" CASCADE`);
    } finally {
      await client.end();
    }
  }
}
