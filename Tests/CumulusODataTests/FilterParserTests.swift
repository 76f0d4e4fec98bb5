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
        ("substringof('a',UserName)", "unknown function substringof() (the feed supports contains, startswith", 1),
        ("contains(UserName)", "contains() takes 2 arguments, not 1", 1),
        ("substring(UserName)", "substring() takes 2 or 3 arguments, not 1", 1),
        ("length()", "length() takes 1 argument, not 0", 1),
        ("contains(UserName,'a'", "expected ',' or ')' after an argument of contains()", 22),
        ("startswith(Used,'1')", "argument 1 of startswith() must be Edm.String, not Edm.Int64", 12),
        ("year(UserName) eq 2026", "argument 1 of year() must be Edm.DateTimeOffset, not Edm.String", 6),
        ("year(Start) eq '2026'", "cannot compare Edm.Int64 with Edm.String", 13),
        ("tolower(UserName)", "expected a comparison", 18),
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

    /// The canonical functions Power Query folds its text and date filters into, parsed and evaluated.
    @Test func functionsParseAndEvaluate() throws {
        #expect(
            try parse("contains(UserName, 'lo')")
                == .operand(.function(.contains, [.property("UserName"), .literal(.string("lo"))])))
        #expect(
            try parse("tolower(UserName) eq 'chloé'")
                == .comparison(
                    .eq, .function(.tolower, [.property("UserName")]), .literal(.string("chloé"))))
        #expect(
            try parse("not startswith(tolower(trim(UserName)),'ch')")
                == .not(
                    .operand(
                        .function(
                            .startswith,
                            [.function(.tolower, [.function(.trim, [.property("UserName")])]), .literal(.string("ch"))]
                        ))))
        let row: [String: ODataValue] = [
            "UserName": .string("  Chloé O'Brien "), "UserState": .null, "Used": .number(3),
            "Start": .instant(Timestamp(iso8601: "2026-11-16T23:30:05.250Z")!),
        ]
        let cases: [(String, Bool)] = [
            ("contains(UserName,'Chloé')", true), ("contains(UserName,'chloé')", false),
            ("contains(tolower(UserName),'chloé')", true), ("contains(UserName,'')", true),
            ("startswith(UserName,'  Ch')", true), ("startswith(UserName,'  ch')", false),
            ("startswith(trim(UserName),'Ch')", true),
            ("endswith(UserName,'Brien ')", true), ("endswith(UserName,'Brien')", false),
            ("endswith(UserName,'BRIEN ')", false),
            ("trim(UserName) eq 'Chloé O''Brien'", true), ("length(UserName) eq 16", true),
            ("length(trim(UserName)) eq 13", true), ("indexof(UserName,'é') eq 6", true),
            ("indexof(UserName,'x') eq -1", true), ("substring(UserName,2) eq 'Chloé O''Brien '", true),
            ("substring(UserName,2,5) eq 'Chloé'", true), ("substring(UserName,40) eq ''", true),
            ("substring(UserName,-3,4) eq '  Ch'", true), ("toupper(substring(UserName,2,5)) eq 'CHLOÉ'", true),
            ("concat(trim(UserName),'!') eq 'Chloé O''Brien!'", true),
            ("year(Start) eq 2026 and month(Start) eq 11 and day(Start) eq 16", true),
            ("hour(Start) eq 23 and minute(Start) eq 30 and second(Start) eq 5", true),
            ("year(Start) gt 2026", false), ("day(Start) ge Used", true),
            // A function of null is null: false in a filter, and `eq null` holds.
            ("contains(UserState,'B')", false), ("not contains(UserState,'B')", true),
            ("tolower(UserState) eq null", true), ("length(UserState) gt 0", false),
            ("contains(UserName,'Chloé') eq true", true), ("contains(UserName,'Chloé') and Used eq 3", true),
        ]
        for (text, expected) in cases {
            #expect(try parse(text).matches(row) == expected, "\(text)")
        }
        // Instants before 1970 and at the end of a leap year split like the calendar.
        let before = try parse("year(Start) eq 1969 and month(Start) eq 12 and day(Start) eq 31 and hour(Start) eq 23")
        #expect(before.matches(["Start": .instant(Timestamp(iso8601: "1969-12-31T23:59:59.999999Z")!)]))
        let leap = try parse("month(Start) eq 2 and day(Start) eq 29")
        #expect(leap.matches(["Start": .instant(Timestamp(iso8601: "2028-02-29T12:00:00Z")!)]))
    }

    /// A filter nested or chained beyond the limits is refused with the position, not parsed into a tree whose
    /// parsing, evaluation or release would run off the stack (a 20,000-deep filter crashed the process before).
    @Test func deepOrLongFiltersAreRefusedNotCrashedOn() throws {
        let limit = FilterParser.maximumDepth
        let deep: [(String, String)] = [
            (String(repeating: "(", count: 20_000) + "Used eq 1" + String(repeating: ")", count: 20_000), "("),
            (String(repeating: "not ", count: 20_000) + "Used eq 1", "not"),
            (
                String(repeating: "tolower(", count: 20_000) + "UserName" + String(repeating: ")", count: 20_000)
                    + " eq 'a'", "tolower"
            ),
        ]
        for (text, what) in deep {
            let error = try #require(refusal(text), "\(what)")
            #expect(error.status == 400 && error.code == "BadFilter")
            #expect(error.message.contains("nests deeper than \(limit) levels"), "\(error.message)")
        }
        // At the limit, each kind still parses and evaluates.
        let row: [String: ODataValue] = ["Used": .number(1), "UserName": .string("A")]
        let atLimit = [
            String(repeating: "(", count: limit) + "Used eq 1" + String(repeating: ")", count: limit),
            String(repeating: "not not ", count: limit / 2) + "Used eq 1",
            String(repeating: "tolower(", count: limit) + "UserName" + String(repeating: ")", count: limit) + " eq 'a'",
        ]
        for text in atLimit { #expect(try parse(text).matches(row), "\(text.prefix(20))") }
        let terms = FilterParser.maximumTerms
        let long = Array(repeating: "Used eq 2", count: terms).joined(separator: " or ") + " or Used eq 1"
        let error = try #require(refusal(long))
        #expect(error.message.contains("more than \(terms) comparisons"), "\(error.message)")
        let longest = Array(repeating: "Used eq 2", count: terms - 1).joined(separator: " or ") + " or Used eq 1"
        #expect(try parse(longest).matches(row))
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
