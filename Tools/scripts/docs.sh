#!/usr/bin/env bash
# Builds the DocC documentation of every product's module and fails on any warning (unresolved links,
# missing articles). Output: .build/plugins/Swift-DocC/outputs/<Target>.doccarchive
#
# One plugin run for all the modules: nine runs (one per module) took 3.5 minutes here, one takes 1.8, since the
# plugin plans and builds the package once. `DOCS_TARGETS="A B"` picks modules.
set -euo pipefail
cd "$(dirname "$0")/../.."
targets=(${DOCS_TARGETS:-CumulusLog CumulusLMDB CumulusDomain CumulusCommands CumulusProjections CumulusTesting \
    CumulusServer CumulusOData CumulusPostgres})
arguments=()
for target in "${targets[@]}"; do arguments+=(--target "$target"); done
echo "== docs: ${targets[*]}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
if ! swift package generate-documentation "${arguments[@]}" 2>&1 | tee "$log"; then
    echo "docs: the documentation failed to build" >&2
    status=1
fi
# SwiftPM's notes about files in dependencies' checkouts ("found 1 file(s) which are unhandled", printed for
# swift-distributed-tracing, which Hummingbird brings) are not warnings about this package's code or docs.
if grep "warning:" "$log" | grep -v "which are unhandled; explicitly declare them as resources" | grep -q .; then
    echo "docs: warnings (above)" >&2
    status=1
fi
for target in "${targets[@]}"; do
    if ! grep -q "outputs/$target.doccarchive" "$log"; then
        echo "docs: no archive generated for $target" >&2
        status=1
    fi
done
exit $status
