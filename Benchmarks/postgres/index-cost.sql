-- Where the PostgreSQL store's bulk import (cumulus-bench postgres, P3) spends its time on the server.
--
-- The same 200,000 rows over 20,000 streams (stream names in random order, as in P3), 10,000 rows per statement,
-- inserted into tables with the store's columns (docs/postgres.md, "Schema") that differ only in their indexes
-- (`plus_stream_c` declares the stream column `COLLATE "C"`). Prints microseconds per row for each.
--
--   eval "$(bash Tools/scripts/postgres.sh start)"
--   psql "$CUMULUS_POSTGRES_URL" -q -f Benchmarks/postgres/index-cost.sql
--
-- Everything lives in the schema cumulus_index_cost, dropped at the end.
\set ON_ERROR_STOP on
DROP SCHEMA IF EXISTS cumulus_index_cost CASCADE;
CREATE SCHEMA cumulus_index_cost;
SET search_path TO cumulus_index_cost;
CREATE TABLE source AS
SELECT g::bigint AS position, 'user-' || md5((g % 20000)::text) AS stream, (g / 20000 + 1)::bigint AS version,
    (lpad(to_hex(g), 12, '0') || '7000' || '8000' || lpad(to_hex(g), 12, '0'))::uuid AS id,
    'PresenceChanged'::text AS type, 1 AS schema_version, 'presenceFeed:tenant'::text AS actor,
    g::bigint AS occurred_at, g::bigint AS recorded_at, NULL::uuid AS correlation_id, NULL::uuid AS causation_id,
    greatest(g - 20000, 0)::bigint AS previous_in_stream, decode(repeat('ab', 200), 'hex') AS payload,
    sha256(g::text::bytea) AS link
FROM generate_series(1, 200000) AS g;
ALTER TABLE source ADD PRIMARY KEY (position);
ANALYZE source;
CREATE TABLE only_position (LIKE source INCLUDING DEFAULTS);
ALTER TABLE only_position ADD PRIMARY KEY (position);
CREATE TABLE plus_id (LIKE source, PRIMARY KEY (position), UNIQUE (id));
CREATE TABLE plus_stream (LIKE source, PRIMARY KEY (position), UNIQUE (id), UNIQUE (stream, version));
CREATE TABLE plus_stream_c (LIKE source, PRIMARY KEY (position), UNIQUE (id));
ALTER TABLE plus_stream_c ALTER COLUMN stream TYPE text COLLATE "C";
ALTER TABLE plus_stream_c ADD UNIQUE (stream, version);
CREATE TABLE result (variant text, microseconds_per_row numeric);

DO $$
DECLARE
    variant text;
    started timestamptz;
BEGIN
    FOREACH variant IN ARRAY ARRAY['only_position', 'plus_id', 'plus_stream', 'plus_stream_c'] LOOP
        started := clock_timestamp();
        FOR batch IN 0..19 LOOP
            EXECUTE format('INSERT INTO %I SELECT * FROM source WHERE position > $1 AND position <= $2', variant)
                USING batch * 10000, (batch + 1) * 10000;
        END LOOP;
        INSERT INTO result VALUES (variant,
            round(extract(epoch FROM clock_timestamp() - started) * 1e6 / 200000, 2));
    END LOOP;
END
$$;

SELECT variant AS "rows into", microseconds_per_row AS "µs per row" FROM result;
SET search_path TO DEFAULT;
DROP SCHEMA cumulus_index_cost CASCADE;
