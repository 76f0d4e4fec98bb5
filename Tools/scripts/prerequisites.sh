#!/usr/bin/env bash
# Installs what building Cumulus needs beyond the Swift toolchain: Debian's liblmdb-dev (and
# lmdb-utils for inspecting a data directory), and libsqlite3-dev for the benchmark's peer.
# With --tests, also what the tests use: PostgreSQL (the second backend), chromium and chromium-driver (the
# dashboard's browser test), wrk (the serve benchmark) and openssl (the test cluster's TLS certificates). Does nothing
# when they are installed already.
set -euo pipefail
missing=()
dpkg -s liblmdb-dev >/dev/null 2>&1 || missing+=(liblmdb-dev)
dpkg -s lmdb-utils >/dev/null 2>&1 || missing+=(lmdb-utils)
# SQLite is the benchmark's peer; the package builds the benchmark with everything else.
dpkg -s libsqlite3-dev >/dev/null 2>&1 || missing+=(libsqlite3-dev)
if [ "${1:-}" = "--tests" ]; then
    for package in postgresql openssl chromium chromium-driver wrk; do
        dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]}" >&2
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "the Swift toolchain (swift 6.x) is not on PATH" >&2; exit 1; }
