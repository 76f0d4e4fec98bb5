/// Why one line of a JSON Lines import was refused: the line number and the problem.
public struct ImportLineRefusal: Error, Hashable, Sendable, CustomStringConvertible {
    /// The 1-based line number.
    public let line: Int
    /// What is wrong, naming the field where there is one.
    public let reason: String

    /// Creates the refusal.
    public init(line: Int, reason: String) {
        self.line = line
        self.reason = reason
    }

    /// e.g. "line 3: missing field `name`".
    public var description: String { "line \(line): \(reason)" }
}
