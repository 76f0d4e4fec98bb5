-- What the store's stream index costs the server on a bulk import, and what schema version 3 changed.
--
-- 1,000,000 rows with the store's columns over 100,000 streams, shaped like `cumulus-bench postgres`'s P3 (each
-- event's stream picked at random; stream names `user-<uuid>`, 41 bytes; ids time-ordered like UUIDv7), inserted
-- 10,000 a statement, each statement committed, into tables that differ only in their indexes; the variants take
-- turns batch by batch, so that they share the machine's load:
--   limit_table — the benchmark limit's nine columns, primary key only;
--   v2          — schema version 2: primary key, UNIQUE (id), UNIQUE (stream, version);
--   v3          — schema version 3: the stream index keyed by
--                 stream_key bigint GENERATED ALWAYS AS (hashtextextended(stream, 0)) STORED, not unique;
--                 UNIQUE (id) kept;
--   v3_hash_id  — as v3, with a hash index on id instead of the unique B-tree (tried, not taken).
-- Prints the mean and median milliseconds per 10,000-row statement for each.
--
--   eval "$(bash Tools/scripts/postgres.sh start)"
--   psql "$CUMULUS_POSTGRES_URL" -q -f Benchmarks/postgres/key-cost.sql
--
-- Everything lives in the schema cumulus_key_cost, dropped at the end. Takes one to three minutes.
\set ON_ERROR_STOP on
DROP SCHEMA IF EXISTS cumulus_key_cost CASCADE;
CREATE SCHEMA cumulus_key_cost;
SET search_path TO cumulus_key_cost;
\set rows 1000000
\ir p3-rows.sql
ALTER TABLE source ADD PRIMARY KEY (position);
ANALYZE source;
CREATE TABLE limit_table (position bigint PRIMARY KEY, stream text NOT NULL, version bigint NOT NULL,
    id uuid NOT NULL, type text NOT NULL, actor text NOT NULL, occurred_at bigint NOT NULL,
    recorded_at bigint NOT NULL, payload bytea NOT NULL);
CREATE TABLE v2 (LIKE source, PRIMARY KEY (position), UNIQUE (id), UNIQUE (stream, version));
CREATE TABLE v3 (LIKE source,
    stream_key bigint GENERATED ALWAYS AS (hashtextextended(stream, 0)) STORED, PRIMARY KEY (position), UNIQUE (id));
CREATE INDEX ON v3 (stream_key, version);
CREATE TABLE v3_hash_id (LIKE source,
    stream_key bigint GENERATED ALWAYS AS (hashtextextended(stream, 0)) STORED, PRIMARY KEY (position));
CREATE INDEX ON v3_hash_id (stream_key, version);
CREATE INDEX ON v3_hash_id USING hash (id);
CREATE TABLE result (variant text, milliseconds numeric);

CREATE PROCEDURE run_all() LANGUAGE plpgsql AS $$
DECLARE
    variant text;
    started timestamptz;
BEGIN
    FOR batch IN 0..99 LOOP
        FOREACH variant IN ARRAY ARRAY['limit_table', 'v2', 'v3', 'v3_hash_id'] LOOP
            started := clock_timestamp();
            IF variant = 'limit_table' THEN
                INSERT INTO limit_table
                SELECT position, stream, version, id, type, actor, occurred_at, recorded_at, payload FROM source
                WHERE position > batch * 10000 AND position <= (batch + 1) * 10000;
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
FROM result GROUP BY variant ORDER BY 2;
SET search_path TO DEFAULT;
DROP SCHEMA cumulus_key_cost CASCADE;
