-- The table `source`: :rows rows with the store's columns, shaped like `cumulus-bench postgres`'s P3 (each event's
-- stream picked at random among 100,000 named `user-<uuid>`, 41 bytes; ids time-ordered like UUIDv7; 200-byte
-- payloads). Included by key-cost.sql and copy-format.sh after `\set rows N`, in the schema they set.
CREATE TABLE source AS
SELECT position, stream, row_number() OVER (PARTITION BY stream ORDER BY position) AS version, id, type,
    schema_version, actor, occurred_at, recorded_at, correlation_id, causation_id, previous_in_stream, payload, link
FROM (
    SELECT g::bigint AS position,
        'user-' || (md5(((hashint8(g) % 100000 + 100000) % 100000)::text)::uuid)::text AS stream,
        (lpad(to_hex(g), 12, '0') || '7000' || '8' || substr(md5(g::text), 1, 15))::uuid AS id,
        'PresenceChanged'::text AS type, 1 AS schema_version, 'presenceFeed:tenant'::text AS actor,
        g::bigint AS occurred_at, g::bigint AS recorded_at, NULL::uuid AS correlation_id, NULL::uuid AS causation_id,
        greatest(g - 100000, 0)::bigint AS previous_in_stream, decode(repeat('ab', 200), 'hex') AS payload,
        sha256(g::text::bytea) AS link
    FROM generate_series(1, :rows) AS g
) AS generated ORDER BY position;
