/// A failure of the benchmark itself (setup, a worker, a mismatch), with a message that says what and where.
struct BenchError: Error, CustomStringConvertible {
    /// What went wrong.
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
