import CumulusLMDB
import CumulusLog
import Foundation

/// What makes running the same `append` input twice safe, and what a failed run reports.
enum AppendRetry {
    /// An event whose line gave no `occurredAt` and whose (derived or given) id is stored already takes the
    /// stored time, so that the retry has the same content and is recognised as stored, not a conflict.
    static func adoptStoredTimes(
        _ appends: inout [(line: Int, append: StreamAppend)],
        _ defaultedTimes: [Int: [Int]],
        store: any EventStore
    ) async throws {
        for (index, events) in defaultedTimes {
            for item in events {
                let id = appends[index].append.events[item].id
                if let stored = try await store.event(id: id) {
                    appends[index].append.events[item].occurredAt = stored.occurredAt
                }
            }
        }
    }

    /// The summary of what was committed before a storage failure, printed before the error.
    static func printCommitted(
        accepted: Int, refused: Int, events: Int, last: GlobalPosition, throughLine: Int?, failedFrom: Int?
    ) {
        print(
            "lines accepted: \(accepted), refused: \(refused), events appended: \(events), last position: \(last)")
        if let throughLine {
            print(
                "committed: every line up to line \(throughLine) (last position \(last)); not stored: line "
                    + "\(failedFrom.map(String.init) ?? "?") onward. Fix the cause and run the same input again: "
                    + "lines stored already are recognised by their ids and skipped")
        } else {
            print("committed: nothing; run the same input again once the cause is fixed")
        }
    }
}
