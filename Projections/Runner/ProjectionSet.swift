public import CumulusDomain
public import CumulusLog
import Dispatch
import Foundation

/// Feeds events into several projections, decoding each event once, and saves or restores their checkpoints.
///
/// Each projection remembers the last position it includes, so a set can hold projections restored from
/// checkpoints at different positions (or rebuilt from 0 after a code-version change): an event reaches
/// only the projections that have not seen it. Read the log from ``resumePosition`` on.
///
/// ```swift
/// var set = ProjectionSet.standard()
/// for checkpoint in storedCheckpoints { _ = try set.restore(checkpoint) }
/// try set.apply(contentsOf: store.read(after: set.resumePosition))
/// let saved = set.checkpoints()
/// ```
public struct ProjectionSet: Sendable {
    /// The projections, in the order they were given.
    public private(set) var projections: [any Projection]
    /// The last position each projection includes, parallel to ``projections``.
    public private(set) var positions: [GlobalPosition]

    /// How many threads a batch is spread over (1: the caller's thread only, also in ``ProjectionCatchUp``, which
    /// otherwise applies batches on lane threads while its reader decodes the next ones). Each projection is
    /// applied by one thread at a time and the projections share nothing, so the result is the same whatever this
    /// is; by default it is the number of active processors, at most 4.
    public var lanes: Int
    /// Seconds each projection has spent applying batches, parallel to ``projections``: the lanes are balanced
    /// by it (the longest first, each to the least-loaded lane).
    public private(set) var costs: [Double]
    /// Batches smaller than this are applied on the caller's thread: handing work to another costs more.
    var parallelMinimum = 64

    /// A set of fresh projections, none of which has seen an event.
    public init(_ projections: [any Projection]) {
        self.projections = projections
        self.positions = Array(repeating: .start, count: projections.count)
        self.costs = Array(repeating: 0, count: projections.count)
        self.lanes = min(4, max(1, ProcessInfo.processInfo.activeProcessorCount))
    }

    /// Current state, licence counters, user-state report, time in state and audit, all empty.
    public static func standard() -> ProjectionSet {
        ProjectionSet([
            CurrentStateProjection(), LicenceCountersProjection(), UserStateReportProjection(),
            TimeInStateProjection(), AuditProjection(),
        ])
    }

    /// The position to read the log after: the smallest position any projection includes.
    public var resumePosition: GlobalPosition { positions.min() ?? .start }

    /// The last position every projection includes.
    public var position: GlobalPosition { resumePosition }

    /// Events the set passed over because the domain cannot decode them (counted; docs/domain.md, *Raw appends*).
    public private(set) var skipped = SkippedEvents()

    /// Decodes `event` once and applies it to every projection that has not seen it yet. An event the domain
    /// cannot decode is passed over (every projection moves past it) and counted in ``skipped``.
    public mutating func apply(_ event: RecordedEvent) {
        do throws(ProjectionStateError) {
            let item = try DecodedEvent(decoding: event)
            apply(item.event, decoded: item.decoded)
        } catch {
            skip(event)
        }
    }

    /// Passes over an event the domain cannot decode: every projection that has not seen it moves past it, and it
    /// is counted in ``skipped``. Apply the events before it first.
    public mutating func skip(_ event: RecordedEvent) {
        do throws(PayloadDecodingError) {
            _ = try DomainEvent.decode(type: event.type, schemaVersion: event.schemaVersion, payload: event.payload)
        } catch {
            skipped.record(
                position: event.position.rawValue, stream: event.stream.rawValue, type: event.type, error: error)
        }
        for index in positions.indices where positions[index] < event.position {
            positions[index] = event.position
        }
    }

    /// Applies an event already decoded by the caller.
    public mutating func apply(_ event: RecordedEvent, decoded: DomainEvent) {
        for index in projections.indices where positions[index] < event.position {
            projections[index].apply(event, decoded: decoded)
            positions[index] = event.position
        }
    }

    /// Applies a batch of decoded events (in position order) to every projection that has not seen them: each
    /// projection takes the whole batch in turn, which keeps its code and data hot and lets it overlap lookups.
    public mutating func apply(batch: [DecodedEvent]) {
        guard let last = batch.last?.event.position else { return }
        // Where each projection's unseen events start (nil: it has seen the whole batch).
        let starts = projections.indices.map { index -> Int? in
            guard positions[index] < last else { return nil }
            return batch.firstIndex { $0.event.position > positions[index] }
        }
        let work = projections.indices.filter { starts[$0] != nil }
        if lanes > 1 && work.count > 1 && batch.count >= parallelMinimum {
            applyInLanes(batch, starts: starts, work: work)
        } else {
            for index in work {
                guard let start = starts[index] else { continue }
                let began = ContinuousClock.now
                projections[index].apply(batch: batch[start...])
                costs[index] += Self.seconds(since: began)
            }
        }
        for index in work { positions[index] = last }
    }

    /// Where each projection's unseen events start in `batch` (nil: it has seen them all), and every projection
    /// marked as having seen the whole batch: the pipeline's half of ``apply(batch:)``, whose lanes then apply
    /// each projection's part.
    mutating func claim(_ batch: [DecodedEvent]) -> [Int?] {
        guard let last = batch.last?.event.position else { return positions.map { _ in nil } }
        let starts = positions.indices.map { index -> Int? in
            guard positions[index] < last else { return nil }
            return batch.firstIndex { $0.event.position > positions[index] }
        }
        for index in positions.indices where starts[index] != nil { positions[index] = last }
        return starts
    }

    /// Moves the projections and their costs out for a pipeline's lanes (the set keeps its positions and its
    /// count of skipped events); ``returnProjections(_:costs:)`` puts them back.
    mutating func takeProjections() -> (projections: [any Projection], costs: [Double]) {
        defer {
            projections = []
            costs = []
        }
        return (projections, costs)
    }

    /// Puts back what ``takeProjections()`` took.
    mutating func returnProjections(_ projections: [any Projection], costs: [Double]) {
        self.projections = projections
        self.costs = costs
    }

    /// Spreads the projections over ``lanes`` threads for one batch: the costliest first, each to the
    /// least-loaded lane. Every projection is changed by exactly one thread, in place through a pointer to
    /// its slot, so nothing is copied and nothing is shared but the batch, which is only read.
    private mutating func applyInLanes(_ batch: [DecodedEvent], starts: [Int?], work: [Int]) {
        let lanesOfWork = Self.assign(work, costs: costs, lanes: lanes)
        let laneCount = lanesOfWork.count
        projections.withUnsafeMutableBufferPointer { projectionSlots in
            costs.withUnsafeMutableBufferPointer { costSlots in
                let slots = LaneSlots(projections: projectionSlots, costs: costSlots)
                DispatchQueue.concurrentPerform(iterations: laneCount) { lane in
                    for index in lanesOfWork[lane] {
                        guard let start = starts[index] else { continue }
                        let began = ContinuousClock.now
                        slots.projections[index].apply(batch: batch[start...])
                        slots.costs[index] += Self.seconds(since: began)
                    }
                }
            }
        }
    }

    /// Splits the projections `work` (indices) over at most `lanes` lanes: the costliest first, each to the
    /// least-loaded lane.
    static func assign(_ work: [Int], costs: [Double], lanes: Int) -> [[Int]] {
        let laneCount = max(1, min(lanes, work.count))
        var assignment = Array(repeating: [Int](), count: laneCount)
        var load = Array(repeating: 0.0, count: laneCount)
        for index in work.sorted(by: { costs[$0] > costs[$1] }) {
            let lane = load.indices.min { load[$0] < load[$1] } ?? 0
            assignment[lane].append(index)
            load[lane] += max(costs[index], 1e-9)
        }
        return assignment
    }

    static func seconds(since instant: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - instant
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }

    /// How many events ``apply(contentsOf:asOf:history:)`` and the catch-up hand to the projections at once on
    /// one thread (pipelined, over several lanes: 1,024).
    public static let batchSize = 256

    /// Applies every event of `events` that `asOf` includes (all of them when `asOf` is nil); events the domain
    /// cannot decode are passed over and counted in ``skipped``.
    ///
    /// With more than one lane and no `history`, the caller's thread decodes batches while lane threads apply
    /// the ones before (``lanes``); the result is the same.
    ///
    /// - Parameters:
    ///   - events: the events, in log order.
    ///   - asOf: apply only the events this point includes (all of them when nil).
    ///   - history: reads one user's stream (`user-<id>`, in stream order) from the log, for the users
    ///     whose late events landed before the in-memory history's horizon (``usersNeedingHistory``); without it
    ///     such events are placed from memory only, which can miss repeats dropped long ago.
    public mutating func apply(
        contentsOf events: some Sequence<RecordedEvent>, asOf: AsOf? = nil,
        history: ((UserID) -> [RecordedEvent])? = nil
    ) {
        if lanes > 1 && history == nil {
            applyPipelined(contentsOf: events, asOf: asOf)
            return
        }
        var batch: [DecodedEvent] = []
        batch.reserveCapacity(Self.batchSize)
        func flush() {
            apply(batch: batch)
            batch.removeAll(keepingCapacity: true)
            guard let history else { return }
            for user in usersNeedingHistory {
                rebuildHistory(of: user, from: history(user).filter { asOf?.includes($0) ?? true })
            }
        }
        for event in events where asOf?.includes(event) ?? true {
            let item: DecodedEvent
            do { item = try DecodedEvent(decoding: event) } catch {
                flush()
                skip(event)
                continue
            }
            batch.append(item)
            if batch.count == Self.batchSize { flush() }
        }
        flush()
    }

    /// ``apply(contentsOf:asOf:history:)`` without `history`, with more than one lane: this thread decodes batches
    /// while lane threads apply the ones before (``PipelinedApplier``).
    private mutating func applyPipelined(contentsOf events: some Sequence<RecordedEvent>, asOf: AsOf?) {
        let pipeline = PipelinedApplier(taking: &self)
        var batch: [DecodedEvent] = []
        batch.reserveCapacity(PipelinedApplier.batchSize)
        for event in events where asOf?.includes(event) ?? true {
            let item: DecodedEvent
            do { item = try DecodedEvent(decoding: event) } catch {
                pipeline.hand(&batch)
                pipeline.skip(event)
                continue
            }
            batch.append(item)
            if batch.count == PipelinedApplier.batchSize { pipeline.hand(&batch) }
        }
        pipeline.hand(&batch)
        self = pipeline.finish()
    }

    /// Users whose late events landed before a projection's in-memory history horizon: read each one's stream
    /// (`user-<id>`) and pass it to ``rebuildHistory(of:from:)``, so that the views are exactly those of
    /// in-order arrival however late the event was.
    public var usersNeedingHistory: [UserID] {
        Array(Set(projections.flatMap(\.usersNeedingHistory))).sorted()
    }

    /// Rebuilds `user`'s history in every projection that asked for it, from the user's stream as the log holds
    /// it (events after a projection's position are left out for it: it has not seen them yet).
    /// Events of the stream the domain cannot decode are passed over, as ``apply(contentsOf:asOf:history:)`` does.
    public mutating func rebuildHistory(of user: UserID, from stream: [RecordedEvent]) {
        var decoded: [DecodedEvent] = []
        decoded.reserveCapacity(stream.count)
        for event in stream {
            if let item = try? DecodedEvent(decoding: event) { decoded.append(item) }
        }
        for index in projections.indices where projections[index].usersNeedingHistory.contains(user) {
            let position = positions[index]
            projections[index].rebuildHistory(of: user, from: decoded.filter { $0.event.position <= position })
        }
    }

    /// The projection of type `type`, if the set holds one.
    public func projection<P: Projection>(_ type: P.Type) -> P? {
        for projection in projections {
            if let match = projection as? P { return match }
        }
        return nil
    }

    /// One checkpoint per projection: its name, its last position, and `varint codeVersion`, the 8-byte
    /// `StateChecksum` of the state, then the state (``Projection/encodeState()``).
    public func checkpoints() -> [Checkpoint] {
        projections.indices.map { index in
            let projection = projections[index]
            let state = projection.encodeState()
            var writer = PayloadWriter(capacity: state.count + 16)
            writer.writeVarUInt(UInt64(projection.codeVersion))
            writer.writeInt64(Int64(bitPattern: StateChecksum.of(state)))
            var bytes = writer.bytes
            bytes.append(contentsOf: state)
            return Checkpoint(name: projection.name, position: positions[index], state: bytes)
        }
    }

    /// Replaces the projection named by `checkpoint` with the state it holds, unless its code version is stale.
    ///
    /// - Returns: ``RestoreOutcome/restored(position:)``, or ``RestoreOutcome/rebuildRequired(stored:current:)``
    ///   when the checkpoint was written by another code version; the projection then stays empty at position 0,
    ///   so applying the log from ``resumePosition`` rebuilds it.
    /// - Throws: ``ProjectionStateError/unknownProjection(_:)`` or ``ProjectionStateError/corruptState(projection:reason:)``.
    @discardableResult
    public mutating func restore(_ checkpoint: Checkpoint) throws(ProjectionStateError) -> RestoreOutcome {
        guard let index = projections.firstIndex(where: { $0.name == checkpoint.name }) else {
            throw .unknownProjection(checkpoint.name)
        }
        let projectionType = type(of: projections[index])
        var reader = PayloadReader(checkpoint.state)
        let stored: UInt64
        do { stored = try reader.readVarUInt() } catch { throw .corrupt(checkpoint.name, error) }
        guard stored == UInt64(projectionType.codeVersion) else {
            projections[index] = projectionType.init()
            positions[index] = .start
            return .rebuildRequired(stored: stored, current: projectionType.codeVersion)
        }
        let checksum: UInt64
        do { checksum = UInt64(bitPattern: try reader.readInt64()) } catch { throw .corrupt(checkpoint.name, error) }
        let state = Array(checkpoint.state[reader.offset...])
        let actual = StateChecksum.of(state)
        guard checksum == actual else {
            throw .corruptState(
                projection: checkpoint.name,
                reason: "checksum \(StateChecksum.hex(actual)) of \(state.count) state bytes, "
                    + "\(StateChecksum.hex(checksum)) stored")
        }
        projections[index] = try projectionType.init(decodingState: state)
        positions[index] = checkpoint.position
        return .restored(position: checkpoint.position)
    }

    /// What ``restore(_:)`` did with a checkpoint.
    public enum RestoreOutcome: Hashable, Sendable {
        /// The state was loaded; the projection continues after `position`.
        case restored(position: GlobalPosition)
        /// The checkpoint was written by another code version; the projection starts again from position 0.
        case rebuildRequired(stored: UInt64, current: UInt32)
    }
}

/// The projections' and costs' storage, handed to the lanes of one batch. Each lane touches only the slots of
/// the projections assigned to it, so no slot is ever written by two threads; the buffers outlive the lanes
/// (`concurrentPerform` returns when every lane has finished).
private struct LaneSlots: @unchecked Sendable {
    let projections: UnsafeMutableBufferPointer<any Projection>
    let costs: UnsafeMutableBufferPointer<Double>
}
