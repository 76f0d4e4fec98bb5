/// When a service distributes tasks to a user who is not `Available` (all default `false`).
public struct DistributionSettings: Hashable, Sendable, PayloadCodable {
    /// Deliver while `Busy`.
    public var deliverWhileBusy: Bool
    /// Deliver while `InAMeeting`.
    public var deliverWhileInMeeting: Bool
    /// Deliver while `Away` or `BeRightBack`.
    public var deliverWhileAway: Bool

    /// Creates the settings; the defaults are all `false`.
    public init(deliverWhileBusy: Bool = false, deliverWhileInMeeting: Bool = false, deliverWhileAway: Bool = false) {
        self.deliverWhileBusy = deliverWhileBusy
        self.deliverWhileInMeeting = deliverWhileInMeeting
        self.deliverWhileAway = deliverWhileAway
    }

    /// Three bytes.
    public func encode(to writer: inout PayloadWriter) {
        writer.writeBool(deliverWhileBusy)
        writer.writeBool(deliverWhileInMeeting)
        writer.writeBool(deliverWhileAway)
    }

    /// Three bytes.
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) {
        deliverWhileBusy = try reader.readBool()
        deliverWhileInMeeting = try reader.readBool()
        deliverWhileAway = try reader.readBool()
    }
}
