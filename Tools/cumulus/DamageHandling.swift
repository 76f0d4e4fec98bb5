import CumulusLMDB
import Foundation

/// How the tool meets damage and storage limits it cannot check for in advance.
enum DamageHandling {
    /// Installed before a log is opened: an LMDB assertion or a fault while reading a damaged page prints a
    /// sentence and exits with status 1 instead of dying of SIGABRT/SIGSEGV/SIGBUS; and a file-size limit
    /// (`ulimit -f`) makes the write fail with an error (EFBIG), reported with what was committed, instead of
    /// killing the process with SIGXFSZ.
    static func install() {
        StorageFaults.exitOnDamage(status: 1)
        signal(SIGXFSZ, SIG_IGN)
    }
}
