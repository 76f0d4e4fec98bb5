public import CumulusLMDB
public import CumulusLog
import Foundation

/// A log in a fresh temporary directory, for tests: open it, use ``store``, and the directory is removed
/// when the fixture is released (or at ``remove()``).
///
/// ```swift
/// let log = try TemporaryEventLog()
/// try await log.store.append([event], to: StreamName("user-1"))
/// ```
public final class TemporaryEventLog: Sendable {
    /// The directory holding the log.
    public let directory: String
    /// The open log.
    public let store: LMDBEventStore

    /// Creates a new log in a new temporary directory.
    /// - Parameters:
    ///   - durability: the flush policy; tests that do not test durability may pass `.deferred` for speed.
    ///   - initialMapSize: the initial map size; a small one exercises map growth.
    public init(
        durability: LMDBEventStore.Durability = .full,
        initialMapSize: UInt64 = 64 << 20
    ) throws(EventStoreError) {
        directory = Self.makeDirectory()
        store = try LMDBEventStore.open(
            directory: directory,
            options: .init(create: true, durability: durability, initialMapSize: initialMapSize)
        )
    }

    deinit {
        remove()
    }

    /// Closes the log and deletes its directory.
    public func remove() {
        store.close()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A new empty directory under the system's temporary directory.
    public static func makeDirectory(prefix: String = "cumulus-test") -> String {
        let path = NSTemporaryDirectory() + "/\(prefix)-\(UUID().uuidString.lowercased())"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

/// A fresh directory under the system's temporary directory, removed with everything in it when the last
/// reference goes: a test suite keeps one as a stored property, so each test's directory goes with the test
/// instead of piling up in `/tmp` run after run.
///
/// ```swift
/// struct MyTests {
///     let scratch = TemporaryDirectory(prefix: "cumulus-mine")
///     var directory: String { scratch.path }
/// }
/// ```
public final class TemporaryDirectory: Sendable {
    /// The directory's path.
    public let path: String

    /// Creates the directory, named `<prefix>-<uuid>`.
    public init(prefix: String = "cumulus-test") {
        path = TemporaryEventLog.makeDirectory(prefix: prefix)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Creates a directory named `<prefix>-<uuid>` that is removed when the process exits: for a world a suite
    /// builds once and keeps in a `static` (whose value is never released).
    public static func removedAtExit(prefix: String) -> String {
        let path = TemporaryEventLog.makeDirectory(prefix: prefix)
        ExitCleanup.shared.add(path)
        return path
    }
}

/// The directories ``TemporaryDirectory/removedAtExit(prefix:)`` made, removed by one `atexit` handler.
private final class ExitCleanup: @unchecked Sendable {
    static let shared = ExitCleanup()
    private let lock = NSLock()
    private var paths: [String] = []
    private var registered = false

    func add(_ path: String) {
        lock.lock()
        defer { lock.unlock() }
        paths.append(path)
        guard !registered else { return }
        registered = true
        atexit { ExitCleanup.shared.removeAll() }
    }

    private func removeAll() {
        lock.lock()
        let taken = paths
        paths = []
        lock.unlock()
        for path in taken { try? FileManager.default.removeItem(atPath: path) }
    }
}

/// Ready-made events for tests.
public enum SampleEvents {
    /// `count` events of type `type` with payloads `"<label>-<n>"`, each with a new time-ordered id.
    public static func make(
        _ count: Int,
        type: String = "Sampled",
        label: String = "e",
        actor: String = "test"
    ) -> [ProposedEvent] {
        (0..<count).map { index in
            ProposedEvent(type: type, actor: actor, payload: Array("\(label)-\(index)".utf8))
        }
    }
}
