-- Whether another shape of the stream index (or another order of the rows) would make schema version 3's bulk
-- insert cheaper for the server: P3's rows (p3-rows.sql: 1,000,000 rows over 100,000 streams), 10,000 a
-- committed statement, the variants taking turns batch by batch so that they share the machine's load:
--   v3           — schema version 3 as the store creates it: stream_key bigint (hashtextextended), index on
--                  (stream_key, version), UNIQUE (id), primary key position;
--   v3_sorted    — the same table, each batch's rows inserted in stream_key order instead of position order (the
--                  stream index then fills left to right within a batch; the position and id indexes do not);
--   v3_int4      — stream_key int (hashtext) instead of bigint;
--   v3_int4int4  — stream_key int and the version indexed as int: an index entry of 8 bytes of key instead of 16;
--   v3_keyonly   — the index on stream_key alone (its duplicates deduplicated into posting lists; reading a
--                  stream from a version would then read all of the stream's entries);
--   v3_novac     — v3 with autovacuum off for the table.
-- Prints the mean and median milliseconds per 10,000-row statement for each, and the indexes' sizes.
--
--   eval "$(bash Tools/scripts/postgres.sh start)"
--   psql "$CUMULUS_POSTGRES_URL" -q -f Benchmarks/postgres/stream-index-variants.sql
--
-- Everything lives in the schema cumulus_index_variants, dropped at the end. Takes two to four minutes.
\set ON_ERROR_STOP on
DROP SCHEMA IF EXISTS cumulus_index_variants CASCADE;
CREATE SCHEMA cumulus_index_variants;
SET search_path TO cumulus_index_variants;
SET jit = off;
\set rows 1000000
\ir p3-rows.sql
ALTER TABLE source ADD PRIMARY KEY (position);
ANALYZE source;
CREATE TABLE v3 (LIKE source,
    stream_key bigint GENERATED ALWAYS AS (hashtextextended(stream, 0)) STORED, PRIMARY KEY (position), UNIQUE (id));
CREATE INDEX ON v3 (stream_key, version);
CREATE TABLE v3_sorted (LIKE v3 INCLUDING ALL);
CREATE TABLE v3_int4 (LIKE source,
    stream_key int GENERATED ALWAYS AS (hashtext(stream)) STORED, PRIMARY KEY (position), UNIQUE (id));
CREATE INDEX ON v3_int4 (stream_key, version);
CREATE TABLE v3_int4int4 (LIKE source,
    stream_key int GENERATED ALWAYS AS (hashtext(stream)) STORED,
    version4 int GENERATED ALWAYS AS (version::int) STORED, PRIMARY KEY (position), UNIQUE (id));
CREATE INDEX ON v3_int4int4 (stream_key, version4);
CREATE TABLE v3_keyonly (LIKE source,
    stream_key bigint GENERATED ALWAYS AS (hashtextextended(stream, 0)) STORED, PRIMARY KEY (position), UNIQUE (id));
CREATE INDEX ON v3_keyonly (stream_key);
CREATE TABLE v3_novac (LIKE v3 INCLUDING ALL) WITH (autovacuum_enabled = false);
CREATE TABLE result (variant text, milliseconds numeric);

CREATE PROCEDURE run_all() LANGUAGE plpgsql AS $$
DECLARE
    variant text;
    started timestamptz;
BEGIN
    FOR batch IN 0..99 LOOP
        FOREACH variant IN ARRAY ARRAY['v3', 'v3_sorted', 'v3_int4', 'v3_int4int4', 'v3_keyonly', 'v3_novac'] LOOP
            started := clock_timestamp();
            IF variant = 'v3_sorted' THEN
                INSERT INTO v3_sorted SELECT * FROM source
                WHERE position > batch * 10000 AND position <= (batch + 1) * 10000
                ORDER BY hashtextextended(stream, 0);
            ELSE
                EXECUTE format('INSERT INTO %I SELECT * FROM source WHERE position > $1 AND position <= $2', variant)
                    USING batch * 10000, (batch + 1) * 10000;
            END IF;
            COMMIT;
            INSERT INTO result VALUES (variant, extract(epoch FROM clock_timestamp() - started) * 1000);
            COMMIT;
        END LOOP;
    END LOOP;
END
$$;
CALL run_all();

SELECT variant AS "rows into", round(avg(milliseconds), 1) AS "mean ms per 10,000",
    round(percentile_cont(0.5) WITHIN GROUP (ORDER BY milliseconds)::numeric, 1) AS "median ms per 10,000"
FROM result GROUP BY variant ORDER BY 3;
SELECT indexrelid::regclass AS index, pg_size_pretty(pg_relation_size(indexrelid)) AS size
FROM pg_index WHERE indrelid::regclass::text LIKE 'v3%' ORDER BY 1::text;
SET search_path TO DEFAULT;
DROP SCHEMA cumulus_index_variants CASCADE;
