#!/usr/bin/env bash
# The main job: builds cumulus (release) and runs `cumulus demo` on ./cumulus-data (or $CUMULUS_DATA_DIR).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash Tools/scripts/prerequisites.sh
swift build -c release --product cumulus
exec .build/release/cumulus demo "$@"
