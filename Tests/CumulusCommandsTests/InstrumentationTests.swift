import CumulusCommands
import CumulusDomain
import CumulusLMDB
import CumulusLog
import CumulusProjections
import CumulusTesting
import Foundation
import InMemoryLogging
import Logging
import MetricsTestKit
import Testing

/// The command handler and the projection runner report through the logger and metrics factory they get.
@Suite("Command and projection metrics")
struct InstrumentationTests {
    let log: TemporaryEventLog
    let tenant = TenantID(UUID())
    let now: Int64 = 1_795_000_000_000_000

    init() throws {
        log = try TemporaryEventLog(durability: .deferred)
    }

    func createTenant() -> Command {
        .createTenant(
            tenant: tenant, name: "Contoso Secretive", o365Domain: "contoso.onmicrosoft.com",
            azureTenantID: UUID().uuidString, partner: nil, rootOU: OUID(UUID()), rootOUName: "Root",
            widgetKey: UUID())
    }

    func createUser(_ index: Int) -> Command {
        .createUser(
            tenant: tenant, user: UserID(UUID()), upn: "private.person\(index)@contoso.com",
            displayName: "Private Person", ou: nil)
    }

    @Test func commandsAreCountedByOutcomeAndReason() async throws {
        let metrics = TestMetrics()
        let entries = InMemoryLogHandler()
        var logger = Logger(label: "test", factory: { _ in entries })
        logger.logLevel = .trace
        let handler = CommandHandler(store: log.store, logger: logger, metricsFactory: metrics)
        _ = try await handler.handle(CommandRequest(command: createTenant(), actor: .systemAdmin, occurredAt: now))
        // The same tenant again: refused, it exists.
        await #expect(throws: CommandError.self) {
            _ = try await handler.handle(CommandRequest(command: createTenant(), actor: .systemAdmin, occurredAt: now))
        }
        // A tenant admin of another tenant may not create users here.
        await #expect(throws: CommandError.self) {
            _ = try await handler.handle(
                CommandRequest(command: createUser(0), actor: .tenantAdmin(TenantID(UUID())), occurredAt: now))
        }
        let lines = try await handler.handle(
            batch: (1...3).map { CommandRequest(command: createUser($0), actor: .systemAdmin, occurredAt: now) })
        #expect(lines.allSatisfy { (try? $0.get()) != nil })

        func count(_ action: String, _ outcome: String, _ reason: String) -> Int64 {
            metrics.counterTotal(
                label: "cumulus_commands", dimensions: [("action", action), ("outcome", outcome), ("reason", reason)])
        }
        #expect(count("createTenant", "accepted", "none") == 1)
        #expect(count("createTenant", "refused", "already_exists") + count("createTenant", "refused", "conflict") == 1)
        #expect(count("createUser", "refused", "permission_denied") == 1)
        #expect(count("createUser", "accepted", "none") == 3)
        #expect(metrics.counterTotal(label: "cumulus_commands") == 6)

        let refusals = entries.entries.filter { $0.message.description == "command refused" }
        #expect(refusals.count == 2)
        #expect(refusals.contains { $0.metadata["reason"] == "permission_denied" })
        let everything = entries.entries.map { "\($0.message) \($0.metadata)" }.joined(separator: "\n")
        for personal in ["private.person", "Private Person", "Contoso Secretive", "contoso.onmicrosoft.com"] {
            #expect(!everything.contains(personal), "a log line carries \(personal)")
        }
    }

    @Test func catchUpReportsLagRebuildsAndApplied() async throws {
        let handler = CommandHandler(store: log.store)
        _ = try await handler.handle(CommandRequest(command: createTenant(), actor: .systemAdmin, occurredAt: now))
        _ = try await handler.handle(
            batch: (1...4).map {
                CommandRequest(command: createUser($0), actor: .systemAdmin, occurredAt: now)
            })
        let end = try await log.store.lastPosition()
        let metrics = TestMetrics()
        let entries = InMemoryLogHandler()
        var logger = Logger(label: "test", factory: { _ in entries })
        logger.logLevel = .debug

        var set = ProjectionSet.standard()
        let report = try await ProjectionCatchUp.run(&set, from: log.store, logger: logger, metricsFactory: metrics)
        #expect(report.eventsApplied == end.rawValue)
        let names = set.projections.map(\.name)
        for name in names {
            #expect(
                metrics.counterTotal(
                    label: "cumulus_projection_rebuilds",
                    dimensions: [("projection", name), ("reason", "no checkpoint")])
                    == 1)
            let lag = try metrics.expectGauge("cumulus_projection_lag_events", [("projection", name)])
            #expect(lag.values == [Double(end.rawValue), 0])
        }
        #expect(metrics.counterTotal(label: "cumulus_projection_applied_events") == Int64(end.rawValue))
        #expect(try metrics.expectTimer("cumulus_projection_catch_up_duration").values.count == 1)
        #expect(try metrics.expectRecorder("cumulus_projection_catch_up_rate").values.count == 1)
        #expect(
            entries.entries.filter { $0.message.description == "rebuilding a projection from position 0" }.count
                == names.count)

        // Saved, then two more events: the next catch-up starts two events behind and rebuilds nothing.
        try await ProjectionCatchUp.save(set, to: log.store)
        _ = try await handler.handle(
            batch: (5...6).map {
                CommandRequest(command: createUser($0), actor: .systemAdmin, occurredAt: now)
            })
        let later = TestMetrics()
        var again = ProjectionSet.standard()
        _ = try await ProjectionCatchUp.run(&again, from: log.store, metricsFactory: later)
        #expect(later.counterTotal(label: "cumulus_projection_rebuilds") == 0)
        let lag = try later.expectGauge("cumulus_projection_lag_events", [("projection", names[0])])
        let behind = try await log.store.lastPosition().rawValue - end.rawValue
        #expect(lag.values == [Double(behind), 0])
    }
}
