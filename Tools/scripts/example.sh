#!/usr/bin/env bash
# Builds and runs Examples/EmbeddingExample, a package that depends on Cumulus by path and uses only its
# products (open a log, run a domain command, follow the log, build a view); fails if the example fails.
# It builds Cumulus a second time, in debug, in Examples/EmbeddingExample/.build (CUMULUS_BUILD_JOBS=1 on a
# shared machine).
set -euo pipefail
cd "$(dirname "$0")/../../Examples/EmbeddingExample"
swift build -j "${CUMULUS_BUILD_JOBS:-$(nproc)}"
"$(swift build --show-bin-path)/EmbeddingExample"
