import CumulusLog

/// The few JSON pieces the feed writes by hand, so that keys and their order are explicit.
enum JSONWriter {
    /// A JSON string literal; control characters escaped.
    static func string(_ value: String) -> String {
        var text = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case let control where control.value < 0x20 || (0x7F...0x9F).contains(control.value):
                let hex = String(control.value, radix: 16)
                text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            case "\u{2028}": text += "\\u2028"
            case "\u{2029}": text += "\\u2029"
            default: text.unicodeScalars.append(scalar)
            }
        }
        return text + "\""
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
