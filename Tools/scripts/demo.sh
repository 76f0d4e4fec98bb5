#!/usr/bin/env bash
# The main job: builds cumulus (release) and runs `cumulus demo` on ./cumulus-data (or $CUMULUS_DATA_DIR), which
# ends by serving the world (Ctrl-C stops); CUMULUS_DEMO_FINITE=1 (or --no-serve) ends after the summary.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash Tools/scripts/prerequisites.sh
swift build -c release --product cumulus
exec .build/release/cumulus demo "$@"
