import CumulusLMDB
import CumulusLog
import CumulusTesting
import Testing

@Suite("LMDB backend passes the EventStore conformance suite")
struct ConformanceTests {
    @Test(arguments: EventStoreConformance.checkNames)
    func conformance(check: String) async throws {
        let log = try TemporaryEventLog()
        try await EventStoreConformance.run(check, on: log.store)
    }
}
