/// The byte-level checks every JSON Lines input (`cumulus append`, `cumulus import`) goes through before a
/// line is parsed: valid UTF-8 (never replaced by U+FFFD, which would merge distinct names) and bounded nesting.
public enum JSONLines {
    /// How deeply objects and arrays may nest in one line. A command or an envelope needs 3 levels; the limit
    /// keeps a hostile line from exhausting the parser's stack.
    public static let nestingLimit = 64

    /// One line of the input: its 1-based number and its text, or why it is not valid UTF-8.
    public struct Line: Sendable {
        /// The 1-based line number.
        public let number: Int
        /// The line's text (without the newline), or the invalid byte.
        public let text: Result<String, InvalidUTF8>
    }

    /// A line holding bytes that are not UTF-8.
    public struct InvalidUTF8: Error, Hashable, Sendable, CustomStringConvertible {
        /// The 1-based line number.
        public let line: Int
        /// The 0-based offset of the first invalid byte within the line.
        public let byteOffset: Int

        /// Names the line and the offset of the first bad byte.
        public var description: String { "line \(line): invalid UTF-8 at byte offset \(byteOffset) of the line" }
    }

    /// Splits `bytes` at each newline (LF) and checks each line's UTF-8. Lines are not trimmed.
    public static func split(_ bytes: [UInt8]) -> [Line] {
        var lines: [Line] = []
        var start = 0
        var number = 1
        while start <= bytes.count {
            let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
            let slice = bytes[start..<end]
            if let offset = firstInvalidUTF8(slice) {
                lines.append(Line(number: number, text: .failure(InvalidUTF8(line: number, byteOffset: offset))))
            } else {
                lines.append(Line(number: number, text: .success(String(decoding: slice, as: UTF8.self))))
            }
            start = end + 1
            number += 1
        }
        return lines
    }

    /// The offset of the first byte of `bytes` that does not belong to valid UTF-8, or `nil` when all are valid.
    public static func firstInvalidUTF8(_ bytes: some Collection<UInt8>) -> Int? {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let scalar): offset += scalar.count
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }

    /// The byte offset where `text` opens its `limit + 1`-th level of objects or arrays (strings are skipped),
    /// or `nil` when it nests no deeper than `limit`.
    public static func offsetNestingDeeper(than limit: Int = nestingLimit, in text: String) -> Int? {
        var depth = 0
        var inString = false
        var escaped = false
        for (offset, byte) in text.utf8.enumerated() {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == 0x5C {
                    escaped = true
                } else if byte == 0x22 {
                    inString = false
                }
                continue
            }
            switch byte {
            case 0x22: inString = true
            case 0x5B, 0x7B:
                depth += 1
                if depth > limit { return offset }
            case 0x5D, 0x7D: depth -= 1
            default: break
            }
        }
        return nil
    }
}

/// Makes control characters visible, so that names and other stored text cannot move the cursor, retitle a
/// terminal, ring its bell or break a line or a CSV record when printed.
public enum VisibleText {
    /// Whether `scalar` is a control character (C0 U+0000–U+001F, DEL U+007F, C1 U+0080–U+009F).
    public static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }

    /// Whether `text` holds any control character.
    public static func containsControl(_ text: String) -> Bool {
        text.unicodeScalars.contains(where: isControl)
    }

    /// `text` with each control character written as `\u{1b}` (its hex code); other text unchanged.
    public static func escaped(_ text: String) -> String {
        guard containsControl(text) else { return text }
        var result = ""
        result.unicodeScalars.reserveCapacity(text.unicodeScalars.count + 8)
        for scalar in text.unicodeScalars {
            if isControl(scalar) {
                result += "\\u{" + String(scalar.value, radix: 16) + "}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// At most the first `limit` characters of `text`, ``escaped(_:)``, and `…` when it was cut: text from outside
    /// (a URL parameter, a command-line argument) quoted in an error message.
    public static func excerpt(_ text: String, limit: Int = 64) -> String {
        let head = text.prefix(limit)
        return escaped(String(head)) + (head.endIndex < text.endIndex ? "…" : "")
    }
}
