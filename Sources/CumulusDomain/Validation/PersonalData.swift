/// A value that is personal data of one person (a name, UPN, e-mail address or phone number).
///
/// The wrapper marks such fields in the event types so that a later erasure feature can encrypt them
/// per person (crypto-shredding) by changing only this type's encoding: the payload stores a one-byte
/// form before the value (`0` = clear text), and a sealed form can be added without touching any event
/// type. Descriptions do not show the value, so logs and error messages do not leak it.
public struct PersonalData<Value: Hashable & Sendable>: Hashable, Sendable, CustomStringConvertible,
    CustomDebugStringConvertible
{
    /// The clear value; read it only where the person's data is meant to be shown.
    public let value: Value

    /// Marks `value` as personal data.
    public init(_ value: Value) { self.value = value }

    /// A placeholder that does not show the value.
    public var description: String { "<personal data>" }
    /// A placeholder that does not show the value.
    public var debugDescription: String { "PersonalData(<redacted>)" }
}

/// Whose personal data an event carries: the key a per-person erasure would use.
public enum DataSubject: Hashable, Sendable {
    /// A user of a tenant.
    case user(UserID)
    /// The technical contact of a tenant.
    case technicalContact(TenantID)
}
