#!/usr/bin/env bash
# Loads every OData entity set through python-odata (PyPI), follows every next link and checks the rows against
# the JSON API of the same server (see odata_client_test.py).
#   On a demo world:   $0 --demo [path/to/cumulus]   (a small world from `cumulus demo --no-serve`, served by the
#                      real `cumulus serve` on loopback with tokens from `cumulus token`)
#   Against a server:  ODATA_URL=https://host/odata/ ODATA_TOKEN=… [JSON_API_URL=https://host/v1/ JSON_API_TOKEN=…
#                      ODATA_TENANT=<id>] $0
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${ODATA_VENV:-${TMPDIR:-/tmp}/cumulus-odata-venv}"
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
"$venv/bin/python" -c 'import odata, pytest, requests' 2>/dev/null \
    || "$venv/bin/pip" install --quiet python-odata==0.8.1 pytest requests
if [ "${1:-}" = "--demo" ]; then
    export ODATA_DEMO_CUMULUS="${2:-$here/../../.build/debug/cumulus}"
fi
exec "$venv/bin/python" -m pytest -q -s "$here/odata_client_test.py"
