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

/// One side of a comparison: a property of the entity or a literal.
public enum FilterOperand: Hashable, Sendable {
    /// A property, by name.
    case property(String)
    /// A literal value.
    case literal(ODataValue)
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
/// `comparison := primary (op primary)?`, `primary := "(" or ")" | literal | property`. Literals: `'text'` (a
/// quote doubled inside), numbers (`42`, `-1.5`), `true`, `false`, `null`, and DateTimeOffset
/// (`2026-11-16T08:00:00Z`, `…+01:00`). A property compared with a literal of another type is refused.
public struct FilterParser {
    private let text: [Character]
    private var index = 0
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
        if keyword("not") { return .not(try parseUnary()) }
        return try parseComparison()
    }

    private mutating func parseComparison() throws(ODataError) -> FilterExpression {
        skipSpaces()
        if index < text.count && text[index] == "(" {
            index += 1
            let inner = try parseOr()
            skipSpaces()
            guard index < text.count && text[index] == ")" else { throw error("expected ')'") }
            index += 1
            return inner
        }
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
        default: throw error("expected a comparison (eq, ne, gt, ge, lt, le)", at: index)
        }
    }

    /// Refuses a comparison of a property with a literal of another type.
    private func check(
        _ left: FilterOperand, _ right: FilterOperand, at position: Int, rightAt: Int
    ) throws(ODataError) {
        func type(_ operand: FilterOperand) -> EdmType? {
            switch operand {
            case .property(let name): properties[name]
            case .literal(.string): .string
            case .literal(.number): .decimal
            case .literal(.boolean): .boolean
            case .literal(.instant): .dateTimeOffset
            case .literal(.null): nil
            }
        }
        guard let leftType = type(left), let rightType = type(right) else { return }
        let numeric: Set<EdmType> = [.int64, .decimal]
        if leftType == rightType || (numeric.contains(leftType) && numeric.contains(rightType)) { return }
        throw error("cannot compare \(leftType.rawValue) with \(rightType.rawValue)", at: position)
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
                    throw error("functions such as \(word)() are not supported", at: start)
                }
                throw error("unknown property '\(word)'", at: start)
            }
            return .property(word)
        }
    }
}

extension FilterExpression {
    /// Whether `row` satisfies the expression; a comparison with `null` is true only for `eq null`/`ne null`.
    func matches(_ row: [String: ODataValue]) -> Bool {
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
    func value(in row: [String: ODataValue]) -> ODataValue {
        switch self {
        case .property(let name): row[name] ?? .null
        case .literal(let value): value
        }
    }
}
