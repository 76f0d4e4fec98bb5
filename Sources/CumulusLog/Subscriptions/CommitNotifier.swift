import Synchronization

/// Wakes tasks waiting for the log to grow past a position, without polling.
///
/// A backend calls ``publish(_:)`` after each commit (and when it learns of another process's commit);
/// readers call ``wait(after:)``. It is `Sendable` because all its state sits in one `Mutex`.
public final class CommitNotifier: Sendable {
    private struct Waiter {
        let id: UInt64
        let after: UInt64
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var lastPublished: UInt64 = 0
        var nextID: UInt64 = 0
        var waiters: [Waiter] = []
        var closed = false
    }

    private let state = Mutex(State())

    /// A notifier that knows of no event yet.
    public init() {}

    /// The last position published.
    public var lastPublished: GlobalPosition { GlobalPosition(state.withLock { $0.lastPublished }) }

    /// Records that the log now ends at `position` and wakes every waiter it satisfies.
    public func publish(_ position: GlobalPosition) {
        let ready: [Waiter] = state.withLock { state in
            guard position.rawValue > state.lastPublished else { return [] }
            state.lastPublished = position.rawValue
            var ready: [Waiter] = []
            state.waiters.removeAll { waiter in
                guard waiter.after < position.rawValue else { return false }
                ready.append(waiter)
                return true
            }
            return ready
        }
        for waiter in ready { waiter.continuation.resume() }
    }

    /// Returns once a position after `position` is published.
    /// - Throws: ``EventStoreError/cancelled`` if the task is cancelled, ``EventStoreError/closed`` after ``close()``.
    public func wait(after position: GlobalPosition) async throws(EventStoreError) {
        let id: UInt64 = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        do {
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    let outcome: Result<Void, EventStoreError>? = state.withLock { state in
                        if state.closed { return .failure(.closed) }
                        if Task.isCancelled { return .failure(.cancelled) }
                        if state.lastPublished > position.rawValue { return .success(()) }
                        state.waiters.append(Waiter(id: id, after: position.rawValue, continuation: continuation))
                        return nil
                    }
                    if let outcome { continuation.resume(with: outcome) }
                }
            } onCancel: {
                let waiter: Waiter? = state.withLock { state in
                    guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                    return state.waiters.remove(at: index)
                }
                waiter?.continuation.resume(throwing: EventStoreError.cancelled)
            }
        } catch let error as EventStoreError {
            throw error
        } catch {
            throw .cancelled
        }
    }

    /// Whether any task is waiting.
    public var hasWaiters: Bool { state.withLock { !$0.waiters.isEmpty } }

    /// Wakes every waiter with ``EventStoreError/closed``; later waits fail at once.
    public func close() {
        let waiters: [Waiter] = state.withLock { state in
            state.closed = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.continuation.resume(throwing: EventStoreError.closed) }
    }
}
