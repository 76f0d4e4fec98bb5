import CumulusLog
import CumulusProjections

/// The query string split into options, percent-decoded; system options checked, custom ones kept.
struct QueryOptions {
    /// Every option in order, decoded.
    var all: [(String, String)] = []

    static let supported: Set<String> = [
        "$filter", "$select", "$orderby", "$top", "$skip", "$count", "$skiptoken", "$format",
    ]
    /// Custom (non-`$`) options the feed reads.
    static let custom: Set<String> = ["interval"]

    init(parsing query: String) throws(ODataError) {
        var seen: Set<String> = []
        for part in query.split(separator: "&", omittingEmptySubsequences: true) {
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(String(pieces[0])) else {
                throw .badRequest("BadQuery", "query option '\(pieces[0])' is not valid percent-encoding")
            }
            guard let value = Self.decode(pieces.count > 1 ? String(pieces[1]) : "") else {
                throw .badRequest("BadQuery", "the value of \(name) is not valid percent-encoding", option: name)
            }
            // OData's whitespace is the space and the tab; no other control character belongs in a query.
            for text in [name, value] {
                if let control = text.unicodeScalars.first(where: { $0 != "\t" && VisibleText.isControl($0) }) {
                    throw .badRequest(
                        "BadQuery",
                        "\(text == name ? "the name" : "the value") of \(name.debugDescription) holds the control "
                            + "character U+\(HexDigits.four(control.value))",
                        option: name)
                }
            }
            let normalised = name.hasPrefix("$") ? name.lowercased() : name
            if normalised.hasPrefix("$") && !Self.supported.contains(normalised) {
                throw .badRequest(
                    "UnsupportedOption",
                    "query option \(name) is not supported; the feed supports "
                        + Self.supported.sorted().joined(separator: ", "), option: name)
            }
            guard seen.insert(normalised).inserted else {
                throw .badRequest("BadQuery", "query option \(name) is given twice", option: name)
            }
            all.append((normalised, value))
        }
    }

    func value(_ name: String) -> String? { all.first { $0.0 == name }?.1 }

    var skipToken: String? { value("$skiptoken") }

    var withoutSkipToken: [(String, String)] { all.filter { $0.0 != "$skiptoken" } }

    /// Refuses any system option on a resource that takes none.
    func refuseAll(for resource: String) throws(ODataError) {
        if let option = all.first(where: { $0.0.hasPrefix("$") && $0.0 != "$format" }) {
            throw .badRequest("UnsupportedOption", "\(option.0) does not apply to \(resource)", option: option.0)
        }
    }

    /// Percent-decoding with `+` as a space (as HTML forms and many clients encode a space).
    static func decode(_ text: String) -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"): bytes.append(0x20)
            case UInt8(ascii: "%"):
                // Two hex digits exactly (`UInt8(_:radix:)` would also take a sign: `%+1`).
                guard let high = iterator.next().flatMap({ HexDigits.value(of: $0) }),
                    let low = iterator.next().flatMap({ HexDigits.value(of: $0) })
                else { return nil }
                bytes.append(high << 4 | low)
            default: bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// Percent-encodes everything but the unreserved characters of RFC 3986 and `$`.
    static func encode(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            let character = Character(Unicode.Scalar(byte))
            if byte < 0x80 && (character.isLetter || character.isNumber || "-._~$".contains(character)) {
                result.append(character)
            } else {
                let hex = String(byte, radix: 16, uppercase: true)
                result += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return result
    }
}

/// The system query options, checked against an entity set.
struct ParsedQuery {
    var filter: FilterExpression?
    var select: [String]?
    var orderBy: [(String, descending: Bool)] = []
    var top: Int?
    var skip = 0
    var count = false
    var interval = ReportInterval.hour

    init(_ options: QueryOptions, set: EntitySet, configuration: ODataConfiguration) throws(ODataError) {
        let properties = set.propertyTypes
        if let format = options.value("$format"), !["json", "application/json"].contains(format.lowercased()) {
            throw .badRequest("UnsupportedOption", "$format=\(format): the feed writes json only", option: "$format")
        }
        if let text = options.value("$filter") {
            var parser = FilterParser(text, properties: properties)
            filter = try parser.parse()
        }
        if let text = options.value("$select"), text != "*" {
            var names: [String] = []
            for (index, raw) in text.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
                let name = raw.trimmingSpaces
                guard properties[name] != nil else {
                    throw .badRequest(
                        "BadSelect", "$select: unknown property '\(name)' (item \(index + 1))", option: "$select")
                }
                if !names.contains(name) { names.append(name) }
            }
            select = names
        }
        if let text = options.value("$orderby") {
            for (index, raw) in text.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
                let words = raw.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
                guard let name = words.first, properties[name] != nil else {
                    throw .badRequest(
                        "BadOrderBy", "$orderby: unknown property '\(raw.trimmingSpaces)' (item \(index + 1))",
                        option: "$orderby")
                }
                let direction = words.count > 1 ? words[1].lowercased() : "asc"
                guard words.count <= 2, direction == "asc" || direction == "desc" else {
                    throw .badRequest(
                        "BadOrderBy", "$orderby: expected 'asc' or 'desc' after \(name) (item \(index + 1))",
                        option: "$orderby")
                }
                // A property already ordered by decides nothing more (its ties are equal in either direction): a
                // repeat is passed over, so that a long $orderby cannot make every comparison walk thousands of keys.
                if !orderBy.contains(where: { $0.0 == name }) { orderBy.append((name, direction == "desc")) }
            }
        }
        if let text = options.value("$top") {
            guard let value = Int(text), value >= 0 else {
                throw .badRequest("BadTop", "$top=\(text): expected a whole number ≥ 0", option: "$top")
            }
            guard value <= configuration.maximumTop else {
                throw .badRequest(
                    "TopTooLarge", "$top=\(text) is above the limit of \(configuration.maximumTop); page instead",
                    option: "$top")
            }
            top = value
        }
        if let text = options.value("$skip") {
            guard let value = Int(text), value >= 0 else {
                throw .badRequest("BadSkip", "$skip=\(text): expected a whole number ≥ 0", option: "$skip")
            }
            skip = value
        }
        if let text = options.value("$count") {
            switch text.lowercased() {
            case "true": count = true
            case "false": count = false
            default: throw .badRequest("BadCount", "$count=\(text): expected true or false", option: "$count")
            }
        }
        if let text = options.value("interval") {
            guard set == .timeInStateIntervals, let value = ReportInterval(rawValue: text) else {
                throw .badRequest(
                    "BadInterval",
                    set == .timeInStateIntervals
                        ? "interval=\(text): expected 15m, 30m, 1h or 1d"
                        : "interval applies to TimeInStateIntervals only",
                    option: "interval")
            }
            interval = value
        }
    }
}

extension Substring {
    var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
