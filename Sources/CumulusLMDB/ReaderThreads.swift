import CumulusLog
import Foundation

/// A small pool of threads of its own on which every `async` read of the log runs its LMDB work.
///
/// Why: an LMDB read blocks its thread (page faults on the memory map, the ``ReaderGate`` while the map
/// grows, a long scan). Run on Swift's cooperative pool — which has one thread per core and which a server
/// shares with every request — a few such reads stall every other task. Here the calling task suspends on a
/// continuation while a reader thread does the synchronous work, so the cooperative pool stays free.
///
/// Why not `NIOThreadPool`: it would add swift-nio to every embedder's build for one queue and a few threads;
/// why not the writer's thread: reads would then wait behind commits and commits behind long scans.
///
/// Threads start on demand up to ``maximumThreads`` and live for the process; the pool is shared by every log
/// of the process (reads are short; a long scan occupies one thread). `@unchecked Sendable`: the job queue and
/// the counters are guarded by `condition`.
final class ReaderThreads: @unchecked Sendable {
    /// The pool every log of this process uses.
    static let shared = ReaderThreads(maximumThreads: max(2, min(8, ProcessInfo.processInfo.activeProcessorCount)))

    /// How many threads the pool starts at most.
    let maximumThreads: Int
    private let condition = NSCondition()
    private var jobs: [(@Sendable () -> Void)?] = []
    private var nextJob = 0
    private var threads = 0
    private var idle = 0

    init(maximumThreads: Int) {
        self.maximumThreads = maximumThreads
    }

    /// Runs `body` on a reader thread while the calling task is suspended, and returns its result.
    func run<R: Sendable>(
        _ body: @escaping @Sendable () throws(EventStoreError) -> R
    ) async throws(EventStoreError)
        -> R
    {
        let result: Result<R, EventStoreError> = await withCheckedContinuation { continuation in
            submit {
                continuation.resume(returning: Result { () throws(EventStoreError) -> R in try body() })
            }
        }
        return try result.get()
    }

    /// Runs a synchronous consumer on a reader thread: `body` is not `Sendable`, but the caller stays suspended
    /// until it has returned, so it never runs at the same time as its owner.
    func run<R: Sendable>(
        consuming body: () throws(EventStoreError) -> R
    ) async throws(EventStoreError) -> R {
        try await withoutActuallyEscaping(body) { (escaping) async throws(EventStoreError) -> R in
            // The reader thread takes the closure out of the slot and drops it before the caller resumes:
            // `withoutActuallyEscaping` checks that no reference to it is left when the block returns.
            let slot = SuspendedCallerClosure(escaping)
            return try await run { () throws(EventStoreError) -> R in try slot.runOnce() }
        }
    }

    private func submit(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        defer { condition.unlock() }
        jobs.append(job)
        if idle == 0 && threads < maximumThreads {
            threads += 1
            let thread = Thread { [self] in work() }
            thread.name = "cumulus-reader"
            thread.start()
        } else {
            condition.signal()
        }
    }

    private func work() {
        while true {
            condition.lock()
            while nextJob == jobs.count {
                idle += 1
                condition.wait()
                idle -= 1
            }
            let job = jobs[nextJob]
            jobs[nextJob] = nil
            nextJob += 1
            if nextJob == jobs.count || nextJob > 1024 {
                jobs.removeFirst(nextJob)
                nextJob = 0
            }
            condition.unlock()
            job?()
        }
    }
}

/// A closure of a task that waits, suspended, until the closure has run on another thread.
///
/// `@unchecked Sendable`: only ``ReaderThreads/run(consuming:)`` makes one, and its caller is suspended for
/// the whole time the closure may run, so the closure never runs concurrently with the code that owns it;
/// the lock orders the hand-over between the two threads.
private final class SuspendedCallerClosure<R>: @unchecked Sendable {
    private var body: (() throws(EventStoreError) -> R)?
    private let lock = NSLock()

    init(_ body: @escaping () throws(EventStoreError) -> R) {
        self.body = body
    }

    /// Runs the closure once and lets go of it.
    func runOnce() throws(EventStoreError) -> R {
        lock.lock()
        let taken = body
        body = nil
        lock.unlock()
        guard let taken else { throw .storage(operation: "read", code: -1, message: "the scan ran twice") }
        return try taken()
    }
}
