import CumulusLog

/// A parsed `$filter` expression (OData v4 URL conventions, the subset Power BI folds into a query).
public indirect enum FilterExpression: Hashable, Sendable {
    /// `left op right` for `eq ne gt ge lt le`.
    case comparison(ComparisonOperator, FilterOperand, FilterOperand)
    /// `left and right`.
    case and(FilterExpression, FilterExpression)
    /// `left or right`.
    case or(FilterExpression, FilterExpression)
    /// `not expression`.
    case not(FilterExpression)
    /// A Boolean property on its own (`IsRoutable`) or a literal `true`/`false`.
    case operand(FilterOperand)
}

/// One side of a comparison: a property of the entity, a literal, or a canonical function of operands.
public indirect enum FilterOperand: Hashable, Sendable {
    /// A property, by name.
    case property(String)
    /// A literal value.
    case literal(ODataValue)
    /// A canonical function applied to its arguments (`tolower(UserName)`, `year(Start)`,
    /// `contains(UserName,'ann')`).
    case function(FilterFunction, [FilterOperand])
}

/// The canonical functions `$filter` supports (OData v4 URL conventions §5.1.1.7 and §5.1.1.8): the ones Power
/// Query folds its text and date filters into. Text is counted in characters (grapheme clusters); instants are
/// taken in UTC, the zone every instant of the feed is written in. A function of `null` is `null`.
public enum FilterFunction: String, CaseIterable, Hashable, Sendable {
    /// `contains(text, part)`: whether `part` occurs in `text` (case-sensitive). Edm.Boolean.
    case contains
    /// `startswith(text, prefix)`. Edm.Boolean.
    case startswith
    /// `endswith(text, suffix)`. Edm.Boolean.
    case endswith
    /// `length(text)`: the number of characters. Edm.Int64.
    case length
    /// `indexof(text, part)`: the 0-based character offset of the first occurrence, -1 if none. Edm.Int64.
    case indexof
    /// `substring(text, start)` or `substring(text, start, length)`, 0-based, clamped to the text. Edm.String.
    case substring
    /// `tolower(text)`. Edm.String.
    case tolower
    /// `toupper(text)`. Edm.String.
    case toupper
    /// `trim(text)`: without leading and trailing white space. Edm.String.
    case trim
    /// `concat(text, text)`. Edm.String.
    case concat
    /// `year(instant)` in UTC. Edm.Int64.
    case year
    /// `month(instant)`, 1–12. Edm.Int64.
    case month
    /// `day(instant)`, 1–31. Edm.Int64.
    case day
    /// `hour(instant)`, 0–23. Edm.Int64.
    case hour
    /// `minute(instant)`, 0–59. Edm.Int64.
    case minute
    /// `second(instant)`, 0–59. Edm.Int64.
    case second

    /// The type of the function's value.
    public var resultType: EdmType {
        switch self {
        case .contains, .startswith, .endswith: .boolean
        case .substring, .tolower, .toupper, .trim, .concat: .string
        case .length, .indexof, .year, .month, .day, .hour, .minute, .second: .int64
        }
    }

    /// The types of the arguments, in order; `substring`'s third is optional.
    var argumentTypes: [EdmType] {
        switch self {
        case .contains, .startswith, .endswith, .indexof, .concat: [.string, .string]
        case .length, .tolower, .toupper, .trim: [.string]
        case .substring: [.string, .int64, .int64]
        case .year, .month, .day, .hour, .minute, .second: [.dateTimeOffset]
        }
    }

    /// How many of ``argumentTypes`` may be left out at the end.
    var optionalArguments: Int { self == .substring ? 1 : 0 }
}

/// The comparison operators of `$filter`.
public enum ComparisonOperator: String, CaseIterable, Hashable, Sendable {
    /// Equal.
    case eq
    /// Not equal.
    case ne
    /// Greater than.
    case gt
    /// Greater than or equal.
    case ge
    /// Less than.
    case lt
    /// Less than or equal.
    case le
}

/// Parses `$filter` text against an entity type's properties; errors name the 1-based character position.
///
/// Grammar: `or := and ("or" and)*`, `and := unary ("and" unary)*`, `unary := "not" unary | comparison`,
/// `comparison := primary (op primary)?`, `primary := "(" or ")" | operand`,
/// `operand := literal | property | function "(" operand ("," operand)* ")"`. Literals: `'text'` (a quote doubled
/// inside), numbers (`42`, `-1.5`), `true`, `false`, `null`, and DateTimeOffset (`2026-11-16T08:00:00Z`,
/// `…+01:00`). Functions: ``FilterFunction``. A property compared with a literal of another type, or a function
/// given an argument of another type, is refused.
///
/// A filter nests at most ``maximumDepth`` levels (parentheses, `not`, function calls) and holds at most
/// ``maximumTerms`` comparisons: the parser, the evaluation and the expression's release all recurse along the tree,
/// and a bounded tree keeps them within any thread's stack, whatever the URL.
public struct FilterParser {
    /// The deepest nesting of parentheses, `not` and function calls accepted.
    public static let maximumDepth = 64
    /// The most comparisons (and Boolean operands) one filter may hold; Power Query's longest folds, a value list
    /// picked in a column filter (`x eq 'a' or x eq 'b' or …`), stay far below it.
    public static let maximumTerms = 1_000
    private let text: [Character]
    private var index = 0
    private var depth = 0
    private var terms = 0
    private let properties: [String: EdmType]

    /// Prepares to parse `text` for an entity type with `properties`.
    public init(_ text: String, properties: [String: EdmType]) {
        self.text = Array(text)
        self.properties = properties
    }

    /// Parses the whole text.
    /// - Throws: ``ODataError`` (400, `BadFilter`) naming the position.
    public mutating func parse() throws(ODataError) -> FilterExpression {
        let expression = try parseOr()
        skipSpaces()
        guard index == text.count else { throw error("unexpected '\(String(text[index...]).prefix(20))'") }
        return expression
    }

    private func error(_ message: String, at position: Int? = nil) -> ODataError {
        .badRequest("BadFilter", "$filter: \(message) at position \((position ?? index) + 1)", option: "$filter")
    }

    /// Enters one more level of nesting; the caller leaves it with `depth -= 1`.
    private mutating func nest() throws(ODataError) {
        depth += 1
        guard depth <= Self.maximumDepth else {
            throw error("nests deeper than \(Self.maximumDepth) levels (parentheses, not, function calls)")
        }
    }

    private mutating func skipSpaces() {
        while index < text.count && text[index].isWhitespace { index += 1 }
    }

    /// The next word (letters, digits, `_`, `.`, `/`) without consuming it.
    private func peekWord() -> String {
        var end = index
        while end < text.count && (text[end].isLetter || text[end].isNumber || text[end] == "_") { end += 1 }
        return String(text[index..<end])
    }

    private mutating func keyword(_ word: String) -> Bool {
        skipSpaces()
        guard peekWord() == word else { return false }
        index += word.count
        return true
    }

    private mutating func parseOr() throws(ODataError) -> FilterExpression {
        var left = try parseAnd()
        while keyword("or") { left = .or(left, try parseAnd()) }
        return left
    }

    private mutating func parseAnd() throws(ODataError) -> FilterExpression {
        var left = try parseUnary()
        while keyword("and") { left = .and(left, try parseUnary()) }
        return left
    }

    private mutating func parseUnary() throws(ODataError) -> FilterExpression {
        if keyword("not") {
            try nest()
            defer { depth -= 1 }
            return .not(try parseUnary())
        }
        return try parseComparison()
    }

    private mutating func parseComparison() throws(ODataError) -> FilterExpression {
        skipSpaces()
        if index < text.count && text[index] == "(" {
            try nest()
            defer { depth -= 1 }
            index += 1
            let inner = try parseOr()
            skipSpaces()
            guard index < text.count && text[index] == ")" else { throw error("expected ')'") }
            index += 1
            return inner
        }
        terms += 1
        guard terms <= Self.maximumTerms else { throw error("more than \(Self.maximumTerms) comparisons") }
        let leftStart = index
        let left = try parseOperand()
        skipSpaces()
        let operatorStart = index
        let word = peekWord()
        guard let op = ComparisonOperator(rawValue: word) else {
            if word.isEmpty || word == "and" || word == "or" || index == text.count || text[index] == ")" {
                return try boolean(left, at: leftStart)
            }
            throw error("unknown operator '\(word)' (use eq, ne, gt, ge, lt, le, and, or, not)")
        }
        index += word.count
        skipSpaces()
        let rightStart = index
        let right = try parseOperand()
        try check(left, right, at: operatorStart, rightAt: rightStart)
        return .comparison(op, left, right)
    }

    private func boolean(_ operand: FilterOperand, at position: Int) throws(ODataError) -> FilterExpression {
        switch operand {
        case .property(let name) where properties[name] == .boolean: return .operand(operand)
        case .literal(.boolean): return .operand(operand)
        case .function(let function, _) where function.resultType == .boolean: return .operand(operand)
        default: throw error("expected a comparison (eq, ne, gt, ge, lt, le)", at: index)
        }
    }

    /// The type of an operand; nil for `null`, which has every type.
    private func type(of operand: FilterOperand) -> EdmType? {
        switch operand {
        case .property(let name): properties[name]
        case .literal(.string): .string
        case .literal(.number): .decimal
        case .literal(.boolean): .boolean
        case .literal(.instant): .dateTimeOffset
        case .literal(.null): nil
        case .function(let function, _): function.resultType
        }
    }

    /// Whether a value of type `given` may stand where `wanted` is expected (numbers of either kind mix).
    private static func fits(_ given: EdmType, _ wanted: EdmType) -> Bool {
        let numeric: Set<EdmType> = [.int64, .decimal]
        return given == wanted || (numeric.contains(given) && numeric.contains(wanted))
    }

    /// Refuses a comparison of a property with a literal of another type.
    private func check(
        _ left: FilterOperand, _ right: FilterOperand, at position: Int, rightAt: Int
    ) throws(ODataError) {
        guard let leftType = type(of: left), let rightType = type(of: right) else { return }
        if Self.fits(leftType, rightType) { return }
        throw error("cannot compare \(leftType.rawValue) with \(rightType.rawValue)", at: position)
    }

    /// Parses a function's parenthesised arguments (the name is consumed, `index` is at the `(`) and checks their
    /// number and types.
    private mutating func parseArguments(
        of function: FilterFunction, at start: Int
    ) throws(ODataError) -> FilterOperand {
        try nest()
        defer { depth -= 1 }
        index += 1
        var arguments: [FilterOperand] = []
        var positions: [Int] = []
        skipSpaces()
        if index < text.count && text[index] == ")" {
            index += 1
        } else {
            while true {
                skipSpaces()
                positions.append(index)
                arguments.append(try parseOperand())
                skipSpaces()
                guard index < text.count else { throw error("expected ',' or ')' after an argument of \(function)()") }
                if text[index] == "," {
                    index += 1
                    continue
                }
                guard text[index] == ")" else {
                    throw error("expected ',' or ')' after an argument of \(function)()")
                }
                index += 1
                break
            }
        }
        let wanted = function.argumentTypes
        let fewest = wanted.count - function.optionalArguments
        guard arguments.count >= fewest && arguments.count <= wanted.count else {
            let count = fewest == wanted.count ? "\(wanted.count)" : "\(fewest) or \(wanted.count)"
            throw error(
                "\(function)() takes \(count) argument\(wanted.count == 1 ? "" : "s"), not \(arguments.count)",
                at: start)
        }
        for (offset, argument) in arguments.enumerated() {
            guard let given = type(of: argument), !Self.fits(given, wanted[offset]) else { continue }
            throw error(
                "argument \(offset + 1) of \(function)() must be \(wanted[offset].rawValue), not \(given.rawValue)",
                at: positions[offset])
        }
        return .function(function, arguments)
    }

    private mutating func parseOperand() throws(ODataError) -> FilterOperand {
        skipSpaces()
        guard index < text.count else { throw error("expected a property or a literal, found the end") }
        let start = index
        let character = text[index]
        if character == "'" {
            index += 1
            var value = ""
            while true {
                guard index < text.count else { throw error("unterminated string", at: start) }
                if text[index] == "'" {
                    if index + 1 < text.count && text[index + 1] == "'" {
                        value.append("'")
                        index += 2
                        continue
                    }
                    index += 1
                    break
                }
                value.append(text[index])
                index += 1
            }
            return .literal(.string(value))
        }
        if character.isNumber || character == "-" || character == "+" {
            var end = index + 1
            while end < text.count
                && (text[end].isNumber || ":.TZtzeE+-".contains(text[end]))
            {
                end += 1
            }
            let token = String(text[index..<end])
            index = end
            if token.count >= 10, token.contains("T") || token.contains("t") {
                guard let instant = Timestamp(iso8601: token) else {
                    throw error("'\(token)' is not a DateTimeOffset such as 2026-11-16T08:00:00Z", at: start)
                }
                return .literal(.instant(instant))
            }
            guard let number = Double(token), number.isFinite else {
                throw error("'\(token)' is not a number", at: start)
            }
            return .literal(.number(number))
        }
        let word = peekWord()
        guard !word.isEmpty else { throw error("unexpected '\(character)'") }
        index += word.count
        switch word {
        case "true": return .literal(.boolean(true))
        case "false": return .literal(.boolean(false))
        case "null": return .literal(.null)
        default:
            guard properties[word] != nil else {
                if index < text.count && text[index] == "(" {
                    guard let function = FilterFunction(rawValue: word) else {
                        let known = FilterFunction.allCases.map(\.rawValue).joined(separator: ", ")
                        throw error("unknown function \(word)() (the feed supports \(known))", at: start)
                    }
                    return try parseArguments(of: function, at: start)
                }
                throw error("unknown property '\(word)'", at: start)
            }
            return .property(word)
        }
    }
}

extension FilterExpression {
    /// Whether `row` satisfies the expression; a comparison with `null` is true only for `eq null`/`ne null`.
    func matches(_ row: some ODataPropertyLookup) -> Bool {
        switch self {
        case .and(let left, let right): return left.matches(row) && right.matches(row)
        case .or(let left, let right): return left.matches(row) || right.matches(row)
        case .not(let inner): return !inner.matches(row)
        case .operand(let operand): return operand.value(in: row) == .boolean(true)
        case .comparison(let op, let left, let right):
            let a = left.value(in: row)
            let b = right.value(in: row)
            if a == .null || b == .null {
                switch op {
                case .eq: return a == b
                case .ne: return a != b
                default: return false
                }
            }
            guard let order = ODataValue.compare(a, b) else { return false }
            switch op {
            case .eq: return order == 0
            case .ne: return order != 0
            case .gt: return order > 0
            case .ge: return order >= 0
            case .lt: return order < 0
            case .le: return order <= 0
            }
        }
    }

    /// The tightest `[from, to)` an `and` of comparisons of `property` with instants implies (Power BI's
    /// RangeStart/RangeEnd); `nil` bounds when the filter does not bound it.
    func instantBounds(of property: String) -> (from: Timestamp?, to: Timestamp?) {
        switch self {
        case .and(let left, let right):
            let l = left.instantBounds(of: property)
            let r = right.instantBounds(of: property)
            let from = [l.from, r.from].compactMap { $0 }.max()
            let to = [l.to, r.to].compactMap { $0 }.min()
            return (from, to)
        case .comparison(let op, .property(let name), .literal(.instant(let instant))) where name == property:
            switch op {
            case .ge, .gt: return (instant, nil)
            case .lt: return (nil, instant)
            case .le: return (nil, instant.adding(seconds: 0.000_001))
            case .eq: return (instant, instant.adding(seconds: 0.000_001))
            case .ne: return (nil, nil)
            }
        case .comparison(let op, .literal(let literal), .property(let name)):
            let flipped: [ComparisonOperator: ComparisonOperator] = [
                .gt: .lt, .ge: .le, .lt: .gt, .le: .ge, .eq: .eq, .ne: .ne,
            ]
            guard let reversed = flipped[op] else { return (nil, nil) }
            return FilterExpression.comparison(reversed, .property(name), .literal(literal)).instantBounds(
                of: property)
        default:
            return (nil, nil)
        }
    }
}

extension FilterOperand {
    func value(in row: some ODataPropertyLookup) -> ODataValue {
        switch self {
        case .property(let name): row.value(of: name)
        case .literal(let value): value
        case .function(let function, let arguments):
            function.apply(to: arguments.map { $0.value(in: row) })
        }
    }
}

extension FilterFunction {
    /// The function's value for `arguments` (already checked for number and type by the parser); `null` when an
    /// argument is `null` or not of the kind the function takes.
    func apply(to arguments: [ODataValue]) -> ODataValue {
        switch self {
        case .contains, .startswith, .endswith, .indexof, .concat:
            guard arguments.count == 2, case .string(let text) = arguments[0], case .string(let part) = arguments[1]
            else { return .null }
            switch self {
            case .contains: return .boolean(part.isEmpty || text.contains(part))
            case .startswith: return .boolean(text.hasPrefix(part))
            case .endswith: return .boolean(text.hasSuffix(part))
            case .concat: return .string(text + part)
            default:
                guard !part.isEmpty else { return .number(0) }
                guard let range = text.firstRange(of: part) else { return .number(-1) }
                return .number(Double(text.distance(from: text.startIndex, to: range.lowerBound)))
            }
        case .length, .tolower, .toupper, .trim:
            guard arguments.count == 1, case .string(let text) = arguments[0] else { return .null }
            switch self {
            case .length: return .number(Double(text.count))
            case .tolower: return .string(text.lowercased())
            case .toupper: return .string(text.uppercased())
            default:
                let first = text.firstIndex { !$0.isWhitespace } ?? text.endIndex
                let end = text.lastIndex { !$0.isWhitespace }.map { text.index(after: $0) } ?? first
                return .string(String(text[first..<end]))
            }
        case .substring:
            guard arguments.count >= 2, case .string(let text) = arguments[0], case .number(let start) = arguments[1],
                start.isFinite
            else { return .null }
            // Clamped in Double, so that any finite literal fits an Int; `dropFirst`/`prefix` stop at the text's end.
            let rest = text.dropFirst(Int(max(0, min(Double(Int32.max), start.rounded(.down)))))
            guard arguments.count == 3 else { return .string(String(rest)) }
            guard case .number(let length) = arguments[2], length.isFinite else { return .null }
            return .string(String(rest.prefix(Int(max(0, min(Double(Int32.max), length.rounded(.down)))))))
        case .year, .month, .day, .hour, .minute, .second:
            guard arguments.count == 1, case .instant(let instant) = arguments[0] else { return .null }
            let parts = instant.utcParts
            switch self {
            case .year: return .number(Double(parts.year))
            case .month: return .number(Double(parts.month))
            case .day: return .number(Double(parts.day))
            case .hour: return .number(Double(parts.hour))
            case .minute: return .number(Double(parts.minute))
            default: return .number(Double(parts.second))
            }
        }
    }
}
