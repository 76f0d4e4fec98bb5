/// Writes JSON text by hand: fast enough for `cumulus read` over millions of events, and exact for the
/// integers and timestamps of the envelope.
package struct JSONText {
    package private(set) var text = ""
    private var needsComma = false

    package init() { text.reserveCapacity(512) }

    package mutating func beginObject() {
        if needsComma { text += "," }
        text += "{"
        needsComma = false
    }

    /// Opens an array (after ``key(_:)``); elements are objects written with ``beginObject()``.
    package mutating func beginArray() {
        text += "["
        needsComma = false
    }

    package mutating func endArray() {
        text += "]"
        needsComma = true
    }

    package mutating func endObject() {
        text += "}"
        needsComma = true
    }

    package mutating func key(_ name: String) {
        if needsComma { text += "," }
        text += "\""
        text += name
        text += "\":"
        needsComma = false
    }

    package mutating func field(_ name: String, _ value: String?) {
        key(name)
        if let value { Self.appendQuoted(value, to: &text) } else { text += "null" }
        needsComma = true
    }

    package mutating func field(_ name: String, _ value: UInt64) {
        key(name)
        text += String(value)
        needsComma = true
    }

    package mutating func field(_ name: String, _ value: Double) {
        key(name)
        text += value.isFinite ? String(value) : "null"
        needsComma = true
    }

    package mutating func field(_ name: String, _ value: Bool) {
        key(name)
        text += value ? "true" : "false"
        needsComma = true
    }

    /// Inserts already-valid JSON text as the value.
    package mutating func raw(_ name: String, _ json: String) {
        key(name)
        text += json
        needsComma = true
    }

    /// Appends `value` as a JSON string literal, escaping what RFC 8259 requires, every other control character
    /// and U+2028/U+2029 (valid in JSON, but line ends in JavaScript: a document pasted into a script stays
    /// one literal).
    package static func appendQuoted(_ value: String, to text: inout String) {
        text += "\""
        var plainStart = value.unicodeScalars.startIndex
        var index = plainStart
        let scalars = value.unicodeScalars
        while index < scalars.endIndex {
            let scalar = scalars[index]
            let escape: String?
            switch scalar {
            case "\"": escape = "\\\""
            case "\\": escape = "\\\\"
            case "\n": escape = "\\n"
            case "\r": escape = "\\r"
            case "\t": escape = "\\t"
            case "\u{2028}": escape = "\\u2028"
            case "\u{2029}": escape = "\\u2029"
            default:
                if VisibleText.isControl(scalar) {
                    let hex = String(scalar.value, radix: 16)
                    escape = "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    escape = nil
                }
            }
            if let escape {
                text += String(scalars[plainStart..<index])
                text += escape
                plainStart = scalars.index(after: index)
            }
            index = scalars.index(after: index)
        }
        text += String(scalars[plainStart..<scalars.endIndex])
        text += "\""
    }
}
