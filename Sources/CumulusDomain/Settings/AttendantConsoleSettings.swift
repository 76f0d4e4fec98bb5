/// Attendant Console extension settings.
public struct AttendantConsoleSettings: Hashable, Sendable, PayloadCodable {
    /// MS Graph filter, stored as given and not validated; default empty.
    public var graphFilter: String
    /// Which team members search shows; default `noMembers`.
    public var teamVisibility: TeamVisibility

    /// Creates the settings with domain.md's defaults.
    public init(graphFilter: String = "", teamVisibility: TeamVisibility = .noMembers) {
        self.graphFilter = graphFilter
        self.teamVisibility = teamVisibility
    }

    /// Appends the fields in declaration order.
    public func encode(to writer: inout PayloadWriter) {
        writer.write(graphFilter)
        writer.write(teamVisibility)
    }

    /// Reads the fields in declaration order.
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) {
        graphFilter = try reader.read()
        teamVisibility = try reader.read()
    }
}
