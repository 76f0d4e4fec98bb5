public import CumulusLog
public import CumulusProjections
public import Logging

/// The server's live read side: every projection in memory, caught up with the log as it grows (from this
/// process or any other), shared by all request handlers and by route groups other modules add.
///
/// An actor: the projections change only inside it, and readers run their query inside it too
/// (``read(_:)``), so no copy of the state ever escapes to be copied again on the next change.
public actor ReadSide {
    /// The log the projections follow.
    public nonisolated let store: any EventStore
    private var projections: ProjectionSet
    private let logger: Logger
    /// Who writes the checkpoints: this process, or (several servers on one PostgreSQL log) the holder of the lease.
    private let checkpoints: any CheckpointWriting
    private var lastSaved = GlobalPosition.start
    /// The last save started: each save waits for the one before, so an older state never lands after a newer one
    /// (the actor is re-entered while a save awaits the store).
    private var saveChain: Task<Void, Never>?

    /// A read side over `store`, caught up from the checkpoints the store holds (see ``load(store:logger:)``).
    init(store: any EventStore, set: ProjectionSet, logger: Logger, checkpoints: any CheckpointWriting) {
        self.store = store
        self.projections = set
        self.logger = logger
        self.checkpoints = checkpoints
        lastSaved = projections.position
    }

    /// Restores every standard projection from its checkpoint and reads the rest of the log.
    /// - Throws: `ProjectionCatchUp.Failure` when the log or a checkpoint cannot be read.
    public static func load(
        store: any EventStore, logger: Logger
    ) async throws(ProjectionCatchUp.Failure)
        -> ReadSide
    {
        try await load(store: store, logger: logger, checkpoints: StoreCheckpoints(store: store))
    }

    /// Restores every standard projection from its checkpoint and reads the rest of the log; the checkpoints are
    /// saved through `checkpoints`.
    static func load(
        store: any EventStore, logger: Logger, checkpoints: any CheckpointWriting
    ) async throws(ProjectionCatchUp.Failure)
        -> ReadSide
    {
        var set = ProjectionSet.standard()
        let report = try await ProjectionCatchUp.run(&set, from: store)
        logger.info(
            "projections loaded",
            metadata: [
                "restored": "\(report.restored.count)", "rebuilt": "\(report.rebuilt.count)",
                "eventsApplied": "\(report.eventsApplied)", "position": "\(report.position)",
            ])
        let side = ReadSide(store: store, set: set, logger: logger, checkpoints: checkpoints)
        if report.eventsApplied > 0 { try await side.saveCheckpoints() }
        return side
    }

    /// The last log position the projections include.
    public var position: GlobalPosition { projections.position }

    /// Runs `body` on the live projections.
    public func read<T: Sendable, E: Error>(_ body: (ProjectionSet) throws(E) -> T) throws(E) -> T {
        try body(projections)
    }

    /// Applies every event appended after ``position``.
    /// - Returns: how many events were applied.
    @discardableResult
    public func catchUp() async throws(ProjectionCatchUp.Failure) -> Int {
        var applied = 0
        while true {
            let batch: [RecordedEvent]
            do {
                batch = try await store.readAll(after: projections.position, maximumCount: 4096)
            } catch {
                throw .storage(error)
            }
            if batch.isEmpty { return applied }
            for event in batch where event.position > projections.position { projections.apply(event) }
            applied += batch.count
        }
    }

    /// Catches up until the projections include `position` (read-your-writes after an append).
    public func catchUp(to position: GlobalPosition) async throws(ProjectionCatchUp.Failure) {
        if projections.position < position { try await catchUp() }
    }

    /// Saves a checkpoint of every projection, if anything changed since the last save.
    ///
    /// With several servers on one PostgreSQL log only the holder of the checkpoint lease saves; on the others
    /// this does nothing (and takes the lease when its holder has gone).
    public func saveCheckpoints() async throws(ProjectionCatchUp.Failure) {
        guard projections.position > lastSaved || lastSaved == .start else { return }
        guard await checkpoints.isWriter() else { return }
        let snapshot = projections
        let previous = saveChain
        let checkpoints = self.checkpoints
        let save = Task<Result<Bool, ProjectionCatchUp.Failure>, Never> {
            await previous?.value
            do throws(EventStoreError) {
                return .success(try await checkpoints.write(snapshot.checkpoints()))
            } catch {
                return .failure(.storage(error))
            }
        }
        saveChain = Task { _ = await save.value }
        let before = lastSaved
        lastSaved = snapshot.position
        switch await save.value {
        case .failure(let failure):
            throw failure
        case .success(false):
            // The lease went to another server meanwhile: nothing saved.
            if lastSaved == snapshot.position { lastSaved = before }
        case .success(true):
            logger.debug("checkpoints saved", metadata: ["position": "\(snapshot.position)"])
        }
    }

    /// Follows the log until cancelled or the store closes: waits for new events and applies them.
    func follow() async {
        while !Task.isCancelled {
            do {
                try await store.waitForEvents(after: projections.position)
                try await catchUp()
            } catch let error as EventStoreError where error == .cancelled || error == .closed {
                return
            } catch {
                logger.error("following the log failed; retrying in a second", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}
