import CumulusLog
import Foundation

/// The raw query string of a request, checked and read before Hummingbird's `queryParameters` (which does not refuse bad
/// escapes or bytes, and leaves `+` as `+`).
enum QueryString {
    /// The query parameters each route under `/v1/` reads, by path (`{id}` matches one segment); `openapi.json`
    /// lists the same, and a test holds the two together.
    static let routeParameters: [(path: String, names: [String])] = {
        let list = ["name", "tenant", "limit", "offset"]
        let report = ["tenant", "user", "from", "to", "asOf", "limit", "offset"]
        var routes: [(path: String, names: [String])] = [
            ("/v1/commands", []), ("/v1/commands/batch", ["atomic"]), ("/v1/events", ["after", "stream", "limit"]),
            ("/v1/events/head", []), ("/v1/events/live", ["after"]), ("/v1/states/live", ["after", "access_token"]),
            ("/v1/reports/licences", report), ("/v1/reports/user-states", report),
            ("/v1/reports/time-in-state", ["tenant", "user", "from", "to", "interval", "asOf", "limit", "offset"]),
            ("/v1/reports/current-states", report),
        ]
        for kind in ["tenants", "ous", "services", "users"] {
            routes += [("/v1/\(kind)", list), ("/v1/\(kind)/{id}", ["asOf"]), ("/v1/\(kind)/{id}/audit", ["asOf"])]
        }
        return routes
    }()

    /// A 400 for a parameter the route at `path` does not read (a misspelt `asOf` would otherwise answer with the
    /// current state as if it were the state asked for); nil for a path under no route of the table.
    static func unknownParameter(path: String, query: String) -> Problem? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        guard
            let route = routeParameters.first(where: { route in
                let pattern = route.path.split(separator: "/")
                return pattern.count == segments.count
                    && zip(pattern, segments).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
            })
        else { return nil }
        for part in parts(query) {
            guard let bytes = decode(part.name), let name = String(validating: bytes, as: UTF8.self),
                !route.names.contains(name)
            else { continue }
            return .badParameter(
                name,
                "\(route.path) has no query parameter `\(VisibleText.escaped(name))`; "
                    + (route.names.isEmpty
                        ? "it takes none" : "it takes " + route.names.map { "`\($0)`" }.joined(separator: ", ")))
        }
        return nil
    }

    /// The first thing wrong with a query string, as a 400 naming the parameter: a `%` not followed by two hex
    /// digits, a name or value whose bytes are not UTF-8 once decoded, or one holding a control character (a tab
    /// aside; C0, DEL and C1, as `VisibleText.isControl` says). Without this check a route would read such a value repaired or cut, and answer as if it had been
    /// asked something else (a `name=` filter with a NUL matched nothing and said so with a 200).
    static func problem(_ query: String) -> Problem? {
        for (index, part) in parts(query).enumerated() {
            let decodedName = decode(part.name)
            let field = decodedName.flatMap { String(validating: $0, as: UTF8.self) } ?? "parameter \(index + 1)"
            for (bytes, what) in [(decodedName, "name"), (decode(part.value), "value")] {
                guard let bytes else {
                    return .badParameter(
                        field, "the \(what) of query parameter \(index + 1) has a '%' not followed by two hex digits")
                }
                guard let text = String(validating: bytes, as: UTF8.self) else {
                    return .badParameter(field, "the \(what) of query parameter \(index + 1) is not UTF-8 once decoded")
                }
                if let control = text.unicodeScalars.first(where: { $0 != "\t" && VisibleText.isControl($0) }) {
                    return .badParameter(
                        field,
                        "the \(what) of query parameter \(index + 1) holds the control character "
                            + "U+\(HexDigits.four(control.value))")
                }
            }
        }
        return nil
    }

    /// The value of the parameter `name` as an HTML form or `URLSearchParams` encodes it: `+` is a space (a `+`
    /// itself comes as `%2B`). For free text such as the `name` filter; nil when the query has no such parameter or
    /// its value is not valid (``problem(_:)`` refuses such a query before any route reads it).
    static func formValue(named name: String, in query: String) -> String? {
        for part in parts(query) {
            guard let decodedName = decode(part.name, plusIsSpace: true),
                String(validating: decodedName, as: UTF8.self) == name
            else { continue }
            return decode(part.value, plusIsSpace: true).flatMap { String(validating: $0, as: UTF8.self) }
        }
        return nil
    }

    /// The query's `name=value` parts, still percent-encoded (a part without `=` has an empty value).
    private static func parts(_ query: String) -> [(name: Substring.UTF8View, value: Substring.UTF8View)] {
        query.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true).map { part in
            let equals = part.firstIndex(of: UInt8(ascii: "="))
            let name = part[..<(equals ?? part.endIndex)]
            return (name, equals.map { part[part.index(after: $0)...] } ?? name[name.endIndex...])
        }
    }

    /// The bytes of a percent-encoded name or value (`+` a space when `plusIsSpace`, else left as it is), nil when a
    /// `%` is not followed by two hex digits.
    private static func decode(_ raw: Substring.UTF8View.SubSequence, plusIsSpace: Bool = false) -> [UInt8]? {
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
            guard first < raw.endIndex, raw.index(after: first) < raw.endIndex,
                let high = HexDigits.value(of: raw[first]),
                let low = HexDigits.value(of: raw[raw.index(after: first)])
            else { return nil }
            bytes.append(high << 4 | low)
            index = raw.index(first, offsetBy: 2)
        }
        return bytes
    }
}
