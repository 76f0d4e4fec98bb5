#!/usr/bin/env bash
# Writes the committed sample log that the code-version fingerprints are computed from
# (Tests/CumulusCommandsTests/Fixtures/sample-log.jsonl): a small demo world — 2 tenants of 3 users, four days of
# noisy presence and user-state feed with late and duplicate deliveries, reporting switched off and on — then every
# example command of docs/domain.md (one of each command, up to deleting a tenant; the example tenant renamed so
# that it does not clash with the demo's), exported as `cumulus read` prints it (without the readable "event"
# rendering), with the positions, versions and recording times it was stored with.
#
# Run it only to change the sample on purpose: every fingerprint changes with it, so record them again
# (CUMULUS_UPDATE_FINGERPRINTS=1 swift test --filter Fingerprint) and say so in the commit. Needs python3.
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -j 1 --product cumulus
directory=$(mktemp -d)
trap 'rm -rf "$directory"' EXIT
.build/debug/cumulus demo --data-dir "$directory/log" --tenants 2 --users-per-tenant 3 --days 4 >/dev/null
python3 - >"$directory/examples.jsonl" <<'PYTHON'
text = open("docs/domain.md", encoding="utf-8").read()
begin = "<!-- import-examples:begin -->\n```jsonl\n"
start = text.index(begin) + len(begin)
end = text.index("```\n<!-- import-examples:end -->")
print(text[start:end].replace("Contoso", "Samplecorp").replace("contoso", "samplecorp"), end="")
PYTHON
.build/debug/cumulus import --data-dir "$directory/log" "$directory/examples.jsonl"
.build/debug/cumulus read --data-dir "$directory/log" --include-secrets | python3 -c '
import json, sys
for line in sys.stdin:
    event = json.loads(line)
    event.pop("event", None)
    print(json.dumps(event, separators=(",", ":"), ensure_ascii=False))
' >Tests/CumulusCommandsTests/Fixtures/sample-log.jsonl
wc -lc Tests/CumulusCommandsTests/Fixtures/sample-log.jsonl
