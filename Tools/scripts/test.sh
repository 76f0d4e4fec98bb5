#!/usr/bin/env bash
# Builds everything once in debug mode (the tests run the built `cumulus` and `cumulus-torture`
# binaries as child processes) and runs every test.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash Tools/scripts/prerequisites.sh
swift build --build-tests
swift test --skip-build "$@"
