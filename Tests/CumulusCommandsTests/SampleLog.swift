import CumulusLMDB
import CumulusLog
import CumulusTesting
import Foundation

/// The committed sample log (`Fixtures/sample-log.jsonl`, written by `Tools/scripts/make-sample-log.sh` as
/// `cumulus read` prints it): a small demo world — tenants, OUs, services, licensed users, four days of noisy
/// presence and user-state feed with late and duplicate deliveries and reporting switched off and on — with the
/// positions, stream versions and recording times it was stored with, so that folding it always gives the same
/// states.
enum SampleLog {
    static var url: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/sample-log.jsonl")
    }

    static func lines() throws -> [String] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    /// The events exactly as recorded (positions, versions, times, ids).
    static func events() throws -> [RecordedEvent] {
        try lines().enumerated().map { index, line in try recorded(line, number: index + 1) }
    }

    /// The events appended to a fresh log, in order (one atomic unit per line, one group commit).
    static func stored() async throws -> TemporaryEventLog {
        let log = try TemporaryEventLog(durability: .deferred)
        let units = try lines().enumerated().map { index, line in
            [try EnvelopeJSON.append(fromLine: line, lineNumber: index + 1)]
        }
        for result in try await log.store.append(units: units) { _ = try result.get() }
        return log
    }

    struct BadLine: Error, CustomStringConvertible {
        let number: Int
        let field: String
        var description: String { "sample-log.jsonl line \(number): bad or missing '\(field)'" }
    }

    private static func recorded(_ line: String, number: Int) throws -> RecordedEvent {
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
        func text(_ field: String) throws -> String {
            guard let value = object[field] as? String else { throw BadLine(number: number, field: field) }
            return value
        }
        func whole(_ field: String) throws -> UInt64 {
            guard let value = object[field] as? NSNumber else { throw BadLine(number: number, field: field) }
            return value.uint64Value
        }
        func time(_ field: String) throws -> Timestamp {
            guard let value = Timestamp(iso8601: try text(field)) else { throw BadLine(number: number, field: field) }
            return value
        }
        guard let id = EventID(try text("id")) else { throw BadLine(number: number, field: "id") }
        guard let payload = Data(base64Encoded: try text("payloadBase64")) else {
            throw BadLine(number: number, field: "payloadBase64")
        }
        return RecordedEvent(
            id: id, stream: try StreamName(try text("stream")),
            streamVersion: StreamVersion(try whole("streamVersion")),
            position: GlobalPosition(try whole("position")), type: try text("type"),
            schemaVersion: UInt16(try whole("schemaVersion")), occurredAt: try time("occurredAt"),
            recordedAt: try time("recordedAt"), actor: try text("actor"),
            correlationID: (object["correlationId"] as? String).flatMap(UUID.init(uuidString:)),
            causationID: (object["causationId"] as? String).flatMap(UUID.init(uuidString:)), payload: Array(payload))
    }
}
