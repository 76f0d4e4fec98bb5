#!/usr/bin/env bash
# Loads every OData entity set through python-odata (PyPI) and follows every next link.
#   Against a server:  ODATA_URL=https://host/odata/ ODATA_TOKEN=… [JSON_API_URL=… JSON_API_ROUTES='{…}'] $0
#   Without a server:  $0 --demo [path/to/cumulus]   (builds a small demo world in a temp dir, serves the feed
#                      through `cumulus odata` behind a local HTTP shim)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${ODATA_VENV:-${TMPDIR:-/tmp}/cumulus-odata-venv}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet python-odata==0.8.1 pytest requests
fi
if [ "${1:-}" = "--demo" ]; then
    cumulus="${2:-$here/../../.build/debug/cumulus}"
    data="$(mktemp -d "${TMPDIR:-/tmp}/cumulus-odata-demo.XXXXXX")"
    trap 'rm -rf "$data"' EXIT
    "$cumulus" demo --data-dir "$data" --tenants 2 --users-per-tenant 12 --days 1 --no-serve > "$data.out"
    tenant="$(grep -o ', id [0-9a-f-]*)' "$data.out" | head -1 | cut -c6-41)"
    rm -f "$data.out"
    export ODATA_CUMULUS="$cumulus" ODATA_DATA_DIR="$data" ODATA_ACTOR="userSupervisor:$tenant"
fi
exec "$venv/bin/python" -m pytest -q -s "$here/odata_client_test.py"
