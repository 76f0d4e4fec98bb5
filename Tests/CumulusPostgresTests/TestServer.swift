import CumulusLog
import CumulusPostgres
import Foundation
import Testing

/// The PostgreSQL server the tests use: `CUMULUS_POSTGRES_URL` (Tools/scripts/test.sh starts one with
/// Tools/scripts/postgres.sh). Without it the suites are skipped locally and fail on CI (`CI=true`).
enum TestServer {
    static let url = ProcessInfo.processInfo.environment["CUMULUS_POSTGRES_URL"]
    static let isCI = ProcessInfo.processInfo.environment["CI"] == "true"

    /// Whether the PostgreSQL suites run: a server is given, or CI requires one (and then they fail without it).
    static let enabled = url != nil || isCI

    /// Why a suite was skipped.
    static let skipReason = Comment(
        rawValue: "CUMULUS_POSTGRES_URL is not set: run Tools/scripts/test.sh, or start a server with "
            + "`eval \"$(bash Tools/scripts/postgres.sh start)\"`")

    struct Missing: Error, CustomStringConvertible {
        var description: String { "CUMULUS_POSTGRES_URL is not set but CI=true: the PostgreSQL tests must run on CI" }
    }

    /// The server's URL as given.
    static func requiredURL() throws -> String {
        guard let url else { throw Missing() }
        return url
    }

    /// A new schema name, so that every test has its own log and tests run in parallel.
    static func freshSchema(_ label: String = "t") -> String {
        let random = UInt64.random(in: 0...UInt64.max)
        return "\(label)_\(String(random, radix: 16))"
    }

    /// The location of a new, empty log.
    static func freshLocation(_ label: String = "t") throws -> PostgresLocation {
        var location = try PostgresLocation(url: try requiredURL())
        location.schema = freshSchema(label)
        return location
    }

    /// A new, empty log in its own schema.
    static func freshStore(_ label: String = "t") async throws -> PostgresEventStore {
        try await PostgresEventStore.open(try freshLocation(label), options: .init(create: true))
    }

    /// Runs SQL with `psql` against the server, as an operator would; returns its output.
    @discardableResult
    static func psql(_ sql: String, url given: String? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "psql", try given ?? requiredURL(), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql,
        ]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PSQLFailed(sql: sql, message: String(decoding: errorData, as: UTF8.self))
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    struct PSQLFailed: Error, CustomStringConvertible {
        let sql: String
        let message: String
        var description: String { "psql failed for \(sql): \(message)" }
    }
}
