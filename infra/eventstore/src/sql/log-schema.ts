/**
 * The log's table and its append function, for PostgreSQL and PGlite alike.
 *
 * Why appends are serialized: every append first takes the log's
 * transaction-scoped advisory lock, then reads the head and the stream's
 * revision from the events' own indexes, so positions are handed out and
 * committed in the same order and without gaps. (PostgreSQL releases a
 * transaction's locks only after its commit is visible, and each statement
 * of the function reads a fresh snapshot, so the next holder always sees
 * the previous append.) A reader that has seen position N has therefore
 * seen every event before N, which is what lets subscriptions resume from a
 * checkpoint with no gap. (With a plain sequence, a transaction holding
 * position 10 can commit after one holding 11, and a reader that saw 11
 * would skip 10 forever.) The price is one append transaction at a time.
 */

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export interface LogTables {
  schema: string;
  events: string;
  append: string;
  appendOne: string;
  appendGroup: string;
  channel: string;
}

export function logTables(schema: string): LogTables {
  const s = quoteIdent(schema);
  return {
    schema: s,
    events: `${s}.log_events`,
    append: `${s}.log_append`,
    appendOne: `${s}.log_append_one`,
    appendGroup: `${s}.log_append_group`,
    channel: schema === 'public' ? 'canopy_log' : `canopy_log_${schema}`,
  };
}

export function logMigration(t: LogTables): string {
  return `
BEGIN;
SELECT pg_advisory_xact_lock(hashtext(${literal(`canopy-log-migrate:${t.schema}`)}));
CREATE SCHEMA IF NOT EXISTS ${t.schema};
-- Earlier versions kept the head and each stream's revision in tables of their own.
DROP TABLE IF EXISTS ${t.schema}.log_head, ${t.schema}.log_streams;
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

-- Earlier versions returned a table; a changed result type cannot be replaced in place.
DO $do$ BEGIN
  IF EXISTS (SELECT 1 FROM pg_proc WHERE oid = to_regprocedure(${literal(`${t.append}(text, text, uuid[], text[], text[], text[])`)})
             AND prorettype <> 'bigint[]'::regtype) THEN
    DROP FUNCTION ${t.append}(text, text, uuid[], text[], text[], text[]);
  END IF;
END $do$;
${appendFunction(t, t.append, 'p_ids uuid[], p_types text[], p_data text[], p_metadata text[]', 'cardinality(p_ids)', `
    SELECT v_head + n, p_stream, v_current + n, u.id, u.type, u.data::json, u.metadata::json, v_now
    FROM unnest(p_ids, p_types, p_data, p_metadata) WITH ORDINALITY AS u(id, type, data, metadata, n)`)}
${appendFunction(t, t.appendOne, 'p_id uuid, p_type text, p_data text, p_metadata text', '1', `
    VALUES (v_head + 1, p_stream, v_current + 1, p_id, p_type, p_data::json, p_metadata::json, v_now)`)}
${appendGroupFunction(t)}
COMMIT;
`;
}

/**
 * An append function: `log_append` takes arrays (any number of events),
 * `log_append_one` one event's fields, which spares PGlite building and
 * unnesting arrays for the common single-event append.
 *
 * Under the log's lock it checks the expected revision and inserts. It
 * answers a bigint[] (a scalar costs less to return than a row):
 * `{1, revision, position, recorded at (µs since 1970)}` on success, or
 * `{0, actual revision (null when the stream does not exist)}` when the
 * expected revision does not hold. An id already in the log raises SQLSTATE
 * CN001 and writes nothing. In both failure cases the caller looks the ids
 * up to tell a retry of an earlier append (answered with its first result)
 * from a reused id: that costs a query only when an append fails.
 */
function appendFunction(t: LogTables, name: string, eventParameters: string, count: string, rows: string): string {
  return `CREATE OR REPLACE FUNCTION ${name}(p_stream text, p_expected text, ${eventParameters}) RETURNS bigint[]
LANGUAGE plpgsql AS $fn$
DECLARE
  v_head bigint;
  v_current bigint;
  v_count int := ${count};
  v_inserted int;
  v_now timestamptz;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext(${literal(`canopy-log-append:${t.schema}`)}));
  SELECT coalesce(max(e.position), 0) INTO v_head FROM ${t.events} e;
  -- Taken under the lock, so recording times never go backwards along the log.
  v_now := clock_timestamp();

  SELECT max(e.revision) INTO v_current FROM ${t.events} e WHERE e.stream = p_stream;
  IF (p_expected = 'no_stream' AND v_current IS NOT NULL)
     OR (p_expected = 'stream_exists' AND v_current IS NULL)
     OR (p_expected NOT IN ('any', 'no_stream', 'stream_exists') AND v_current IS DISTINCT FROM p_expected::bigint) THEN
    RETURN ARRAY[0, v_current];
  END IF;

  v_current := coalesce(v_current, -1);
  INSERT INTO ${t.events} (position, stream, revision, id, type, data, metadata, created_at)${rows}
    ON CONFLICT (id) DO NOTHING;
  GET DIAGNOSTICS v_inserted = ROW_COUNT;
  IF v_inserted < v_count THEN
    RAISE EXCEPTION 'event id already in the log' USING ERRCODE = 'CN001';
  END IF;
  PERFORM pg_notify(${literal(t.channel)}, (v_head + v_count)::text);
  RETURN ARRAY[1, v_current + v_count, v_head + v_count, (extract(epoch FROM v_now) * 1000000)::bigint];
END
$fn$;`;
}

/**
 * `log_append_group`: several appends (to any streams) in one transaction
 * under one take of the log's lock, in the order given, each checked and
 * written all or nothing as `log_append` would. Append i has `p_counts[i]`
 * events; `p_previous[i]` is the earlier append of the group to the same
 * stream (0 for none), so that its revision is known without a lookup. The
 * events are laid end to end, each with its append (`p_append`) and its
 * place in it from 1 (`p_nth`); their data and metadata come as two JSON
 * arrays (each element's text is stored as it is), which the client sends
 * without escaping every element. The checks run append by append on
 * scalars; the writes are one INSERT of every written append's events.
 *
 * It answers four bigints per append: `{1, revision, position, recorded
 * at}` when written, `{0, actual revision or null, null, null}` when its
 * expected revision does not hold, `{2, null, null, null}` when one of its
 * ids is in the log. The caller never puts an id in two appends of one
 * group, so ids are looked up once for the whole group.
 */
function appendGroupFunction(t: LogTables): string {
  return `CREATE OR REPLACE FUNCTION ${t.appendGroup}(
  p_streams text[], p_expected text[], p_counts int[], p_previous int[],
  p_append int[], p_nth int[], p_ids uuid[], p_types text[], p_data json, p_metadata json) RETURNS bigint[]
LANGUAGE plpgsql AS $fn$
DECLARE
  v_head bigint;
  v_start bigint;
  v_now timestamptz;
  v_at bigint;
  v_taken uuid[];
  -- Per append: its stream's revision in the log before the group; after it (or before it, when not written); the head before it; whether written.
  v_stored bigint[];
  v_revision bigint[] := '{}';
  v_base bigint[] := '{}';
  v_written boolean[] := '{}';
  v_current bigint;
  v_duplicate boolean;
  v_out bigint[] := '{}';
  v_from int := 1;
  i int;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext(${literal(`canopy-log-append:${t.schema}`)}));
  SELECT coalesce(max(e.position), 0) INTO v_head FROM ${t.events} e;
  v_start := v_head;
  v_now := clock_timestamp();
  v_at := (extract(epoch FROM v_now) * 1000000)::bigint;
  SELECT coalesce(array_agg(e.id), '{}') INTO v_taken FROM ${t.events} e WHERE e.id = ANY (p_ids);
  SELECT array_agg(CASE WHEN s.previous = 0 THEN (SELECT max(e.revision) FROM ${t.events} e WHERE e.stream = s.stream) END ORDER BY s.i)
    INTO v_stored FROM unnest(p_streams, p_previous) WITH ORDINALITY AS s(stream, previous, i);

  FOR i IN 1 .. cardinality(p_streams) LOOP
    v_current := CASE WHEN p_previous[i] > 0 THEN v_revision[p_previous[i]] ELSE v_stored[i] END;
    v_duplicate := false;
    IF cardinality(v_taken) > 0 THEN
      v_duplicate := p_ids[v_from : v_from + p_counts[i] - 1] && v_taken;
    END IF;
    IF v_duplicate THEN
      v_revision[i] := v_current;
      v_written[i] := false;
      v_out := v_out || ARRAY[2, NULL, NULL, NULL]::bigint[];
    ELSIF (p_expected[i] = 'no_stream' AND v_current IS NOT NULL)
       OR (p_expected[i] = 'stream_exists' AND v_current IS NULL)
       OR (p_expected[i] NOT IN ('any', 'no_stream', 'stream_exists') AND v_current IS DISTINCT FROM p_expected[i]::bigint) THEN
      v_revision[i] := v_current;
      v_written[i] := false;
      v_out := v_out || ARRAY[0, v_current, NULL, NULL]::bigint[];
    ELSE
      v_revision[i] := coalesce(v_current, -1) + p_counts[i];
      v_base[i] := v_head;
      v_written[i] := true;
      v_head := v_head + p_counts[i];
      v_out := v_out || ARRAY[1, v_revision[i], v_head, v_at];
    END IF;
    v_from := v_from + p_counts[i];
  END LOOP;

  IF v_head > v_start THEN
    INSERT INTO ${t.events} (position, stream, revision, id, type, data, metadata, created_at)
      SELECT v_base[u.a] + u.k, p_streams[u.a], v_revision[u.a] - p_counts[u.a] + u.k, u.id, u.type, u.data, u.metadata, v_now
      FROM ROWS FROM (unnest(p_append), unnest(p_nth), unnest(p_ids), unnest(p_types), json_array_elements(p_data), json_array_elements(p_metadata))
        AS u(a, k, id, type, data, metadata)
      WHERE v_written[u.a];
    PERFORM pg_notify(${literal(t.channel)}, v_head::text);
  END IF;
  RETURN v_out;
END
$fn$;`;
}

function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
