#!/usr/bin/env bash
# Builds everything once in debug mode (the tests run the built `cumulus` and `cumulus-torture`
# binaries as child processes), runs the benchmark's smoke check (all three contenders store and read
# back the same events; the rebuild fed by Cumulus and the one fed by SQLite give the same projections; no
# timing is asserted), then runs every test.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash Tools/scripts/prerequisites.sh
swift build --build-tests
# The PostgreSQL backend's tests need a server: a private throw-away cluster unless one is given (docs/postgres.md).
if [ -z "${CUMULUS_POSTGRES_URL:-}" ]; then
    eval "$(bash Tools/scripts/postgres.sh start)"
    trap 'bash Tools/scripts/postgres.sh stop' EXIT
fi
echo "== benchmark smoke"
.build/debug/cumulus-bench --smoke
.build/debug/cumulus-bench rebuild --smoke
.build/debug/cumulus-bench cli --smoke
.build/debug/cumulus-bench postgres --smoke
echo "== tests"
swift test --skip-build "$@"
echo "== schemathesis against cumulus serve"
bash Tools/scripts/schemathesis.sh
