import CoreMetrics
import CumulusLog
import Foundation
import Logging

/// The one writer of this process: a dedicated thread that takes every pending write request, applies
/// them all in one LMDB write transaction and commits once (group commit).
///
/// Why a thread and not an actor: an LMDB write transaction must begin and commit on the same OS thread,
/// and a task may change threads at any `await`. Here no transaction ever meets an `await`: callers
/// suspend on a continuation, the thread does the synchronous work, then resumes each caller with its own
/// result. One caller's refusal does not fail the others.
///
/// `@unchecked Sendable`: the queue is guarded by `condition`; everything else is touched by the thread only.
final class GroupCommitter: @unchecked Sendable {
    enum Request {
        case atomic([StreamAppend], CheckedContinuation<Result<[AppendResult], EventStoreError>, Never>)
        case units(
            [Result<[StreamAppend], EventStoreError>],
            CheckedContinuation<Result<[Result<[AppendResult], EventStoreError>], EventStoreError>, Never>
        )
        case checkpoint(Checkpoint, CheckedContinuation<Result<Void, EventStoreError>, Never>)
        /// Events copied from another log (``LMDBEventStore/appendCopied(_:)``); a refusal fails the whole group.
        case copy([RecordedEvent], CheckedContinuation<Result<Void, EventStoreError>, Never>)

        var eventCount: Int {
            switch self {
            case .atomic(let appends, _): return appends.reduce(0) { $0 + $1.events.count }
            case .units(let items, _):
                return items.reduce(0) { total, item in
                    total + ((try? item.get())?.reduce(0) { $0 + $1.events.count } ?? 0)
                }
            case .checkpoint: return 1
            case .copy(let events, _): return events.count
            }
        }
    }

    private enum Outcome {
        case atomic(Result<[AppendResult], EventStoreError>)
        case units([Result<[AppendResult], EventStoreError>])
        case checkpoint(Result<Void, EventStoreError>)
        case copy
    }

    /// A group stops growing at this many events (the first request is always taken whole).
    static let maximumGroupEvents = 65_536

    private let environment: Environment
    private let notifier: CommitFanOut
    private let condition = NSCondition()
    private var pending: [Request] = []
    private var stopping = false
    private var stopped = false
    private var lastReaderCheck = ContinuousClock.now
    private let metrics: StoreMetrics
    private let logger: Logger

    init(environment: Environment, notifier: CommitFanOut, metrics: StoreMetrics, logger: Logger) {
        self.environment = environment
        self.notifier = notifier
        self.metrics = metrics
        self.logger = logger
        metrics.mapSize.record(Int64(clamping: environment.mapSize))
        let thread = Thread { [self] in run() }
        thread.name = "cumulus-writer"
        thread.start()
    }

    /// Queues a request; false if the committer has stopped.
    func submit(_ request: Request) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !stopping else { return false }
        pending.append(request)
        condition.signal()
        return true
    }

    /// Finishes the queued requests, then stops the thread and waits for it.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !stopped { condition.wait() }
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while pending.isEmpty && !stopping { condition.wait() }
            if pending.isEmpty && stopping {
                stopped = true
                condition.broadcast()
                condition.unlock()
                return
            }
            var group: [Request] = []
            var events = 0
            while let request = pending.first, group.isEmpty || events + request.eventCount <= Self.maximumGroupEvents {
                events += request.eventCount
                group.append(pending.removeFirst())
            }
            condition.unlock()
            commit(group)
            let now = ContinuousClock.now
            if now - lastReaderCheck > .seconds(10) {
                lastReaderCheck = now
                if let cleared = try? environment.clearStaleReaders(), cleared > 0 {
                    logger.notice(
                        "reclaimed reader slots of dead processes",
                        metadata: ["directory": "\(environment.path)", "slots": "\(cleared)"])
                }
            }
        }
    }

    private func commit(_ group: [Request]) {
        var lastPosition: UInt64 = 0
        var firstPosition: UInt64 = 0
        let mapSizeBefore = environment.mapSize
        let started = ContinuousClock.now
        let outcomes: Result<[Outcome], EventStoreError>
        do {
            outcomes = .success(
                try environment.write { (txn) throws(EventStoreError) -> [Outcome] in
                    var batch = try WriteBatch(txn)
                    firstPosition = batch.lastPosition
                    var outcomes: [Outcome] = []
                    outcomes.reserveCapacity(group.count)
                    for request in group {
                        switch request {
                        case .atomic(let appends, _):
                            outcomes.append(.atomic(try batch.apply(appends, txn)))
                        case .units(let items, _):
                            var results: [Result<[AppendResult], EventStoreError>] = []
                            results.reserveCapacity(items.count)
                            for item in items {
                                switch item {
                                case .failure(let refusal): results.append(.failure(refusal))
                                case .success(let appends): results.append(try batch.apply(appends, txn))
                                }
                            }
                            outcomes.append(.units(results))
                        case .checkpoint(let checkpoint, _):
                            try batch.save(checkpoint, txn)
                            outcomes.append(.checkpoint(.success(())))
                        case .copy(let events, _):
                            if let refusal = try batch.copy(events, txn) { throw refusal }
                            outcomes.append(.copy)
                        }
                    }
                    try batch.finish(txn)
                    lastPosition = batch.lastPosition
                    return outcomes
                }
            )
        } catch {
            outcomes = .failure(error)
        }
        report(group, started: started, written: lastPosition - min(firstPosition, lastPosition), outcomes)
        if environment.mapSize != mapSizeBefore {
            metrics.mapSize.record(Int64(clamping: environment.mapSize))
            logger.notice(
                "the memory map grew",
                metadata: ["directory": "\(environment.path)", "bytes": "\(environment.mapSize)"])
        }
        switch outcomes {
        case .success(let outcomes):
            notifier.publish(GlobalPosition(lastPosition))
            for (request, outcome) in zip(group, outcomes) {
                switch (request, outcome) {
                case (.atomic(_, let continuation), .atomic(let result)): continuation.resume(returning: result)
                case (.units(_, let continuation), .units(let results)):
                    continuation.resume(returning: .success(results))
                case (.checkpoint(_, let continuation), .checkpoint(let result)): continuation.resume(returning: result)
                case (.copy(_, let continuation), .copy): continuation.resume(returning: .success(()))
                default: preconditionFailure("outcomes are built in request order")
                }
            }
        case .failure(let error):
            for request in group {
                switch request {
                case .atomic(_, let continuation): continuation.resume(returning: .failure(error))
                case .units(_, let continuation): continuation.resume(returning: .failure(error))
                case .checkpoint(_, let continuation): continuation.resume(returning: .failure(error))
                case .copy(_, let continuation): continuation.resume(returning: .failure(error))
                }
            }
        }
    }

    /// Metrics and log lines of one group commit. Errors are logged by their description, which names
    /// streams and positions but never a payload.
    private func report(
        _ group: [Request], started: ContinuousClock.Instant, written: UInt64,
        _ outcomes: Result<[Outcome], EventStoreError>
    ) {
        let elapsed = ContinuousClock.now - started
        let nanoseconds = elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
        metrics.commitLatency.recordNanoseconds(nanoseconds)
        metrics.groupRequests.record(group.count)
        metrics.groupEvents.record(group.reduce(0) { $0 + $1.eventCount })
        switch outcomes {
        case .success:
            metrics.commits.increment()
            if written > 0 { metrics.appendedEvents.increment(by: Int64(clamping: written)) }
            logger.trace(
                "group committed",
                metadata: ["requests": "\(group.count)", "events": "\(written)", "nanoseconds": "\(nanoseconds)"])
        case .failure(let error):
            metrics.failedCommits.increment()
            logger.error(
                "group commit failed",
                metadata: [
                    "directory": "\(environment.path)", "requests": "\(group.count)", "error": "\(error.description)",
                ])
        }
    }
}
