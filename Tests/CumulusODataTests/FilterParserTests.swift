import CumulusLog
import Testing

@testable import CumulusOData

@Suite struct FilterParserTests {
    static let properties: [String: EdmType] = [
        "UserName": .string, "Start": .dateTimeOffset, "DurationSeconds": .decimal, "IsOverused": .boolean,
        "Used": .int64, "UserState": .string,
    ]

    func parse(_ text: String) throws(ODataError) -> FilterExpression {
        var parser = FilterParser(text, properties: Self.properties)
        return try parser.parse()
    }

    func refusal(_ text: String) -> ODataError? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func literalsAndPrecedence() throws {
        let instant = try #require(Timestamp(iso8601: "2026-11-16T08:00:00Z"))
        #expect(
            try parse("UserName eq 'O''Brien'")
                == .comparison(.eq, .property("UserName"), .literal(.string("O'Brien"))))
        #expect(try parse("Used ge -3") == .comparison(.ge, .property("Used"), .literal(.number(-3))))
        #expect(
            try parse("DurationSeconds lt 1.5e2")
                == .comparison(.lt, .property("DurationSeconds"), .literal(.number(150))))
        #expect(
            try parse("Start ge 2026-11-16T09:00:00+01:00")
                == .comparison(.ge, .property("Start"), .literal(.instant(instant))))
        #expect(try parse("IsOverused eq true") == .comparison(.eq, .property("IsOverused"), .literal(.boolean(true))))
        #expect(try parse("UserState eq null") == .comparison(.eq, .property("UserState"), .literal(.null)))
        #expect(try parse("IsOverused") == .operand(.property("IsOverused")))
        // `and` binds tighter than `or`; parentheses and `not` override.
        let a = FilterExpression.comparison(.eq, .property("Used"), .literal(.number(1)))
        let b = FilterExpression.comparison(.eq, .property("Used"), .literal(.number(2)))
        let c = FilterExpression.comparison(.eq, .property("Used"), .literal(.number(3)))
        #expect(try parse("Used eq 1 or Used eq 2 and Used eq 3") == .or(a, .and(b, c)))
        #expect(try parse("(Used eq 1 or Used eq 2) and Used eq 3") == .and(.or(a, b), c))
        #expect(try parse("not (Used eq 1) and not Used eq 2") == .and(.not(a), .not(b)))
        #expect(try parse("  ( ( Used eq 1 ) )  ") == a)
    }

    @Test(arguments: [
        ("UserName eq", "found the end", 12),
        ("Foo eq 1", "unknown property 'Foo'", 1),
        ("UserName eq 'abc", "unterminated string", 13),
        ("Start ge 'yesterday'", "cannot compare Edm.DateTimeOffset with Edm.String", 7),
        ("Used eq 'x'", "cannot compare Edm.Int64 with Edm.String", 6),
        ("contains(UserName,'a')", "functions such as contains() are not supported", 1),
        ("UserName xx 'a'", "unknown operator 'xx'", 10),
        ("(Used eq 1", "expected ')'", 11),
        ("Used eq 1 Used", "unexpected 'Used'", 11),
        ("Start ge 2026-13-40T00:00:00Z", "is not a DateTimeOffset", 10),
        ("UserName", "expected a comparison", 9),
        ("Used eq 1 and", "found the end", 14),
    ])
    func malformedFiltersNameThePosition(text: String, message: String, position: Int) throws {
        let error = try #require(refusal(text), "\(text) was accepted")
        #expect(error.status == 400)
        #expect(error.code == "BadFilter")
        #expect(error.message.contains(message), "\(error.message)")
        #expect(error.message.hasSuffix("at position \(position)"), "\(error.message)")
        #expect(error.body.hasPrefix("{\"error\":{\"code\":\"BadFilter\",\"message\":"))
    }

    @Test func evaluation() throws {
        let row: [String: ODataValue] = [
            "UserName": .string("Chloé"), "Used": .number(3), "IsOverused": .boolean(false), "UserState": .null,
            "Start": .instant(Timestamp(iso8601: "2026-11-16T08:30:00Z")!),
        ]
        let cases: [(String, Bool)] = [
            ("UserName eq 'Chloé'", true), ("UserName ne 'Chloé'", false), ("Used gt 2", true), ("Used ge 3", true),
            ("Used lt 3", false), ("Used le 3", true), ("not IsOverused", true), ("IsOverused or Used eq 3", true),
            ("UserState eq null", true), ("UserState ne null", false), ("UserState eq 'Break'", false),
            ("UserState lt 'Break'", false),
            ("Start ge 2026-11-16T08:00:00Z and Start lt 2026-11-16T09:00:00Z", true),
            ("Start ge 2026-11-16T09:00:00Z or (Used eq 3 and not (UserName eq 'x'))", true),
        ]
        for (text, expected) in cases {
            #expect(try parse(text).matches(row) == expected, "\(text)")
        }
    }

    @Test func rangeBoundsComeFromTheAndedComparisons() throws {
        let start = Timestamp(iso8601: "2026-11-16T00:00:00Z")!
        let end = Timestamp(iso8601: "2026-11-17T00:00:00Z")!
        let bounds = try parse("Start ge 2026-11-16T00:00:00Z and Start lt 2026-11-17T00:00:00Z and Used eq 1")
            .instantBounds(of: "Start")
        #expect(bounds.from == start && bounds.to == end)
        let flipped = try parse("2026-11-17T00:00:00Z gt Start").instantBounds(of: "Start")
        #expect(flipped.from == nil && flipped.to == end)
        let either = try parse("Start ge 2026-11-16T00:00:00Z or Used eq 1").instantBounds(of: "Start")
        #expect(either.from == nil && either.to == nil)
    }
}
