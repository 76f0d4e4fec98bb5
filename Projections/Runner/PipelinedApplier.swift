import CumulusLog
import Foundation

/// Applies batches of decoded events to a projection set on lane threads of its own while the caller — the
/// catch-up's reader thread — reads and decodes the next batches: reading, decoding and the projections' work
/// then overlap instead of taking turns.
///
/// The projections are split over ``ProjectionSet/lanes`` lanes by their measured costs (the costliest
/// first, each to the least-loaded lane), and split again by the costs measured so far after 8, 32, 128, … batches
/// (every lane first finishes what it holds); the first batches (``init(taking:inlineBatches:)``) are applied on the
/// caller's thread, which measures a fresh set's costs and keeps a short input off other threads. Each lane is one thread that takes every batch in order and applies
/// it to its own projections, so a projection sees the events in log order, one thread at a time, and the
/// lanes need not wait for one another: a lane can be a few batches ahead of the other. At most ``depth``
/// batches are in flight; a batch every lane has finished is emptied by the caller's thread, so its events are
/// freed where they were allocated, and its storage is handed back to the caller for a later batch
/// (``hand(_:)`` swaps it in): the pipeline allocates a few batches' storage, not one per batch.
///
/// The set's positions and skipped-event count stay with the caller (``hand(_:)`` advances them; ``skip(_:)``
/// counts an event); the projections belong to the lanes until ``finish()`` waits for every batch and gives the
/// set back. Every hand-over goes through one lock, so a lane's changes happen before the caller sees them.
final class PipelinedApplier: @unchecked Sendable {
    /// Batches in flight at most.
    static let depth = 4
    /// Events per batch handed to the lanes: larger than ``ProjectionSet/batchSize``, since every hand-over
    /// wakes the lanes.
    static let batchSize = 1024

    private struct Entry {
        var batch: [DecodedEvent]
        var starts: [Int?]
        var unfinishedLanes: Int
    }

    private var set: ProjectionSet
    private let projections: UnsafeMutablePointer<any Projection>
    private let costs: UnsafeMutablePointer<Double>
    private let count: Int
    /// The projections (indices) each lane applies; changed only while every lane is idle, under the lock.
    private(set) var lanes: [[Int]] = []
    /// Lanes requested (``ProjectionSet/lanes``); the threads start once the projections' costs are known.
    private let laneCount: Int
    private var started = false
    /// Batches applied on the caller's thread to measure the costs of a fresh set.
    private var measured = 0
    /// Batches applied on the caller's thread before the lanes start.
    private let inlineBatches: Int
    private let condition = NSCondition()
    /// Batches handed and not yet released, oldest first; `released` counts the ones before them.
    private var entries: [Entry] = []
    private var released = 0
    /// The sequence number of the next batch each lane applies.
    private var next: [Int] = []
    private var closing = false
    private var running = 0
    /// Whether a projection has asked for a user's history since the pipeline started (``needsHistory``).
    private var historyNeeded = false
    /// Batches handed to the lanes so far.
    private var handed = 0
    /// The number of batches handed at which the lanes are next split again by the costs measured so far; it
    /// grows by ``splitGrowth`` each time (8, 32, 128, … batches), so the splits cost a handful of waits.
    private var nextSplit = 8
    /// The factor between one split of the lanes and the next.
    static let splitGrowth = 4
    /// Emptied batches whose storage ``hand(_:)`` gives back to the caller; touched by the caller's thread only.
    private var spares: [[DecodedEvent]] = []

    /// Takes `set` over, leaving it empty until ``finish()``, and starts one thread per lane.
    /// - Parameter inlineBatches: how many batches to apply on the caller's thread before the lanes start
    ///   (at least 2 for a set without costs, to measure them): a short input never starts a thread.
    init(taking set: inout ProjectionSet, inlineBatches: Int = 2) {
        self.set = set
        set = ProjectionSet([])
        let (taken, takenCosts) = self.set.takeProjections()
        count = taken.count
        projections = UnsafeMutablePointer<any Projection>.allocate(capacity: max(count, 1))
        projections.initialize(from: taken, count: count)
        costs = UnsafeMutablePointer<Double>.allocate(capacity: max(count, 1))
        costs.initialize(from: takenCosts, count: count)
        laneCount = self.set.lanes
        // `taken` is released here: the buffer holds the only references, so the projections change in place.
        self.inlineBatches = takenCosts.contains(where: { $0 > 0 }) ? inlineBatches : max(2, inlineBatches)
        if self.inlineBatches == 0 { startLanes() }
    }

    /// Splits the projections over the lanes by their costs so far and starts one thread per lane.
    private func startLanes() {
        started = true
        lanes = ProjectionSet.assign(
            Array(0..<count), costs: Array(UnsafeBufferPointer(start: costs, count: count)), lanes: laneCount)
        next = Array(repeating: 0, count: lanes.count)
        running = lanes.count
        for lane in lanes.indices {
            let thread = Thread { [self] in run(lane: lane) }
            thread.name = "cumulus.projections.lane\(lane)"
            thread.qualityOfService = .userInitiated
            thread.start()
        }
    }

    /// Hands `pending` (in log order, after every batch handed before) to the lanes and leaves an empty batch in
    /// its place, with the storage of one the lanes have finished when there is one; waits while ``depth``
    /// batches are in flight.
    func hand(_ pending: inout [DecodedEvent]) {
        guard !pending.isEmpty else { return }
        var batch = spares.popLast() ?? []
        if batch.capacity < Self.batchSize { batch.reserveCapacity(Self.batchSize) }
        swap(&batch, &pending)
        let starts = set.claim(batch)
        guard started else {
            // The first batches are applied here (a set without costs is measured by them; the lanes are split
            // by the costs).
            if apply(Entry(batch: batch, starts: starts, unfinishedLanes: 0), to: 0..<count) {
                condition.lock()
                historyNeeded = true
                condition.unlock()
            }
            measured += 1
            if measured == inlineBatches { startLanes() }
            keep(&batch)
            return
        }
        var done: [Entry] = []
        condition.lock()
        if handed == nextSplit {
            // The costs first measured are those of the log's first events, which may be unlike the rest (a log
            // starts with its tenants and users, and the audit's work, not the report's): once in a while every
            // lane finishes what it holds and the projections are split again by the costs measured so far.
            while entries.contains(where: { $0.unfinishedLanes > 0 }) { condition.wait() }
            done.append(contentsOf: takeFinished())
            lanes = ProjectionSet.assign(
                Array(0..<count), costs: Array(UnsafeBufferPointer(start: costs, count: count)), lanes: laneCount)
            nextSplit *= Self.splitGrowth
        }
        handed += 1
        while entries.count >= Self.depth {
            done.append(contentsOf: takeFinished())
            if entries.count < Self.depth { break }
            condition.wait()
        }
        done.append(contentsOf: takeFinished())
        entries.append(Entry(batch: batch, starts: starts, unfinishedLanes: lanes.count))
        condition.broadcast()
        condition.unlock()
        // Emptied here, on the caller's thread, outside the lock.
        while var entry = done.popLast() { keep(&entry.batch) }
    }

    /// Empties a batch no lane holds any more and keeps its storage for a later one (at most ``depth`` + 1 kept).
    private func keep(_ batch: inout [DecodedEvent]) {
        batch.removeAll(keepingCapacity: true)
        guard spares.count <= Self.depth else { return }
        spares.append([])
        swap(&spares[spares.count - 1], &batch)
    }

    /// Passes over an event the domain cannot decode (see ``ProjectionSet/skip(_:)``); hand the batch before it
    /// first.
    func skip(_ event: RecordedEvent) {
        set.skip(event)
    }

    /// Whether a projection has found, in a batch it applied, an event that landed before a user's in-memory
    /// history (``ProjectionSet/usersNeedingHistory``): the caller then drains the pipeline (``finish()``) and
    /// rebuilds those users from the log. Batches still being applied may set it later.
    var needsHistory: Bool {
        condition.lock()
        defer { condition.unlock() }
        return historyNeeded
    }

    /// Waits for every batch handed, stops the lanes and gives the set back.
    func finish() -> ProjectionSet {
        var done: [Entry] = []
        condition.lock()
        closing = true
        condition.broadcast()
        while running > 0 {
            done.append(contentsOf: takeFinished())
            condition.wait()
        }
        done.append(contentsOf: takeFinished())
        condition.unlock()
        done.removeAll()
        let returned = Array(UnsafeBufferPointer(start: projections, count: count))
        let returnedCosts = Array(UnsafeBufferPointer(start: costs, count: count))
        projections.deinitialize(count: count)
        projections.deallocate()
        costs.deinitialize(count: count)
        costs.deallocate()
        set.returnProjections(returned, costs: returnedCosts)
        let finished = set
        set = ProjectionSet([])
        return finished
    }

    /// The finished batches at the front; called with the lock held.
    private func takeFinished() -> [Entry] {
        let finished = entries.prefix { $0.unfinishedLanes == 0 }.count
        guard finished > 0 else { return [] }
        let taken = Array(entries[..<finished])
        entries.removeFirst(finished)
        released += finished
        return taken
    }

    private func run(lane: Int) {
        condition.lock()
        while true {
            let sequence = next[lane]
            if sequence - released < entries.count {
                let entry = entries[sequence - released]
                condition.unlock()
                let needs = apply(entry, lane: lane)
                condition.lock()
                if needs { historyNeeded = true }
                entries[sequence - released].unfinishedLanes -= 1
                next[lane] = sequence + 1
                condition.broadcast()
            } else if closing {
                break
            } else {
                condition.wait()
            }
        }
        running -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// Applies one batch to the lane's projections; the entry (and so its reference to the batch) ends here,
    /// before the lane reports the batch finished. Returns whether one of them now needs a user's history.
    private func apply(_ entry: consuming Entry, lane: Int) -> Bool {
        apply(entry, to: lanes[lane])
    }

    /// Applies one batch to the projections at `indices`; returns whether one of them now needs a user's history
    /// (``needsHistory``).
    private func apply(_ entry: consuming Entry, to indices: some Collection<Int>) -> Bool {
        for index in indices {
            guard let start = entry.starts[index] else { continue }
            let began = ContinuousClock.now
            projections[index].apply(batch: entry.batch[start...])
            costs[index] += ProjectionSet.seconds(since: began)
        }
        return indices.contains { !projections[$0].usersNeedingHistory.isEmpty }
    }
}
