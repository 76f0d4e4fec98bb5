public import CumulusLog

/// The EDM types the feed uses (OData CSDL 4.0 primitive types).
public enum EdmType: String, Hashable, Sendable {
    /// Text.
    case string = "Edm.String"
    /// A whole number.
    case int64 = "Edm.Int64"
    /// Seconds and other decimals (durations are seconds as `Edm.Decimal`, microsecond precision).
    case decimal = "Edm.Decimal"
    /// A flag.
    case boolean = "Edm.Boolean"
    /// An instant, always written in UTC with `Z`.
    case dateTimeOffset = "Edm.DateTimeOffset"
}

/// One property value of a row, or a literal of a `$filter`.
public enum ODataValue: Hashable, Sendable {
    /// Text.
    case string(String)
    /// A number (whole or decimal).
    case number(Double)
    /// A flag.
    case boolean(Bool)
    /// An instant (microseconds since 1970 UTC).
    case instant(Timestamp)
    /// No value.
    case null

    /// Orders two values of the same kind; `null` sorts first; values of different kinds are not ordered.
    static func compare(_ lhs: ODataValue, _ rhs: ODataValue) -> Int? {
        switch (lhs, rhs) {
        case (.null, .null): return 0
        case (.null, _): return -1
        case (_, .null): return 1
        case (.string(let a), .string(let b)): return a == b ? 0 : (a < b ? -1 : 1)
        case (.number(let a), .number(let b)): return a == b ? 0 : (a < b ? -1 : 1)
        case (.boolean(let a), .boolean(let b)): return a == b ? 0 : (!a ? -1 : 1)
        case (.instant(let a), .instant(let b)): return a == b ? 0 : (a < b ? -1 : 1)
        default: return nil
        }
    }
}
