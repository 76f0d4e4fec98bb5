#!/usr/bin/env bash
# Writes the committed sample log that the code-version fingerprints are computed from
# (Tests/CumulusCommandsTests/Fixtures/sample-log.jsonl): a small demo world — 2 tenants of 5 users, four days of
# noisy presence and user-state feed with late and duplicate deliveries, and reporting switched off and on —
# exported as `cumulus read` prints it, with the positions, versions and recording times it was stored with.
#
# Run it only to change the sample on purpose: every fingerprint changes with it, so record them again
# (CUMULUS_UPDATE_FINGERPRINTS=1 swift test --filter Fingerprint) and say so in the commit.
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -j 1 --product cumulus
directory=$(mktemp -d)
trap 'rm -rf "$directory"' EXIT
.build/debug/cumulus demo --data-dir "$directory/log" --tenants 2 --users-per-tenant 5 --days 4 >/dev/null
.build/debug/cumulus read --data-dir "$directory/log" --include-secrets \
    >Tests/CumulusCommandsTests/Fixtures/sample-log.jsonl
wc -l Tests/CumulusCommandsTests/Fixtures/sample-log.jsonl
