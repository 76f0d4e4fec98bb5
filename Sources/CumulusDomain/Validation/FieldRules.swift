import CumulusLog
public import Foundation

/// The field rules of domain.md §3, as throwing checks that name the field and the rule.
///
/// Checks return the normalised value (trimmed of nothing; GUIDs and DNS names lower-cased) so that
/// decisions can store exactly what was validated. Out-of-range numbers are refused, never clamped.
public enum FieldRules {
    /// The rule text for free text of `length` characters.
    static func lengthRule(_ length: ClosedRange<Int>) -> String {
        length.lowerBound == 0
            ? "at most \(length.upperBound) characters" : "\(length.lowerBound)–\(length.upperBound) characters"
    }

    /// The rule every free-text field (names, company details, addresses) follows besides its length.
    public static let noControlCharactersRule = "no control characters (U+0000–U+001F, U+007F–U+009F)"

    /// Checks that `value` has a character count within `length` (default 1–256) and holds no control character
    /// (NUL, ESC, BEL, CR, LF, tab, DEL, C1): stored names are printed in tables, CSV and terminals.
    /// - Throws: ``DomainError/validation(_:)``.
    public static func text(
        _ value: String, field: String, length: ClosedRange<Int> = 1...256
    ) throws(DomainError)
        -> String
    {
        guard length.contains(value.count) else {
            throw .validation(ValidationFailure(field: field, rule: lengthRule(length)))
        }
        if VisibleText.containsControl(value) {
            throw .validation(ValidationFailure(field: field, rule: noControlCharactersRule))
        }
        if length.lowerBound > 0, value.allSatisfy(\.isWhitespace) {
            throw .validation(ValidationFailure(field: field, rule: "not blank"))
        }
        return value
    }

    /// Checks that `value` lies within `range`.
    /// - Throws: ``DomainError/validation(_:)`` naming the range, e.g. "between 1 and 50".
    public static func number(_ value: Int, field: String, range: ClosedRange<Int>) throws(DomainError) -> Int {
        guard range.contains(value) else {
            throw .validation(
                ValidationFailure(field: field, rule: "between \(range.lowerBound) and \(range.upperBound)"))
        }
        return value
    }

    /// Parses a GUID in its 8-4-4-4-12 hexadecimal form (letter case ignored).
    /// - Throws: ``DomainError/validation(_:)``.
    public static func guid(_ value: String, field: String) throws(DomainError) -> UUID {
        guard value.utf8.count == 36, let uuid = UUID(uuidString: value) else {
            throw .validation(
                ValidationFailure(
                    field: field, rule: "a GUID like `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (hexadecimal)"))
        }
        return uuid
    }

    /// Whether `value` is a DNS host name: 2+ labels of 1–63 letters, digits or inner hyphens, ≤ 253
    /// characters, top-level label not numeric.
    static func isDNSName(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        guard !bytes.isEmpty, bytes.count <= 253 else { return false }
        let labels = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return false }
        for label in labels {
            guard (1...63).contains(label.count), label.first != UInt8(ascii: "-"), label.last != UInt8(ascii: "-")
            else { return false }
            for byte in label where !(isASCIIAlphanumeric(byte) || byte == UInt8(ascii: "-")) { return false }
        }
        if let top = labels.last, top.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) {
            return false
        }
        return true
    }

    /// Whether `value` is an e-mail address `local@domain` with a dot-atom local part (1–64) and a DNS domain.
    static func isEmailAddress(_ value: String) -> Bool {
        guard value.utf8.count <= 254 else { return false }
        let parts = value.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, isDNSName(String(parts[1])) else { return false }
        let local = Array(parts[0].utf8)
        guard (1...64).contains(local.count), local.first != UInt8(ascii: "."), local.last != UInt8(ascii: ".")
        else { return false }
        let specials = Set("!#$%&'*+/=?^_`{|}~.-".utf8)
        var previous: UInt8 = 0
        for byte in local {
            guard isASCIIAlphanumeric(byte) || specials.contains(byte) else { return false }
            if byte == UInt8(ascii: "."), previous == UInt8(ascii: ".") { return false }
            previous = byte
        }
        return true
    }

    /// Whether `value` is E.164: `+` then 2–15 digits, the first not 0.
    static func isE164(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        guard bytes.count >= 3, bytes.count <= 16, bytes[0] == UInt8(ascii: "+"), bytes[1] != UInt8(ascii: "0")
        else { return false }
        return bytes.dropFirst().allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    /// Whether `value` is a SIP address `sip:user@host` with a DNS host.
    static func isSIPAddress(_ value: String) -> Bool {
        guard value.hasPrefix("sip:") else { return false }
        let rest = value.dropFirst(4)
        let parts = rest.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, isDNSName(String(parts[1])) else { return false }
        return parts[0].utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") }
    }

    /// ASCII letters and digits.
    static func isASCIIAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}
