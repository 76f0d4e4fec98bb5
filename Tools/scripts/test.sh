#!/usr/bin/env bash
# Builds everything once in debug mode (the tests run the built `cumulus` and `cumulus-torture`
# binaries as child processes), starts a private PostgreSQL unless CUMULUS_POSTGRES_URL is given, runs the
# benchmarks' smoke checks (the contenders store and read back the same events; the rebuild fed by Cumulus and
# the one fed by SQLite give the same projections; no timing is asserted), then every test: `swift test`,
# schemathesis against `cumulus serve`'s OpenAPI document, a real OData v4 client on every entity set, the
# dashboard in headless chromium, the embedding example (a package of its own) and the DocC catalogs.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash Tools/scripts/prerequisites.sh --tests
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
echo "== OData v4 client (python-odata) on every entity set"
bash Tools/scripts/odata-client-test.sh --demo
echo "== dashboard in headless chromium"
bash Tools/scripts/dashboard-browser-test.sh
echo "== embedding example"
bash Tools/scripts/example.sh
echo "== documentation"
bash Tools/scripts/docs.sh
