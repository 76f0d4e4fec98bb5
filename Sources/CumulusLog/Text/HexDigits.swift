/// Hex digits as the text formats read and name them: percent escapes, `\u` escapes, code points in messages.
package enum HexDigits {
    /// The value of one hex digit (`0`–`9`, `a`–`f`, `A`–`F`), nil for any other byte.
    package static func value(of byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// `value` as at least four upper-case hex digits (`000A`, `D800`, `1F600`).
    package static func four(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
