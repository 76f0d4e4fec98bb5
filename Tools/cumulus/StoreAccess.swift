import CumulusLMDB
import CumulusLog
import CumulusPostgres
import Foundation
import Logging

/// A log the tool opens and closes, on either backend.
protocol ClosableStore: EventStore {
    /// Closes the store.
    func close()
    /// Where the log lives, safe to print: the directory, or the PostgreSQL URL without its password.
    var place: String { get }
    /// Stores events copied from another log at their own positions and recorded times.
    func appendCopied(_ events: [RecordedEvent]) async throws(EventStoreError)
}

extension LMDBEventStore: ClosableStore {
    var place: String { directory }
}

extension PostgresEventStore: ClosableStore {
    var place: String { location.description }
}

extension DataDirectoryOptions {
    /// The log to open: --store, else $CUMULUS_STORE, else the data directory (--data-dir, $CUMULUS_DATA_DIR,
    /// ./cumulus-data). A `postgres://` URL opens the log on PostgreSQL (docs/postgres.md).
    var storeText: String {
        store ?? ProcessInfo.processInfo.environment["CUMULUS_STORE"] ?? path
    }

    /// Opens the log named by ``storeText`` on its backend. On LMDB, `durability` and `readOnly` apply as in
    /// ``open(create:durability:readOnly:)``; PostgreSQL always commits durably and has no read-only mode
    /// (a query simply writes nothing).
    func openStore(
        create: Bool = false, durability: LMDBEventStore.Durability = .full, readOnly: Bool = false
    ) async throws -> any ClosableStore {
        try await Self.openStore(storeText, create: create, durability: durability, readOnly: readOnly, logger: logger)
    }

    /// Opens `text` (a directory or a `postgres://` URL); a failure becomes one sentence for the user.
    static func openStore(
        _ text: String, create: Bool, durability: LMDBEventStore.Durability = .full, readOnly: Bool = false,
        logger: Logger = LMDBEventStore.silentLogger
    ) async throws -> any ClosableStore {
        do throws(EventStoreError) {
            if PostgresLocation.isURL(text) {
                return try await PostgresEventStore.open(
                    try PostgresLocation(url: text), options: .init(create: create))
            }
            DamageHandling.install()
            return try LMDBEventStore.open(
                directory: text, options: .init(create: create, durability: durability, readOnly: readOnly),
                logger: logger)
        } catch {
            throw CommandFailure(error.description)
        }
    }
}
