import CoreMetrics
import CumulusLog
import Foundation
import Logging
import Synchronization

/// What every handle on one directory in this process shares: the LMDB environment (LMDB allows one per
/// file per process), the writer thread, the change watcher and the commit fan-out.
///
/// Handles come and go; the registry counts them, and the last handle to close stops the writer and the
/// watcher and closes the environment. `Sendable`: every stored property is `Sendable` and never changes.
final class SharedEnvironment: Sendable {
    /// The absolute directory.
    let path: String
    /// The options the environment was opened with; a later open must agree on the ones that cannot differ.
    let options: LMDBEventStore.Options
    let environment: Environment
    /// The writer; nil when the environment was opened read-only.
    let committer: GroupCommitter?
    let fanOut = CommitFanOut()
    let watcher: ChangeWatcher
    let logger: Logger

    private init(
        path: String, options: LMDBEventStore.Options, logger: Logger, metricsFactory: any MetricsFactory
    ) throws(EventStoreError) {
        self.path = path
        self.options = options
        self.logger = logger
        environment = try Environment(path: path, create: options.create, options: options)
        committer =
            options.readOnly
            ? nil
            : GroupCommitter(
                environment: environment, notifier: fanOut, metrics: StoreMetrics(factory: metricsFactory),
                logger: logger)
        let environment = self.environment
        watcher = ChangeWatcher(dataFile: path + "/data.mdb", notifier: fanOut) {
            try? GlobalPosition(environment.read { (txn) throws(EventStoreError) in try txn.lastPosition() })
        }
        if let last = try? environment.read({ (txn) throws(EventStoreError) in try txn.lastPosition() }) {
            fanOut.publish(GlobalPosition(last))
        }
    }

    private func shutDown() {
        committer?.stop()
        watcher.stop()
        try? environment.sync()
        environment.close()
    }

    // MARK: The registry

    private struct Entry {
        let shared: SharedEnvironment
        var handles: Int
    }

    /// The open environments of this process by absolute directory, with how many handles use each.
    private static let registry = Mutex<[String: Entry]>([:])

    /// The environment of `path`, opened now or shared with the handles that have it open; counts one more
    /// handle.
    /// - Throws: `EventStoreError.conflictingOptions(path:option:inUse:requested:)` when it is open with an
    ///   option that differs, and the errors of opening.
    static func acquire(
        path: String, options: LMDBEventStore.Options, logger: Logger, metricsFactory: any MetricsFactory
    ) throws(EventStoreError) -> SharedEnvironment {
        try registry.withLock { (entries) throws(EventStoreError) -> SharedEnvironment in
            if var entry = entries[path] {
                if let conflict = entry.shared.options.conflict(with: options) {
                    throw .conflictingOptions(
                        path: path, option: conflict.option, inUse: conflict.inUse, requested: conflict.requested)
                }
                entry.handles += 1
                entries[path] = entry
                return entry.shared
            }
            let shared = try SharedEnvironment(
                path: path, options: options, logger: logger, metricsFactory: metricsFactory)
            entries[path] = Entry(shared: shared, handles: 1)
            logger.debug("opened the log", metadata: ["directory": "\(path)"])
            return shared
        }
    }

    /// Counts one handle less; the last one shuts the environment down. Done under the registry's lock, so
    /// that an open of the same directory cannot start a second environment while this one closes.
    static func release(_ shared: SharedEnvironment) {
        registry.withLock { entries in
            guard var entry = entries[shared.path], entry.shared === shared else { return }
            entry.handles -= 1
            if entry.handles > 0 {
                entries[shared.path] = entry
                return
            }
            entries[shared.path] = nil
            shared.shutDown()
            shared.logger.debug("closed the log", metadata: ["directory": "\(shared.path)"])
        }
    }
}

extension LMDBEventStore.Options {
    /// The first option of `other` that one environment cannot hold at the same time as this one's value.
    ///
    /// `create` may differ: it only matters when nothing is open yet.
    func conflict(with other: Self) -> (option: String, inUse: String, requested: String)? {
        if readOnly != other.readOnly {
            // One environment per file and process: a read-only and a writable open cannot share it.
            return ("readOnly", "\(readOnly)", "\(other.readOnly)")
        }
        if durability != other.durability {
            return ("durability", durability.rawValue, other.durability.rawValue)
        }
        if initialMapSize != other.initialMapSize {
            return ("initialMapSize", "\(initialMapSize)", "\(other.initialMapSize)")
        }
        if maximumReaders != other.maximumReaders {
            return ("maximumReaders", "\(maximumReaders)", "\(other.maximumReaders)")
        }
        return nil
    }
}
