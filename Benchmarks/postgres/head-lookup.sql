-- Where a bulk import batch's stream heads should come from (issue 12, schema version 2; docs/postgres.md).
--
-- Two copies of one log of 1,000,000 events over 100,000 streams (10 events each, streams in random order), with
-- the store's columns and indexes. Then batches of 10,000 events, each over 10,000 distinct streams, are written
-- to each copy, timing every step:
--   (a) schema version 1: read the heads from the `streams` table, insert the rows, upsert `streams`;
--   (b) schema version 2: no `streams` table; read the heads from the events' `(stream, version)` index with a
--       LATERAL `ORDER BY version DESC LIMIT 1` per stream, insert the rows;
--   (c) as (b), on a table without the unique `id` index (the writer checks ids under the head lock) — only to
--       see what that index costs at this size.
-- Prints milliseconds per 10,000-event batch for each step (the median of the batches).
--
--   eval "$(bash Tools/scripts/postgres.sh start)"
--   psql "$CUMULUS_POSTGRES_URL" -q -f Benchmarks/postgres/head-lookup.sql
--
-- Everything lives in the schema cumulus_head_lookup, dropped at the end. Takes a few minutes.
\set ON_ERROR_STOP on
DROP SCHEMA IF EXISTS cumulus_head_lookup CASCADE;
CREATE SCHEMA cumulus_head_lookup;
SET search_path TO cumulus_head_lookup;

-- Stream k's name, and a random order of the 100,000 streams.
CREATE TABLE stream_order AS
SELECT k, 'user-' || md5(k::text) AS stream, row_number() OVER (ORDER BY md5('order' || k)) - 1 AS rank
FROM generate_series(0, 99999) AS k;

-- The first 1,000,000 events: round r (0…9) gives every stream its version r + 1, streams in random order.
CREATE TABLE source AS
SELECT (r * 100000 + o.rank + 1)::bigint AS position, o.stream, (r + 1)::bigint AS version,
    (lpad(to_hex(r * 100000 + o.rank + 1), 12, '0') || '7000' || '8000'
        || lpad(to_hex(r * 100000 + o.rank + 1), 12, '0'))::uuid AS id,
    'PresenceChanged'::text AS type, 1 AS schema_version, 'presenceFeed:tenant'::text AS actor,
    0::bigint AS occurred_at, 0::bigint AS recorded_at, NULL::uuid AS correlation_id, NULL::uuid AS causation_id,
    CASE WHEN r = 0 THEN 0 ELSE ((r - 1) * 100000 + o.rank + 1) END::bigint AS previous_in_stream,
    decode(repeat('ab', 120), 'hex') AS payload, sha256((r * 100000 + o.rank + 1)::text::bytea) AS link
FROM generate_series(0, 9) AS r CROSS JOIN stream_order AS o;

-- The batches: batch b (0…11) gives version 11 + b / 10 to the 10,000 streams of ranks (b % 10) * 10,000 …,
-- in a random order of their own.
CREATE TABLE batch AS
SELECT b, (1000000 + b * 10000 + row_number() OVER (PARTITION BY b ORDER BY md5(b || o.stream)))::bigint AS position,
    o.stream, (11 + b / 10)::bigint AS version
FROM generate_series(0, 11) AS b JOIN stream_order AS o ON o.rank / 10000 = b % 10;

CREATE TABLE events_a (LIKE source, PRIMARY KEY (position), UNIQUE (id), UNIQUE (stream, version));
CREATE TABLE streams_a (stream text PRIMARY KEY, version bigint NOT NULL, last_position bigint NOT NULL);
CREATE TABLE events_b (LIKE source, PRIMARY KEY (position), UNIQUE (id), UNIQUE (stream, version));
CREATE TABLE events_c (LIKE source, PRIMARY KEY (position), UNIQUE (stream, version));
INSERT INTO events_a SELECT * FROM source ORDER BY position;
INSERT INTO events_b SELECT * FROM source ORDER BY position;
INSERT INTO events_c SELECT * FROM source ORDER BY position;
INSERT INTO streams_a SELECT stream, max(version), max(position) FROM source GROUP BY stream;
VACUUM ANALYZE events_a;
VACUUM ANALYZE events_b;
VACUUM ANALYZE events_c;
VACUUM ANALYZE streams_a;

CREATE TABLE result (variant text, step text, b int, milliseconds numeric);

-- Runs one batch's steps on one variant; each step is timed on its own.
CREATE FUNCTION run_batch(variant text, batch_number int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    names text[];
    started timestamptz;
    found int;
BEGIN
    SELECT array_agg(stream ORDER BY position) INTO names FROM batch WHERE b = batch_number;
    started := clock_timestamp();
    IF variant = 'a' THEN
        SELECT count(*) INTO found FROM (
            SELECT stream, version, last_position FROM streams_a WHERE stream = ANY(names)) AS heads;
    ELSE
        EXECUTE format(
            'SELECT count(e.version) FROM unnest($1::text[]) AS s(name) LEFT JOIN LATERAL '
            || '(SELECT version, position FROM %I WHERE stream = s.name ORDER BY version DESC LIMIT 1) AS e ON true',
            'events_' || variant) INTO found USING names;
    END IF;
    IF found <> 10000 THEN RAISE EXCEPTION 'variant % batch %: % heads found', variant, batch_number, found; END IF;
    INSERT INTO result VALUES (variant, '1 read heads', batch_number,
        extract(epoch FROM clock_timestamp() - started) * 1000);
    started := clock_timestamp();
    EXECUTE format(
        'INSERT INTO %I SELECT x.position, x.stream, x.version, '
        || '(lpad(to_hex(x.position), 12, ''0'') || ''7000'' || ''8000'' || lpad(to_hex(x.position), 12, ''0''))::uuid, '
        || 's.type, s.schema_version, s.actor, s.occurred_at, s.recorded_at, NULL, NULL, 0, s.payload, s.link '
        || 'FROM batch AS x CROSS JOIN (SELECT * FROM source WHERE position = 1) AS s WHERE x.b = $1',
        'events_' || variant) USING batch_number;
    INSERT INTO result VALUES (variant, '2 insert rows', batch_number,
        extract(epoch FROM clock_timestamp() - started) * 1000);
    IF variant = 'a' THEN
        started := clock_timestamp();
        INSERT INTO streams_a (stream, version, last_position)
        SELECT stream, version, position FROM batch WHERE b = batch_number
        ON CONFLICT (stream) DO UPDATE SET version = excluded.version, last_position = excluded.last_position;
        INSERT INTO result VALUES (variant, '3 upsert streams', batch_number,
            extract(epoch FROM clock_timestamp() - started) * 1000);
    END IF;
END
$$;

-- Batches alternate between the variants, each in its own transaction (psql's autocommit), rotating who goes first.
SELECT format('DO $run$ BEGIN PERFORM run_batch(%L, %s); END $run$', v, b)
FROM generate_series(0, 11) AS b,
    LATERAL (SELECT v FROM unnest(ARRAY['a', 'b', 'c']) WITH ORDINALITY AS t(v, i)
        ORDER BY (i + b) % 3) AS vs
\gexec

SELECT variant AS "variant", step AS "step",
    round(percentile_cont(0.5) WITHIN GROUP (ORDER BY milliseconds)::numeric, 1) AS "ms per batch (median)",
    round(min(milliseconds), 1) AS "min", round(max(milliseconds), 1) AS "max"
FROM result GROUP BY variant, step
UNION ALL
SELECT variant, 'total', round(sum(m)::numeric, 1), NULL, NULL FROM (
    SELECT variant, step, percentile_cont(0.5) WITHIN GROUP (ORDER BY milliseconds) AS m
    FROM result GROUP BY variant, step) AS medians GROUP BY variant
ORDER BY 1, 2;
SET search_path TO DEFAULT;
DROP SCHEMA cumulus_head_lookup CASCADE;
