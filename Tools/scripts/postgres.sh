#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for Cumulus's tests and benchmarks (docs/postgres.md).
#
#   eval "$(bash Tools/scripts/postgres.sh start)"   # prints `export CUMULUS_POSTGRES_URL=…`, `export CUMULUS_PG_DIR=…`
#                                                     # and `export CUMULUS_PG_CA=…`
#   bash Tools/scripts/postgres.sh stop              # stops the cluster in $CUMULUS_PG_DIR and deletes it
#
# `start` initdb's a cluster in a private temporary directory, owned by an unprivileged user (the current
# one, or `cumulus-pg` — created when missing — when run as root), starts it on a free private port on
# 127.0.0.1 with its socket in that directory (never 5432 or /var/run/postgresql), and creates the role and
# database `cumulus` (owner of the database, with CREATEROLE so that tests can make a role with fewer
# privileges) with a random password. The server offers TLS, as a stock server does, with a certificate for
# `localhost` and 127.0.0.1 signed by a throw-away authority made for this cluster (`$CUMULUS_PG_CA`), so that
# the tests can connect with every `sslmode`; the URL names none, so clients use the default (`prefer`). Only the
# `export` lines go to standard output.
set -euo pipefail

bin=${POSTGRES_BIN:-}
if [ -z "$bin" ]; then
    for candidate in /usr/lib/postgresql/*/bin; do [ -x "$candidate/initdb" ] && bin=$candidate; done
fi
[ -n "$bin" ] && [ -x "$bin/initdb" ] || {
    echo "postgres.sh: no PostgreSQL server binaries (install Debian's postgresql, or set POSTGRES_BIN)" >&2
    exit 1
}

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u cumulus-pg -- "$@"; else "$@"; fi
}

start() {
    if [ "$(id -u)" -eq 0 ] && ! id cumulus-pg >/dev/null 2>&1; then
        useradd --system --no-create-home --shell /usr/sbin/nologin cumulus-pg
    fi
    local dir
    dir=$(mktemp -d "${TMPDIR:-/tmp}/cumulus-pg.XXXXXX")
    chmod 700 "$dir"
    [ "$(id -u)" -eq 0 ] && chown cumulus-pg "$dir"
    mkdir -p "$dir/socket" 2>/dev/null || as_owner mkdir -p "$dir/socket"
    [ "$(id -u)" -eq 0 ] && chown cumulus-pg "$dir/socket"
    local password
    password=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
        -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        exit 1
    }
    # The throw-away authority and the server's certificate (EC P-256; valid for two days).
    as_owner mkdir -p "$dir/tls"
    (
        cd "$dir/tls"
        as_owner openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
            -subj "/CN=Cumulus test authority" -keyout ca.key -out ca.crt
        as_owner openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -subj "/CN=localhost" -keyout server.key -out server.csr
        printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' | as_owner tee san.ext >/dev/null
        as_owner openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
            -extfile san.ext -out server.crt
        as_owner chmod 600 server.key ca.key
    ) >"$dir/tls.log" 2>&1 || {
        cat "$dir/tls.log" >&2
        echo "postgres.sh: could not make the test certificates (is openssl installed?)" >&2
        exit 1
    }
    local port started=""
    for _ in 1 2 3 4 5 6 7 8; do
        port=$((20000 + RANDOM % 30000))
        if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
            -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir/socket \
                -c max_connections=400 -c shared_buffers=128MB \
                -c ssl=on -c ssl_cert_file=$dir/tls/server.crt -c ssl_key_file=$dir/tls/server.key" \
            >/dev/null 2>&1; then
            started=yes
            break
        fi
    done
    [ -n "$started" ] || {
        cat "$dir/server.log" >&2
        echo "postgres.sh: the server did not start" >&2
        exit 1
    }
    as_owner "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir/socket" -p "$port" -U postgres -d postgres >/dev/null <<SQL
CREATE ROLE cumulus LOGIN CREATEROLE PASSWORD '$password';
CREATE DATABASE cumulus OWNER cumulus;
SQL
    echo "export CUMULUS_PG_DIR=$dir"
    echo "export CUMULUS_PG_CA=$dir/tls/ca.crt"
    echo "export CUMULUS_POSTGRES_URL=postgres://cumulus:$password@127.0.0.1:$port/cumulus"
    echo "postgres.sh: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port, data in $dir" >&2
}

stop() {
    local dir=${CUMULUS_PG_DIR:-}
    [ -n "$dir" ] && [ -d "$dir/data" ] || {
        echo "postgres.sh: CUMULUS_PG_DIR names no cluster started by this script" >&2
        exit 1
    }
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
*)
    echo "usage: postgres.sh start|stop" >&2
    exit 2
    ;;
esac
