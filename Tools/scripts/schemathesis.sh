#!/usr/bin/env bash
# Runs schemathesis (from PyPI, in a virtualenv under .build) against a real `cumulus serve` on loopback:
# every operation of Sources/CumulusServer/openapi.json, with a systemAdmin token; fails on any 5xx or any
# response outside the schema. Needs the debug build (`swift build --product cumulus`); CI calls it after the tests.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=.build/schemathesis-venv
if [ ! -x "$venv/bin/st" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q 'schemathesis>=4,<5'
fi
cumulus=.build/debug/cumulus
[ -x "$cumulus" ] || swift build --product cumulus
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
group=$(python3 -c 'import uuid; print(uuid.uuid4())')
cat > "$work/serve.json" <<JSON
{"issuer": "https://login.example/st", "audience": "api://cumulus", "platformAdminGroups": ["$group"],
 "keys": [{"kid": "st", "alg": "HS256", "secret": "$(python3 -c 'import secrets; print(secrets.token_hex(32))')"}]}
JSON
# A small world to read: the finite demo.
"$cumulus" demo --data-dir "$work/data" --tenants 1 --users-per-tenant 20 --days 1 --no-serve > /dev/null
"$cumulus" serve --data-dir "$work/data" --config "$work/serve.json" --listen 127.0.0.1:0 > "$work/out" 2> "$work/err" &
server=$!
for _ in $(seq 1 200); do grep -q 'on port ' "$work/out" 2>/dev/null && break; sleep 0.05; done
port=$(sed -n 's/.*on port \([0-9]*\).*/\1/p' "$work/out" | head -1)
[ -n "$port" ] || { cat "$work/err"; exit 1; }
token=$("$cumulus" token --config "$work/serve.json" --tid "$(python3 -c 'import uuid; print(uuid.uuid4())')" --groups "$group")
PYTHONPATH=Tools/scripts SCHEMATHESIS_HOOKS=schemathesis_hooks "$venv/bin/st" run "http://127.0.0.1:$port/openapi.json" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    -H "Authorization: Bearer $token" --max-examples "${SCHEMATHESIS_EXAMPLES:-25}" --request-timeout 10 \
    --exclude-path /v1/events/live --exclude-path /v1/states/live --suppress-health-check all
