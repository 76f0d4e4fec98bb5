#!/usr/bin/env bash
# Builds the DocC documentation of every product's module and fails on any warning (unresolved links,
# missing articles). Output: .build/plugins/Swift-DocC/outputs/<Target>.doccarchive
set -euo pipefail
cd "$(dirname "$0")/../.."
status=0
for target in ${DOCS_TARGETS:-CumulusLog CumulusLMDB CumulusDomain CumulusCommands CumulusProjections CumulusTesting \
    CumulusServer CumulusOData CumulusPostgres}; do
    echo "== docs: $target"
    log=$(mktemp)
    if ! swift package generate-documentation --target "$target" 2>&1 | tee "$log"; then
        echo "docs: $target failed to build" >&2
        status=1
    fi
    # SwiftPM's notes about files in dependencies' checkouts ("found 1 file(s) which are unhandled", printed for
    # swift-distributed-tracing, which Hummingbird brings) are not warnings about this package's code or docs.
    if grep "warning:" "$log" | grep -v "which are unhandled; explicitly declare them as resources" | grep -q .; then
        echo "docs: $target has warnings (above)" >&2
        status=1
    fi
    rm -f "$log"
done
exit $status
