import CumulusLog
import CumulusPostgres
import CumulusTesting
import Testing

/// The same conformance suite as the LMDB store's, unchanged, each check on its own schema.
@Suite("PostgreSQL conformance", .enabled(if: TestServer.enabled, TestServer.skipReason))
struct ConformanceTests {
    @Test(arguments: EventStoreConformance.checkNames)
    func conformance(check: String) async throws {
        let store = try await TestServer.freshStore("conf")
        defer { store.close() }
        try await EventStoreConformance.run(check, on: store)
    }
}
