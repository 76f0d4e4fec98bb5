#!/usr/bin/env bash
# What the server's parsing of COPY's text format costs on the store's rows: the same 200,000 rows (the store's
# columns, 200-byte payloads, schema version 3's indexes) loaded 10,000 per COPY in the text format the store
# sends and in COPY's binary format, taking turns, plus the text rows into a table without indexes; prints each
# COPY's milliseconds (text, binary, text without indexes) and the medians.
#
#   eval "$(bash Tools/scripts/postgres.sh start)"
#   bash Benchmarks/postgres/copy-format.sh
#
# Needs the cluster made by Tools/scripts/postgres.sh ($CUMULUS_PG_DIR): it connects as its superuser through the
# socket, since server-side files are written and read (COPY … TO/FROM a file). Everything lives in the schema
# cumulus_copy_format and the files in $CUMULUS_PG_DIR; both are removed at the end.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${CUMULUS_PG_DIR:?start a cluster with Tools/scripts/postgres.sh first}
port=$(printf '%s' "${CUMULUS_POSTGRES_URL:?}" | sed 's/.*:\([0-9]*\)\/.*/\1/')
sql() { psql -X -q -v ON_ERROR_STOP=1 -h "$dir/socket" -p "$port" -U postgres -d cumulus "$@"; }
if [ "$(id -u)" -eq 0 ]; then sql() { runuser -u cumulus-pg -- psql -X -q -v ON_ERROR_STOP=1 -h "$dir/socket" -p "$port" -U postgres -d cumulus "$@"; }; fi
columns="position, stream, version, id, type, schema_version, actor, occurred_at, recorded_at, correlation_id,
    causation_id, previous_in_stream, payload, link"
sql <<SQL
DROP SCHEMA IF EXISTS cumulus_copy_format CASCADE;
CREATE SCHEMA cumulus_copy_format;
SET search_path TO cumulus_copy_format;
\set rows 200000
\i $here/p3-rows.sql
CREATE TABLE text_rows (LIKE source,
    stream_key bigint GENERATED ALWAYS AS (hashtextextended(stream, 0)) STORED, PRIMARY KEY (position), UNIQUE (id));
CREATE INDEX ON text_rows (stream_key, version);
CREATE TABLE binary_rows (LIKE text_rows INCLUDING ALL);
CREATE TABLE unindexed (LIKE source);
SQL
for batch in $(seq 0 19); do
    low=$((batch * 10000 + 1))
    high=$((low + 9999))
    sql -c "COPY (SELECT * FROM cumulus_copy_format.source WHERE position BETWEEN $low AND $high ORDER BY position)
            TO '$dir/copy-format-$batch.text'" \
        -c "COPY (SELECT * FROM cumulus_copy_format.source WHERE position BETWEEN $low AND $high ORDER BY position)
            TO '$dir/copy-format-$batch.binary' WITH (FORMAT binary)"
done
sql -c "CHECKPOINT"
{
    echo '\timing on'
    echo 'SET search_path TO cumulus_copy_format;'
    for batch in $(seq 0 19); do
        echo "COPY text_rows ($columns) FROM '$dir/copy-format-$batch.text';"
        echo "COPY binary_rows ($columns) FROM '$dir/copy-format-$batch.binary' WITH (FORMAT binary);"
        echo "COPY unindexed FROM '$dir/copy-format-$batch.text';"
    done
} | sql 2>&1 | grep '^Time' | tail -n +2 | awk '{ printf "%s%s", $2, (NR % 3 == 0 ? "\n" : " ") }' \
    | python3 -c '
import statistics, sys
rows = [[float(value) for value in line.split()] for line in sys.stdin if line.strip()]
for row in rows: print("text %.1f  binary %.1f  text without indexes %.1f" % tuple(row))
medians = [statistics.median(column) for column in zip(*rows)]
print("medians, ms per 10,000 rows: text %.1f, binary %.1f, text without indexes %.1f" % tuple(medians))'
sql -c "DROP SCHEMA cumulus_copy_format CASCADE"
rm -f "$dir"/copy-format-*
