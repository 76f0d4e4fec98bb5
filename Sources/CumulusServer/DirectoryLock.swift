import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `serve.lock` file of a data directory, held with `flock` while a server runs: a second
/// `cumulus serve` on the same directory is refused (the kernel releases the lock if the process dies).
final class DirectoryLock: Sendable {
    private let descriptor: Int32

    private init(descriptor: Int32) { self.descriptor = descriptor }

    /// Takes the lock.
    /// - Throws: ``ServerStartFailure/alreadyServed(directory:holder:)`` when another process holds it.
    static func acquire(directory: String) throws(ServerStartFailure) -> DirectoryLock {
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/serve.lock"
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw .storage("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(
                in: .whitespacesAndNewlines)
            close(descriptor)
            throw .alreadyServed(directory: directory, holder: holder.map { "pid \($0)" } ?? "unknown process")
        }
        _ = ftruncate(descriptor, 0)
        let pid = "\(getpid())\n"
        _ = pid.withCString { write(descriptor, $0, strlen($0)) }
        return DirectoryLock(descriptor: descriptor)
    }

    /// Releases the lock (idempotent enough: closing twice only fails silently).
    func release() {
        flock(descriptor, LOCK_UN)
    }

    deinit { close(descriptor) }
}
