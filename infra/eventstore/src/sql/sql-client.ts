/**
 * The little the SQL event store needs from a PostgreSQL connection, so one
 * implementation serves both `pg` (a server) and PGlite (in-process WASM).
 */
export interface SqlClient {
  query<Row>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Runs a script of several statements (migrations). */
  exec(sql: string): Promise<void>;
  /** Calls `onNotify` with the payload of every NOTIFY on `channel`; resolves to an unlisten function. */
  listen(channel: string, onNotify: (payload: string | undefined) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
