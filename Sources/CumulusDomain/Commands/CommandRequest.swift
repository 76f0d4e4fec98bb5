public import Foundation

/// A command with who sent it and when: what the decision and the log envelope need.
public struct CommandRequest: Hashable, Sendable {
    /// The command.
    public var command: Command
    /// Who performs it; stored in the envelope as ``Actor/description``.
    public var actor: Actor
    /// When it happened at the source, in microseconds since 1970-01-01T00:00:00Z.
    public var occurredAt: Int64
    /// The id the caller gave the (first) event, so that a repeated feed line is stored once.
    public var eventID: UUID?

    /// Creates a request.
    public init(command: Command, actor: Actor, occurredAt: Int64, eventID: UUID? = nil) {
        self.command = command
        self.actor = actor
        self.occurredAt = occurredAt
        self.eventID = eventID
    }
}
