import CumulusLMDB
import CumulusLog
import CumulusServer
import CumulusTesting
import Foundation
import Testing

/// `cumulus serve` as a child process: JSON logs, the serve lock, SIGTERM in the middle of batches.
@Suite("cumulus serve as a process")
struct ServeProcessTests {
    static let secret = "a process test secret of at least thirty-two bytes"
    static let platformGroup = UUID().uuidString.lowercased()

    /// Removes a test's directory and the configuration file ``start(_:flag:)`` wrote beside it.
    static func remove(_ directory: String) {
        try? FileManager.default.removeItem(atPath: directory)
        try? FileManager.default.removeItem(atPath: directory + "-serve.json")
    }

    /// Starts `cumulus serve` on `directory`, named with `flag` (`--data-dir`, or `--store`, which takes a directory too).
    static func start(
        _ directory: String, flag: String = "--data-dir"
    ) async throws -> (ChildProcess, LoopbackClient, String) {
        let configuration = directory + "-serve.json"
        let text = """
            {"issuer": "https://login.example/p", "audience": "api://cumulus", "platformAdminGroups": ["\(platformGroup)"],
             "keys": [{"kid": "k", "alg": "HS256", "secret": "\(secret)"}], "checkpointIntervalSeconds": 1}
            """
        try Data(text.utf8).write(to: URL(fileURLWithPath: configuration))
        let child = try ChildProcess(
            "cumulus", ["serve", flag, directory, "--config", configuration, "--listen", "127.0.0.1:0"])
        #expect(await child.waitForOutput(containing: "serving \(directory) on port "), "\(child.standardError)")
        let port = child.standardOutput.split(separator: " ").last.flatMap {
            Int($0.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return (child, LoopbackClient(port: port ?? 0), configuration)
    }

    @Test func plainHTTPOnAReachableAddressIsWarnedAbout() async throws {
        let directory = TemporaryEventLog.makeDirectory(prefix: "cumulus-serve-plain")
        defer { Self.remove(directory) }
        let (local, _, configuration) = try await Self.start(directory)
        local.kill()
        #expect(!local.standardError.contains("plain HTTP"), "\(local.standardError)")
        let reachable = try ChildProcess(
            "cumulus", ["serve", "--data-dir", directory, "--config", configuration, "--listen", "0.0.0.0:0"])
        defer { if reachable.process.isRunning { reachable.kill() } }
        #expect(
            await reachable.waitForOutput(containing: "serving \(directory) on port "), "\(reachable.standardError)")
        #expect(reachable.standardError.contains("plain HTTP on an address other machines can reach"))
        #expect(reachable.standardError.contains("\"level\":\"warning\""), "\(reachable.standardError)")
        #expect(ServerConfiguration.isLoopback("127.0.0.1") && !ServerConfiguration.isLoopback("10.0.0.4"))
    }

    static func token(_ configuration: String) async throws -> String {
        let issued = try await ChildProcess.run(
            "cumulus",
            ["token", "--config", configuration, "--tid", UUID().uuidString, "--groups", platformGroup])
        #expect(issued.status == 0, "\(issued.error)")
        return issued.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func sigtermDuringBatchesLosesNoAcknowledgedCommand() async throws {
        let directory = TemporaryEventLog.makeDirectory(prefix: "cumulus-serve-process")
        defer { Self.remove(directory) }
        let (child, client, configuration) = try await Self.start(directory)
        defer { if child.process.isRunning { child.kill() } }  // a failed expectation must not leave a server behind
        let token = try await Self.token(configuration)
        let tenant = UUID().uuidString.lowercased()
        let root = UUID().uuidString.lowercased()
        let created = await client.post(
            "/v1/commands", token: token,
            body:
                "{\"command\":\"createTenant\",\"occurredAt\":\"2026-11-20T08:00:00Z\",\"tenant\":\"\(tenant)\",\"rootOU\":\"\(root)\",\"name\":\"P\",\"o365Domain\":\"p.onmicrosoft.com\",\"azureTenantId\":\"\(UUID())\"}"
        )
        #expect(created.status == 201, "\(created.body)")
        // A second server on the same directory is refused with a clear message.
        let second = try await ChildProcess.run(
            "cumulus", ["serve", "--data-dir", directory, "--config", configuration, "--listen", "127.0.0.1:0"])
        #expect(second.status == 1 && second.error.contains("another `cumulus serve`"), "\(second.error)")
        // Batches of OU creations until the server goes away; SIGTERM lands in the middle of them.
        let sender = Task { () -> [(stream: String, position: Int)] in
            var acknowledged: [(String, Int)] = []
            for round in 0..<10_000 {
                let lines = (0..<50).map { index in
                    "{\"command\":\"createOU\",\"occurredAt\":\"2026-11-20T08:00:00Z\",\"tenant\":\"\(tenant)\",\"parent\":\"\(root)\",\"name\":\"OU \(round)-\(index)\"}"
                }
                let response = await client.post(
                    "/v1/commands/batch", token: token, body: lines.joined(separator: "\n"),
                    contentType: "application/x-ndjson")
                guard response.status == 200 else { break }
                for result in response.lines where result["status"] as? Int == 201 {
                    for event in result["events"] as? [[String: Any]] ?? [] {
                        if let stream = event["stream"] as? String, let position = event["lastPosition"] as? Int {
                            acknowledged.append((stream, position))
                        }
                    }
                }
            }
            return acknowledged
        }
        try await Task.sleep(for: .milliseconds(700))
        kill(child.process.processIdentifier, SIGTERM)
        let status = await child.wait(timeout: 30)
        let acknowledged = await sender.value
        #expect(status == 0, "\(child.standardError.suffix(2000))")
        #expect(acknowledged.count > 50, "too few batches before SIGTERM to test anything")
        // Every line of the log on standard error is one JSON object (it is not a terminal), and no token is in it.
        let logLines = child.standardError.split(separator: "\n")
        #expect(!logLines.isEmpty)
        for line in logLines {
            #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) is [String: Any], "\(line)")
        }
        #expect(!child.standardError.contains(token) && !child.standardOutput.contains(token))
        #expect(child.standardError.contains("checkpoints saved"))
        let store = try LMDBEventStore.open(directory: directory)
        defer { store.close() }
        for (stream, position) in acknowledged {
            let events = try await store.readAll(after: GlobalPosition(UInt64(position - 1)), maximumCount: 1)
            #expect(events.first?.stream.rawValue == stream, "acknowledged event at \(position) is missing")
        }
        let report = try await store.verify(progress: nil)
        #expect(report.eventCount == (try await store.lastPosition()).rawValue)
        #expect(try await store.checkpoint(named: "current-state")?.position == (try await store.lastPosition()))
    }

    /// `cumulus demo` ends by serving: on a directory another server serves it says so in the tool's own words,
    /// like every other failure (it was ArgumentParser's `Error: …`).
    @Test func aDemoOnADirectoryBeingServedSaysWhyItStops() async throws {
        let directory = TemporaryEventLog.makeDirectory(prefix: "cumulus-serve-demo")
        defer { Self.remove(directory) }
        let small = ["demo", "--data-dir", directory, "--tenants", "1", "--users-per-tenant", "3", "--days", "1"]
        let built = try await ChildProcess.run("cumulus", small + ["--no-serve"])
        #expect(built.status == 0, "\(built.error)")
        let (child, _, _) = try await Self.start(directory)
        defer { if child.process.isRunning { child.kill() } }
        let demo = try await ChildProcess.run("cumulus", small + ["--listen", "127.0.0.1:0"])
        #expect(demo.status == 1 && demo.error.hasPrefix("cumulus: another `cumulus serve`"), "\(demo.error)")
    }

    @Test func eventsAppendedByImportShowUpInTheServer() async throws {
        let directory = TemporaryEventLog.makeDirectory(prefix: "cumulus-serve-follow")
        defer { Self.remove(directory) }
        let (child, client, configuration) = try await Self.start(directory, flag: "--store")
        defer { if child.process.isRunning { child.kill() } }  // a failed expectation must not leave a server behind
        let token = try await Self.token(configuration)
        let tenant = UUID().uuidString.lowercased()
        let line =
            "{\"command\":\"createTenant\",\"actor\":\"systemAdmin\",\"occurredAt\":\"2026-11-20T08:00:00Z\",\"tenant\":\"\(tenant)\",\"name\":\"Imported\",\"o365Domain\":\"i.onmicrosoft.com\",\"azureTenantId\":\"\(UUID())\"}\n"
        let imported = try await ChildProcess.run(
            "cumulus", ["import", "--data-dir", directory], input: Data(line.utf8))
        #expect(imported.status == 0, "\(imported.error)")
        var status = 0
        for _ in 0..<200 where status != 200 {
            status = await client.get("/v1/tenants/\(tenant)", token: token).status
            if status != 200 { try await Task.sleep(for: .milliseconds(25)) }
        }
        #expect(status == 200, "the server did not see the imported tenant")
        kill(child.process.processIdentifier, SIGINT)
        #expect(await child.wait(timeout: 30) == 0)
    }
}
