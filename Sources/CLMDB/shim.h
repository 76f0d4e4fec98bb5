#ifndef CUMULUS_CLMDB_SHIM_H
#define CUMULUS_CLMDB_SHIM_H
#include <lmdb.h>
#include <stddef.h>

/// Asks the CPU to start loading the first `limit` of `size` bytes at `address` into its caches, one 64-byte
/// line at a time. A hint only: it never faults and changes nothing, so a stale address costs nothing but
/// the hint. Swift has no prefetch of its own; the record walk uses this to load the next record while it
/// decodes the current one.
static inline void cumulus_prefetch(const void *address, size_t size, size_t limit) {
    const char *bytes = (const char *)address;
    size_t end = size < limit ? size : limit;
    for (size_t offset = 0; offset < end; offset += 64) {
        __builtin_prefetch(bytes + offset, 0, 3);
    }
}

#endif
