/// A DNS name such as `contoso.onmicrosoft.com`, stored lower-case.
public struct DNSName: Hashable, Sendable, CustomStringConvertible {
    /// The lower-case name.
    public let value: String

    /// Validates `value` as a DNS host name.
    /// - Throws: ``DomainError/validation(_:)`` naming `field`.
    public init(_ value: String, field: String) throws(DomainError) {
        let lower = value.lowercased()
        guard FieldRules.isDNSName(lower) else {
            throw .validation(
                ValidationFailure(
                    field: field,
                    rule: "a DNS name like `contoso.onmicrosoft.com` (labels of 1–63 letters, digits or hyphens, "
                        + "at most 253 characters)"))
        }
        self.value = lower
    }

    /// Wraps a value read back from the log.
    init(stored value: String) { self.value = value }

    /// The name.
    public var description: String { value }
}

/// An e-mail address `local@domain`.
public struct EmailAddress: Hashable, Sendable, CustomStringConvertible {
    /// The address as given.
    public let value: String

    /// Validates `value` as an e-mail address.
    /// - Throws: ``DomainError/validation(_:)`` naming `field`.
    public init(_ value: String, field: String) throws(DomainError) {
        guard FieldRules.isEmailAddress(value) else {
            throw .validation(ValidationFailure(field: field, rule: "an e-mail address like `name@example.com`"))
        }
        self.value = value
    }

    /// Wraps a value read back from the log.
    init(stored value: String) { self.value = value }

    /// The address.
    public var description: String { value }
}

/// A phone number in E.164 form: `+` then 2–15 digits, the first not 0.
public struct PhoneNumber: Hashable, Sendable, CustomStringConvertible {
    /// The number, e.g. `+41315550100`.
    public let value: String

    /// Validates `value` as E.164.
    /// - Throws: ``DomainError/validation(_:)`` naming `field`.
    public init(_ value: String, field: String) throws(DomainError) {
        guard FieldRules.isE164(value) else {
            throw .validation(
                ValidationFailure(field: field, rule: "an E.164 phone number: `+` then 2–15 digits, the first not 0"))
        }
        self.value = value
    }

    /// Wraps a value read back from the log.
    init(stored value: String) { self.value = value }

    /// The number.
    public var description: String { value }
}

/// A SIP address `sip:user@host`.
public struct SIPAddress: Hashable, Sendable, CustomStringConvertible {
    /// The address, e.g. `sip:anna@contoso.com`.
    public let value: String

    /// Validates `value` as a SIP address.
    /// - Throws: ``DomainError/validation(_:)`` naming `field`.
    public init(_ value: String, field: String) throws(DomainError) {
        guard FieldRules.isSIPAddress(value) else {
            throw .validation(ValidationFailure(field: field, rule: "a SIP address `sip:user@host`"))
        }
        self.value = value
    }

    /// Wraps a value read back from the log.
    init(stored value: String) { self.value = value }

    /// The address.
    public var description: String { value }
}
