import CumulusLMDB
import CumulusLog
import CumulusPostgres
import Foundation
import Logging

/// The log a server serves, on either backend, with what the server must do besides reading and appending:
/// where its checkpoints go, and how it lets go of the log at shutdown.
///
/// - LMDB: one server per data directory (the `serve.lock` file); it is the only writer of the directory's
///   checkpoints.
/// - PostgreSQL: any number of servers on one log. The checkpoints live in the log's `checkpoints` table and
///   are shared; one server at a time writes them, the holder of the lease `serve-checkpoints`
///   (docs/postgres.md, "Several servers, one log").
struct ServedLog: Sendable {
    /// The log.
    let store: any EventStore
    /// Where the log lives, safe to print (the directory, or the URL without its password).
    let place: String
    /// Writes the checkpoints, or says that another server does.
    let checkpoints: any CheckpointWriting
    /// Closes the log and releases what the server holds on it (the directory lock, the lease).
    let close: @Sendable () async -> Void

    /// Opens `place`: a `postgres://` URL, else an LMDB data directory (created when missing).
    static func open(_ place: String, logger: Logger) async throws(ServerStartFailure) -> ServedLog {
        if PostgresLocation.isURL(place) { return try await openPostgres(place, logger: logger) }
        return try openLMDB(directory: place)
    }

    /// An LMDB data directory, created when missing, under the serve lock.
    static func openLMDB(directory: String) throws(ServerStartFailure) -> ServedLog {
        // The log refuses a new directory that holds other files, so a new log is created before the lock file.
        var created: LMDBEventStore?
        if !FileManager.default.fileExists(atPath: directory + "/data.mdb") {
            do throws(EventStoreError) {
                created = try LMDBEventStore.open(directory: directory, options: .init(create: true))
            } catch {
                throw .storage(error.description)
            }
        }
        let lock: DirectoryLock
        do throws(ServerStartFailure) {
            lock = try DirectoryLock.acquire(directory: directory)
        } catch {
            created?.close()
            throw error
        }
        let store: LMDBEventStore
        do throws(EventStoreError) {
            if let created {
                store = created
            } else {
                store = try LMDBEventStore.open(directory: directory)
            }
        } catch {
            lock.release()
            throw .storage(error.description)
        }
        return ServedLog(
            store: store, place: directory, checkpoints: StoreCheckpoints(store: store),
            close: {
                store.close()
                lock.release()
            })
    }

    /// A log on PostgreSQL; it must exist (`cumulus init --store URL`): a server never creates one, so that a
    /// mistyped schema name is an error rather than a new, empty log.
    static func openPostgres(_ url: String, logger: Logger) async throws(ServerStartFailure) -> ServedLog {
        let store: PostgresEventStore
        do throws(EventStoreError) {
            store = try await PostgresEventStore.open(try PostgresLocation(url: url))
        } catch {
            throw .storage(error.description)
        }
        let checkpoints = LeasedCheckpoints(store: store, logger: logger)
        return ServedLog(
            store: store, place: store.location.description, checkpoints: checkpoints,
            close: {
                await checkpoints.release()
                store.close()
            })
    }
}

/// Who writes a server's checkpoints.
protocol CheckpointWriting: Sendable {
    /// Whether this server writes the checkpoints now (taking the shared lease when it is free).
    func isWriter() async -> Bool
    /// Whether this server writes the checkpoints now, without trying to take the lease.
    var writesNow: Bool { get async }
    /// Writes `checkpoints` if this server is the writer.
    /// - Returns: false when another server writes them (nothing was written).
    func write(_ checkpoints: [Checkpoint]) async throws(EventStoreError) -> Bool
}

/// The one server of a log writes its checkpoints (LMDB: the serve lock makes it the only one).
struct StoreCheckpoints: CheckpointWriting {
    let store: any EventStore

    func isWriter() async -> Bool { true }

    var writesNow: Bool { true }

    func write(_ checkpoints: [Checkpoint]) async throws(EventStoreError) -> Bool {
        for checkpoint in checkpoints { try await store.save(checkpoint) }
        return true
    }
}

/// The checkpoints of several servers on one PostgreSQL log: written by the holder of the lease
/// `serve-checkpoints` only, each only forward, on the lease's connection. The others keep their projections in
/// memory; when the holder stops or dies (its connection ends), the next server to try takes the lease over.
actor LeasedCheckpoints: CheckpointWriting {
    /// The name of the lease (and of nothing else: the checkpoints keep their own names).
    static let leaseName = "serve-checkpoints"

    let store: PostgresEventStore
    let logger: Logger
    private var lease: ProjectionLease?
    /// The write in progress: writes run one after another on the lease's one connection.
    private var tail: Task<Void, Never>?

    init(store: PostgresEventStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    var writesNow: Bool { lease.map { !$0.isLost } ?? false }

    func isWriter() async -> Bool { await currentLease() != nil }

    func write(_ checkpoints: [Checkpoint]) async throws(EventStoreError) -> Bool {
        let previous = tail
        let job = Task { () -> Result<Bool, EventStoreError> in
            await previous?.value
            return await self.writeNow(checkpoints)
        }
        tail = Task { _ = await job.value }
        return try await job.value.get()
    }

    private func writeNow(_ checkpoints: [Checkpoint]) async -> Result<Bool, EventStoreError> {
        guard let lease = await currentLease() else { return .success(false) }
        do {
            let written = try await lease.advance(group: checkpoints)
            logger.debug(
                "checkpoints saved under the lease", metadata: ["written": "\(written)", "of": "\(checkpoints.count)"])
            return .success(true)
        } catch {
            if lease.isLost {
                logger.warning("lost the checkpoint lease", metadata: ["error": "\(error)"])
                await drop(lease)
            }
            return .failure(error)
        }
    }

    /// The lease, taken now if no other server holds it; nil when another one does (or the log is unreachable).
    private func currentLease() async -> ProjectionLease? {
        if let lease, !lease.isLost { return lease }
        if let lost = lease { await drop(lost) }
        let taken: ProjectionLease?
        do {
            taken = try await store.tryLease(Self.leaseName)
        } catch {
            logger.warning("cannot try the checkpoint lease", metadata: ["error": "\(error)"])
            return nil
        }
        guard let taken else { return nil }
        if let lease, !lease.isLost {
            // Another call took it while this one waited (the actor was re-entered): keep one.
            await taken.release()
            return lease
        }
        lease = taken
        logger.notice("took the checkpoint lease: this server saves the shared checkpoints")
        return taken
    }

    private func drop(_ lost: ProjectionLease) async {
        if lease === lost { lease = nil }
        await lost.release()
    }

    /// Lets the lease go (at shutdown), after the writes in progress.
    func release() async {
        await tail?.value
        if let lease { await drop(lease) }
    }
}
