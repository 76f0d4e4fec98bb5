import CumulusLog
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Notices commits made by other processes on the same directory and publishes them to the notifier.
///
/// LMDB writes the data file with `pwrite`, so inotify reports every commit of any process as a
/// modification of `data.mdb`; the watcher then reads the last position and wakes waiting subscribers.
/// It also re-reads once a second in case an event was missed (or inotify is unavailable), and it runs
/// only while some task waits. `@unchecked Sendable`: its flags are guarded by `lock`.
final class ChangeWatcher: @unchecked Sendable {
    private let dataFile: String
    private let notifier: CommitFanOut
    private let readLastPosition: @Sendable () -> GlobalPosition?
    private let lock = NSLock()
    private var running = false
    private var stopping = false

    init(
        dataFile: String,
        notifier: CommitFanOut,
        readLastPosition: @escaping @Sendable () -> GlobalPosition?
    ) {
        self.dataFile = dataFile
        self.notifier = notifier
        self.readLastPosition = readLastPosition
    }

    /// Starts the watching thread unless it runs already.
    ///
    /// The inotify watch is in place before this returns: a commit that lands between the caller's own check
    /// of the last position and its wait still wakes it (a watch added later by the thread would miss it and
    /// leave the wake-up to the once-a-second re-check).
    func start() {
        lock.lock()
        defer { lock.unlock() }
        guard !running && !stopping else { return }
        running = true
        var descriptor: Int32 = -1
        #if canImport(Glibc)
        descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        if descriptor >= 0 && inotify_add_watch(descriptor, dataFile, UInt32(IN_MODIFY)) < 0 {
            close(descriptor)
            descriptor = -1
        }
        #endif
        let watching = descriptor
        let thread = Thread { [self] in watch(watching) }
        thread.name = "cumulus-watcher"
        thread.start()
    }

    /// Stops the thread within about a second.
    func stop() {
        lock.lock()
        stopping = true
        lock.unlock()
    }

    private var shouldStop: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopping
    }

    private func watch(_ descriptor: Int32) {
        #if canImport(Glibc)
        defer { if descriptor >= 0 { close(descriptor) } }
        var buffer = [UInt8](repeating: 0, count: 4096)
        var idleRounds = 0
        while !shouldStop {
            var modified = false
            if descriptor >= 0 {
                var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
                _ = poll(&poller, 1, 1000)
                while read(descriptor, &buffer, buffer.count) > 0 { modified = true }
            } else {
                usleep(100_000)
            }
            // A modification is published even when nobody waits yet: a task between its own check and its
            // wait then finds the new position at once instead of sleeping until the next re-check.
            if modified || notifier.hasWaiters {
                idleRounds = 0
                if let last = readLastPosition() { notifier.publish(last) }
            } else {
                idleRounds += 1
                if idleRounds > 30 { break }
            }
        }
        lock.lock()
        running = false
        lock.unlock()
        #endif
    }
}
