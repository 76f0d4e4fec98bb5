import Foundation

/// The raw query string of a request, checked and read before Hummingbird's `queryParameters` (which does not refuse bad
/// escapes or bytes, and leaves `+` as `+`).
enum QueryString {
    /// The first thing wrong with a query string, as a 400 naming the parameter: a `%` not followed by two hex
    /// digits, a name or value whose bytes are not UTF-8 once decoded, or one holding a control character (a tab
    /// aside). Without this check a route would read such a value repaired or cut, and answer as if it had been
    /// asked something else (a `name=` filter with a NUL matched nothing and said so with a 200).
    static func problem(_ query: String) -> Problem? {
        for (index, part) in query.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true)
            .enumerated()
        {
            let equals = part.firstIndex(of: UInt8(ascii: "="))
            let rawName = part[..<(equals ?? part.endIndex)]
            let rawValue = equals.map { part[part.index(after: $0)...] } ?? rawName[rawName.endIndex...]
            let decodedName = decode(rawName)
            let field = decodedName.flatMap { String(validating: $0, as: UTF8.self) } ?? "parameter \(index + 1)"
            for (bytes, what) in [(decodedName, "name"), (decode(rawValue), "value")] {
                guard let bytes else {
                    return .badParameter(
                        field, "the \(what) of query parameter \(index + 1) has a '%' not followed by two hex digits")
                }
                guard let text = String(validating: bytes, as: UTF8.self) else {
                    return .badParameter(field, "the \(what) of query parameter \(index + 1) is not UTF-8 once decoded")
                }
                if let control = text.unicodeScalars.first(where: { $0.value < 0x20 && $0 != "\t" || $0.value == 0x7F })
                {
                    return .badParameter(
                        field,
                        "the \(what) of query parameter \(index + 1) holds the control character "
                            + "U+\(String(format: "%04X", control.value))")
                }
            }
        }
        return nil
    }

    /// The value of the parameter `name` as an HTML form or `URLSearchParams` encodes it: `+` is a space (a `+`
    /// itself comes as `%2B`). For free text such as the `name` filter; nil when the query has no such parameter or
    /// its value is not valid (``problem(_:)`` refuses such a query before any route reads it).
    static func formValue(named name: String, in query: String) -> String? {
        for part in query.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let equals = part.firstIndex(of: UInt8(ascii: "="))
            guard let decodedName = decode(part[..<(equals ?? part.endIndex)], plusIsSpace: true),
                String(validating: decodedName, as: UTF8.self) == name
            else { continue }
            guard let equals else { return "" }
            return decode(part[part.index(after: equals)...], plusIsSpace: true).flatMap {
                String(validating: $0, as: UTF8.self)
            }
        }
        return nil
    }

    /// The bytes of a percent-encoded name or value (`+` a space when `plusIsSpace`, else left as it is), nil when a
    /// `%` is not followed by two hex digits.
    private static func decode(_ raw: Substring.UTF8View.SubSequence, plusIsSpace: Bool = false) -> [UInt8]? {
        func hex(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(raw.count)
        var index = raw.startIndex
        while index < raw.endIndex {
            let byte = raw[index]
            guard byte == UInt8(ascii: "%") else {
                bytes.append(plusIsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
                index = raw.index(after: index)
                continue
            }
            let first = raw.index(after: index)
            guard first < raw.endIndex, raw.index(after: first) < raw.endIndex, let high = hex(raw[first]),
                let low = hex(raw[raw.index(after: first)])
            else { return nil }
            bytes.append(high << 4 | low)
            index = raw.index(first, offsetBy: 2)
        }
        return bytes
    }
}
