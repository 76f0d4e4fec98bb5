#!/usr/bin/env bash
# Drives chromium headless through the dashboard served by the real `cumulus serve` on a demo world (see
# dashboard_browser_test.py). Needs chromium and chromium-driver (apt); installs selenium, requests and pytest into a
# virtual environment. DASHBOARD_FIRST_PAINT_AGENTS=0 skips the first-paint reading on 900 agents.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${ODATA_VENV:-${TMPDIR:-/tmp}/cumulus-odata-venv}"
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
"$venv/bin/python" -c 'import selenium, pytest, requests' 2>/dev/null || "$venv/bin/pip" install --quiet selenium pytest requests
export CUMULUS="${1:-$here/../../.build/debug/cumulus}"
exec "$venv/bin/python" -m pytest -q -s "$here/dashboard_browser_test.py"
