import CumulusLog
import Glibc

/// One contender's store, as a worker drives it. Each method does the measured work itself and times it,
/// so the limit can leave its untimed preparation (record encoding) out of the figure.
protocol ContenderStore: AnyObject {
    /// P1 (and the limit's P2): one event per durable commit, one after the other.
    func appendOnePerCommit(_ events: [GeneratedEvent]) async throws -> RoundReport
    /// P2: `tasks` concurrent tasks, each appending its share one event at a time and awaiting each ack.
    func appendConcurrently(_ events: [GeneratedEvent], tasks: Int) async throws -> RoundReport
    /// P3: all `events` in one durable commit.
    func importBatch(_ events: [GeneratedEvent]) async throws -> RoundReport
    /// P4: one pass over the whole store.
    func scanAll() throws -> RoundReport
    /// P7: appends each event durably, then waits until an in-process subscriber has seen it.
    func appendUntilVisible(_ events: [GeneratedEvent]) async throws -> RoundReport
    /// Reads every stored event back, untimed, for the cross-check.
    func readBack() async throws -> Tally
    /// Closes the store.
    func close()
}

/// Microseconds of a duration.
func microseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) / 1e12
}

/// Seconds of a duration.
func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// The CPU time (user and system, all threads) this process has used so far, in seconds.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}
