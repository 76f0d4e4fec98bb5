import CumulusLog
import Synchronization

/// Passes each commit the writer or the change watcher sees on to the notifier of every open handle.
///
/// Each ``LMDBEventStore`` handle has a `CommitNotifier` of its own, so that closing one handle wakes only
/// its own waiting subscribers; the writer and the watcher are shared by all handles of a directory and
/// publish here. `Sendable`: its state sits in one `Mutex`.
final class CommitFanOut: Sendable {
    private struct State {
        var last = GlobalPosition.start
        var notifiers: [ObjectIdentifier: CommitNotifier] = [:]
    }

    private let state = Mutex(State())

    /// Publishes `position` to every handle's notifier.
    func publish(_ position: GlobalPosition) {
        let notifiers: [CommitNotifier] = state.withLock { state in
            if position > state.last { state.last = position }
            return Array(state.notifiers.values)
        }
        for notifier in notifiers { notifier.publish(position) }
    }

    /// Whether a task waits on any handle.
    var hasWaiters: Bool {
        state.withLock { state in state.notifiers.values.contains { $0.hasWaiters } }
    }

    /// Starts passing commits to `notifier`, beginning with the last position known.
    func add(_ notifier: CommitNotifier) {
        let last: GlobalPosition = state.withLock { state in
            state.notifiers[ObjectIdentifier(notifier)] = notifier
            return state.last
        }
        notifier.publish(last)
    }

    /// Stops passing commits to `notifier`.
    func remove(_ notifier: CommitNotifier) {
        _ = state.withLock { state in state.notifiers.removeValue(forKey: ObjectIdentifier(notifier)) }
    }
}
