import CumulusLog

/// The few JSON pieces the feed writes by hand, so that keys and their order are explicit.
enum JSONWriter {
    /// A JSON string literal (the log's escaping: control characters, U+2028 and U+2029 escaped).
    static func string(_ value: String) -> String {
        var text = ""
        JSONText.appendQuoted(value, to: &text)
        return text
    }

    /// A value as JSON: instants as ISO 8601 UTC strings, numbers without exponent where they fit.
    static func value(_ value: ODataValue) -> String {
        switch value {
        case .string(let text): return string(text)
        case .number(let number): return self.number(number)
        case .boolean(let flag): return flag ? "true" : "false"
        case .instant(let instant): return string(instant.iso8601)
        case .null: return "null"
        }
    }

    /// A finite number as JSON; whole numbers without a fraction, others with up to six decimals.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        if value == value.rounded(), abs(value) < 9e15 { return String(Int64(value)) }
        let micros = (value * 1_000_000).rounded()
        guard abs(micros) < 9e15 else { return String(value) }
        let whole = Int64(micros)
        let sign = whole < 0 ? "-" : ""
        let magnitude = whole.magnitude
        var digits = String(magnitude % 1_000_000)
        digits = String(repeating: "0", count: 6 - digits.count) + digits
        while digits.hasSuffix("0") { digits.removeLast() }
        return sign + String(magnitude / 1_000_000) + (digits.isEmpty ? "" : "." + digits)
    }
}
