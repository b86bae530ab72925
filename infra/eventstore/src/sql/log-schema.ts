/**
 * The log's tables and its append function, for PostgreSQL and PGlite alike.
 *
 * Why appends are serialized: every append first locks the single row of
 * `log_head`, so positions are handed out and committed in the same order
 * and without gaps. A reader that has seen position N has therefore seen
 * every event before N, which is what lets subscriptions resume from a
 * checkpoint with no gap. (With a plain sequence, a transaction holding
 * position 10 can commit after one holding 11, and a reader that saw 11
 * would skip 10 forever.) The price is one append transaction at a time.
 */

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export interface LogTables {
  schema: string;
  head: string;
  streams: string;
  events: string;
  append: string;
  channel: string;
}

export function logTables(schema: string): LogTables {
  const s = quoteIdent(schema);
  return {
    schema: s,
    head: `${s}.log_head`,
    streams: `${s}.log_streams`,
    events: `${s}.log_events`,
    append: `${s}.log_append`,
    channel: schema === 'public' ? 'canopy_log' : `canopy_log_${schema}`,
  };
}

export function logMigration(t: LogTables): string {
  return `
BEGIN;
SELECT pg_advisory_xact_lock(hashtext(${literal(`canopy-log-migrate:${t.schema}`)}));
CREATE SCHEMA IF NOT EXISTS ${t.schema};
CREATE TABLE IF NOT EXISTS ${t.head} (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  position bigint NOT NULL
);
INSERT INTO ${t.head} (singleton, position) VALUES (true, 0) ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS ${t.streams} (
  stream text PRIMARY KEY,
  revision bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS ${t.events} (
  position bigint PRIMARY KEY,
  stream text NOT NULL,
  revision bigint NOT NULL,
  id uuid NOT NULL UNIQUE,
  type text NOT NULL,
  data json NOT NULL,
  metadata json NOT NULL,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  UNIQUE (stream, revision)
);
CREATE INDEX IF NOT EXISTS log_events_type_position ON ${t.events} (type, position);

-- Appends under the head lock and returns status 'ok', or
-- 'wrong_expected_version' with the actual revision (null when the stream
-- does not exist). An id already in the log raises SQLSTATE CN001 and
-- writes nothing. In both failure cases the caller looks the ids up to tell
-- a retry of an earlier append (answered with its first result) from a
-- reused id: that costs a query only when an append fails.
CREATE OR REPLACE FUNCTION ${t.append}(
  p_stream text, p_expected text, p_ids uuid[], p_types text[], p_data text[], p_metadata text[]
) RETURNS TABLE (out_status text, out_revision bigint, out_position bigint, out_actual bigint)
LANGUAGE plpgsql AS $fn$
DECLARE
  v_head bigint;
  v_current bigint;
  v_count int := cardinality(p_ids);
  v_inserted int;
BEGIN
  SELECT h.position INTO v_head FROM ${t.head} h WHERE h.singleton FOR UPDATE;

  SELECT s.revision INTO v_current FROM ${t.streams} s WHERE s.stream = p_stream;
  IF (p_expected = 'no_stream' AND v_current IS NOT NULL)
     OR (p_expected = 'stream_exists' AND v_current IS NULL)
     OR (p_expected NOT IN ('any', 'no_stream', 'stream_exists') AND v_current IS DISTINCT FROM p_expected::bigint) THEN
    RETURN QUERY SELECT 'wrong_expected_version'::text, NULL::bigint, NULL::bigint, v_current;
    RETURN;
  END IF;

  v_current := coalesce(v_current, -1);
  INSERT INTO ${t.events} (position, stream, revision, id, type, data, metadata)
    SELECT v_head + n, p_stream, v_current + n, u.id, u.type, u.data::json, u.metadata::json
    FROM unnest(p_ids, p_types, p_data, p_metadata) WITH ORDINALITY AS u(id, type, data, metadata, n)
    ON CONFLICT (id) DO NOTHING;
  GET DIAGNOSTICS v_inserted = ROW_COUNT;
  IF v_inserted < v_count THEN
    RAISE EXCEPTION 'event id already in the log' USING ERRCODE = 'CN001';
  END IF;
  UPDATE ${t.head} SET position = v_head + v_count WHERE singleton;
  INSERT INTO ${t.streams} AS s (stream, revision) VALUES (p_stream, v_current + v_count)
    ON CONFLICT (stream) DO UPDATE SET revision = excluded.revision;
  PERFORM pg_notify(${literal(t.channel)}, (v_head + v_count)::text);
  RETURN QUERY SELECT 'ok'::text, v_current + v_count, v_head + v_count, NULL::bigint;
END
$fn$;
COMMIT;
`;
}

function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
