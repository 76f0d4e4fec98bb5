// cumulus-bench: Cumulus against the limit (raw LMDB) and the peer (SQLite), side by side in one run.
// Release mode:
//   swift build -c release --product cumulus-bench && .build/release/cumulus-bench
// See Benchmarks/README.md.
import Foundation

let arguments = Array(CommandLine.arguments.dropFirst())
do {
    switch arguments.first {
    case "worker":
        guard arguments.count == 2 else { throw BenchError("usage: cumulus-bench worker SETUP-JSON (internal)") }
        let setup = try JSONDecoder().decode(WorkerSetup.self, from: Data(arguments[1].utf8))
        try await Worker.run(setup)
    case "rebuild":
        try await RebuildBenchmark.run(Array(arguments.dropFirst()))
    case "rebuild-worker":
        guard arguments.count == 2 else { throw BenchError("usage: cumulus-bench rebuild-worker LOG (internal)") }
        try await RebuildBenchmark.worker(arguments[1])
    case "cli":
        try CLIBenchmark.run(Array(arguments.dropFirst()))
    case "postgres":
        try await PostgresBenchmark.run(Array(arguments.dropFirst()))
    case "postgres-p2-worker":
        try await PostgresBenchmark.p2Worker(Array(arguments.dropFirst()))
    case "stream-index":
        let eventCount = arguments.count > 1 ? Int(arguments[1]) ?? 1_000_000 : 1_000_000
        let streamCount = arguments.count > 2 ? Int(arguments[2]) ?? 100_000 : 100_000
        try await StreamIndexBenchmark.runAndPrint(events: eventCount, streams: streamCount)
    default:
        exit(try BenchmarkRun.run(Options(arguments)))
    }
} catch {
    FileHandle.standardError.write(Data("cumulus-bench: \(error)\n".utf8))
    exit(1)
}
