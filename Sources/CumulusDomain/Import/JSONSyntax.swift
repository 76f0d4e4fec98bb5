import CumulusLog

/// A JSON syntax check that says where the text stops being JSON (line and column, 1-based, columns in
/// bytes), which Foundation's parser does not report on every platform.
package enum JSONSyntax {
    /// Where and why the text is not JSON.
    package struct Failure: Error, Hashable {
        /// The line, from 1.
        package var line: Int
        /// The column in bytes, from 1.
        package var column: Int
        /// What is wrong there.
        package var reason: String
    }

    /// The first syntax error of `text` as one JSON value, or nil when it is well-formed.
    package static func firstError(in text: String) -> Failure? {
        var parser = Parser(bytes: Array(text.utf8))
        do throws(Failure) {
            parser.skipWhitespace()
            try parser.value(depth: 0)
            parser.skipWhitespace()
            if parser.index < parser.bytes.count { throw parser.failure("unexpected text after the JSON value") }
            return nil
        } catch {
            return error
        }
    }

    private struct Parser {
        let bytes: [UInt8]
        var index = 0

        func failure(_ reason: String) -> Failure {
            var line = 1
            var column = 1
            for byte in bytes[..<min(index, bytes.count)] {
                if byte == UInt8(ascii: "\n") {
                    line += 1
                    column = 1
                } else {
                    column += 1
                }
            }
            return Failure(line: line, column: column, reason: reason)
        }

        mutating func skipWhitespace() {
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        }

        mutating func expect(_ byte: UInt8, _ what: String) throws(Failure) {
            guard index < bytes.count, bytes[index] == byte else { throw failure("expected \(what)") }
            index += 1
        }

        mutating func value(depth: Int) throws(Failure) {
            guard depth < 512 else { throw failure("nested too deeply") }
            guard index < bytes.count else { throw failure("unexpected end of the text") }
            switch bytes[index] {
            case UInt8(ascii: "{"):
                try elements(closedBy: UInt8(ascii: "}"), in: "an object") { parser throws(Failure) in
                    guard parser.index < parser.bytes.count, parser.bytes[parser.index] == UInt8(ascii: "\"") else {
                        throw parser.failure("expected a member name in double quotes")
                    }
                    try parser.string()
                    parser.skipWhitespace()
                    try parser.expect(UInt8(ascii: ":"), "`:` after a member name")
                    parser.skipWhitespace()
                    try parser.value(depth: depth + 1)
                }
            case UInt8(ascii: "["):
                try elements(closedBy: UInt8(ascii: "]"), in: "an array") { parser throws(Failure) in
                    try parser.value(depth: depth + 1)
                }
            case UInt8(ascii: "\""): try string()
            case UInt8(ascii: "t"): try literal("true")
            case UInt8(ascii: "f"): try literal("false")
            case UInt8(ascii: "n"): try literal("null")
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try number()
            default: throw failure("expected a JSON value")
            }
        }

        /// An object's members or an array's values, the index on the opening bracket: none, or `element` then
        /// `,` or the closing bracket, again and again.
        mutating func elements(
            closedBy close: UInt8, in container: String, _ element: (inout Parser) throws(Failure) -> Void
        ) throws(Failure) {
            index += 1
            skipWhitespace()
            if index < bytes.count, bytes[index] == close {
                index += 1
                return
            }
            while true {
                skipWhitespace()
                try element(&self)
                skipWhitespace()
                if index < bytes.count, bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                try expect(close, "`,` or `\(Character(Unicode.Scalar(close)))` in \(container)")
                return
            }
        }

        mutating func literal(_ word: String) throws(Failure) {
            for byte in word.utf8 { try expect(byte, "`\(word)`") }
        }

        mutating func string() throws(Failure) {
            index += 1
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    index += 1
                    return
                }
                if byte < 0x20 { throw failure("a control character inside a string") }
                if byte == UInt8(ascii: "\\") {
                    index += 1
                    guard index < bytes.count else { break }
                    switch bytes[index] {
                    case UInt8(ascii: "u"):
                        let escape = index - 1
                        let unit = try hexUnit()
                        if (0xDC00...0xDFFF).contains(unit) {
                            index = escape
                            throw failure("a lone UTF-16 low surrogate \\u\(Self.hex(unit)) in a string")
                        }
                        if (0xD800...0xDBFF).contains(unit) {
                            // A high surrogate is one half of a character: the low half must follow at once.
                            var low: UInt32 = 0
                            if index + 2 < bytes.count, bytes[index + 1] == UInt8(ascii: "\\"),
                                bytes[index + 2] == UInt8(ascii: "u")
                            {
                                index += 2
                                low = try hexUnit()
                            }
                            guard (0xDC00...0xDFFF).contains(low) else {
                                index = escape
                                throw failure("a UTF-16 high surrogate \\u\(Self.hex(unit)) not followed by a low one")
                            }
                        }
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                        UInt8(ascii: "f"),
                        UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        break
                    default: throw failure("an unknown escape in a string")
                    }
                }
                index += 1
            }
            throw failure("a string is not closed")
        }

        /// Reads the four hex digits after `\\u` (the index on the `u`), leaving the index on the last one.
        mutating func hexUnit() throws(Failure) -> UInt32 {
            var unit: UInt32 = 0
            for _ in 0..<4 {
                index += 1
                guard index < bytes.count, let digit = Self.hexValue(bytes[index]) else {
                    throw failure("expected four hex digits after \\u")
                }
                unit = unit << 4 | UInt32(digit)
            }
            return unit
        }

        mutating func number() throws(Failure) {
            let start = index
            try numberSyntax()
            let text = String(decoding: bytes[start..<index], as: UTF8.self)
            if let value = Double(text), !value.isFinite {
                index = start
                throw failure("the number \(text.prefix(40)) is out of range")
            }
        }

        mutating func numberSyntax() throws(Failure) {
            if bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { throw failure("expected digits in a number") }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                guard digits() > 0 else { throw failure("expected digits after a decimal point") }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                    index += 1
                }
                guard digits() > 0 else { throw failure("expected digits in an exponent") }
            }
        }

        mutating func digits() -> Int {
            let start = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            return index - start
        }

        static func hexValue(_ byte: UInt8) -> UInt8? { HexDigits.value(of: byte) }

        /// A UTF-16 unit as four upper-case hex digits.
        static func hex(_ unit: UInt32) -> String { HexDigits.four(unit) }
    }
}
