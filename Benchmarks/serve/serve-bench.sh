#!/usr/bin/env bash
# Benchmark of `cumulus serve` on loopback (wrk + Lua) beside the embedded API (`cumulus import`) on the same
# kind of events, in the same run; prints the ratios and the issue's goals. Release build by default
# (BUILD=debug only to check the harness). Sizes: USERS (500), IMPORT_LINES (100000), SECONDS_PER_RUN (10).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
build=${BUILD:-release}
if [ "$build" = release ]; then swift build -c release --product cumulus; fi
bin="$repo/.build/$build/cumulus"
seconds=${SECONDS_PER_RUN:-10}
users=${USERS:-500}
lines=${IMPORT_LINES:-100000}
work=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
group=$(python3 -c 'import uuid; print(uuid.uuid4())')
supervisor=$(python3 -c 'import uuid; print(uuid.uuid4())')
cat > "$work/serve.json" <<JSON
{"issuer": "https://login.example/bench", "audience": "api://cumulus", "platformAdminGroups": ["$group"],
 "keys": [{"kid": "bench", "alg": "HS256", "secret": "$(python3 -c 'import secrets; print(secrets.token_hex(32))')"}],
 "limits": {"maximumBatchLines": 10000, "idleTimeoutSeconds": 60}}
JSON
echo "== world: 1 tenant, $users users (cumulus demo --no-serve)"
"$bin" demo --data-dir "$work/world" --tenants 1 --users-per-tenant "$users" --days 1 --no-serve > /dev/null
cp -r "$work/world" "$work/served"
cp -r "$work/world" "$work/embedded"

"$bin" serve --data-dir "$work/served" --config "$work/serve.json" --listen 127.0.0.1:0 > "$work/out" 2> "$work/err" &
server=$!
for _ in $(seq 1 400); do grep -q 'on port ' "$work/out" 2>/dev/null && break; sleep 0.05; done
port=$(sed -n 's/.*on port \([0-9]*\).*/\1/p' "$work/out" | head -1)
url="http://127.0.0.1:$port"
admin=$("$bin" token --config "$work/serve.json" --tid "$(python3 -c 'import uuid; print(uuid.uuid4())')" --groups "$group")
tenant=$(curl -sf "$url/v1/tenants" -H "Authorization: Bearer $admin" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
tid=$(curl -sf "$url/v1/tenants/$tenant" -H "Authorization: Bearer $admin" | python3 -c 'import json,sys; print(json.load(sys.stdin)["azureTenantId"])')
curl -sf "$url/v1/users?tenant=$tenant&limit=1000" -H "Authorization: Bearer $admin" \
    | python3 -c 'import json,sys; print("\n".join(i["id"] for i in json.load(sys.stdin)["items"]))' > "$work/users.txt"
user=$(head -1 "$work/users.txt")
curl -sf -X POST "$url/v1/commands" -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
    -d "{\"command\":\"assignRole\",\"occurredAt\":\"2026-11-23T00:00:00Z\",\"tenant\":\"$tenant\",\"principal\":\"$supervisor\",\"role\":\"userSupervisor\"}" > /dev/null
feed=$("$bin" token --config "$work/serve.json" --tid "$tid" --roles PresenceFeed)
reader=$("$bin" token --config "$work/serve.json" --tid "$tid" --oid "$supervisor")

echo "== embedded: cumulus import of $lines presence lines"
python3 - "$work/users.txt" "$tenant" "$lines" > "$work/presence.jsonl" <<'PY'
import sys, uuid
users = open(sys.argv[1]).read().split()
tenant, count = sys.argv[2], int(sys.argv[3])
states = ["Available", "Busy", "Away", "BeRightBack", "DoNotDisturb"]
for n in range(count):
    s = n % 86400
    print('{"command":"recordPresence","actor":"presenceFeed:%s","occurredAt":"2026-11-24T%02d:%02d:%02dZ","eventId":"%s","user":"%s","availability":"%s"}'
          % (tenant, s // 3600, s // 60 % 60, s % 60, uuid.uuid4(), users[n % len(users)], states[n % len(states)]))
PY
embedded=$("$bin" import --data-dir "$work/embedded" --batch 500 "$work/presence.jsonl" | sed -n 's/.*(\([0-9.]*[kM]*\) lines\/s).*/\1/p')
embedded_rate=$(python3 -c "v='$embedded'; m={'k':1e3,'M':1e6}; print(float(v[:-1])*m[v[-1]] if v[-1] in m else float(v))")
echo "embedded import: $embedded_rate lines/s"

run() { (cd "$work" && "$@"); }
# Waits until the server has worked off what earlier runs queued: one more command, answered after them.
drain() {
    curl -s -o /dev/null --max-time 600 -X POST "$url/v1/commands" -H "Authorization: Bearer $feed" \
        -H 'Content-Type: application/json' \
        -d "{\"command\":\"recordPresence\",\"occurredAt\":\"2026-11-25T00:00:00Z\",\"user\":\"$user\",\"availability\":\"Away\"}"
}
echo "== HTTP on loopback ($seconds s each)"
declare -A result
for c in 1 16 64; do
    drain
    t=$([ "$c" = 1 ] && echo 1 || echo 2)
    out=$(run env RUN="$c" TOKEN="$feed" LINES=500 wrk -t"$t" -c"$c" -d"${seconds}s" --timeout 30s -s "$repo/Benchmarks/serve/presence.lua" "$url" | grep RESULT)
    result[batch$c]=$(echo "$out" | awk '{print $3}')
    echo "batch of 500 lines, $c connection(s): $out"
done
drain
out=$(run env RUN=100 TOKEN="$feed" SINGLE=1 LINES=1 wrk -t2 -c64 -d"${seconds}s" -s "$repo/Benchmarks/serve/presence.lua" "$url" | grep RESULT)
echo "single commands, 64 connections: $out"
single_p99=$(echo "$out" | awk '{print $5}')
drain
out=$(run env TOKEN="$admin" PATH_TO_GET="/v1/users/$user" wrk -t2 -c64 -d"${seconds}s" -s "$repo/Benchmarks/serve/get.lua" "$url" | grep RESULT)
echo "GET user state, 64 connections: $out"
state_rate=$(echo "$out" | awk '{print $3}')
out=$(run env TOKEN="$reader" PATH_TO_GET="/v1/reports/current-states?tenant=$tenant&limit=50" wrk -t2 -c64 -d"${seconds}s" -s "$repo/Benchmarks/serve/get.lua" "$url" | grep RESULT)
echo "GET report page (current-states, 50 rows), 64 connections: $out"

echo "== ratios ($build build)"
python3 - "$embedded_rate" "${result[batch1]}" "${result[batch16]}" "${result[batch64]}" "$single_p99" "$state_rate" <<'PY'
import sys
embedded, b1, b16, b64, p99, state = map(float, sys.argv[1:])
best = max(b1, b16, b64)
print(f"HTTP ingest / embedded import: 1 conn {b1/embedded:.2f}x, 16 conn {b16/embedded:.2f}x, 64 conn {b64/embedded:.2f}x "
      f"(goal >= 0.50x: {'met' if best / embedded >= 0.5 else 'missed'})")
print(f"single-command p99 at 64 connections: {p99:.2f} ms (goal <= 10 ms: {'met' if 0 < p99 <= 10 else 'missed'})")
print(f"user-state reads: {state:.0f} requests/s (goal >= 20000: {'met' if state >= 20000 else 'missed'})")
PY
