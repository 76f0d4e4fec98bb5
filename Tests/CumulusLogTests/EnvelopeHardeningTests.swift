import CumulusLog
import Foundation
import Testing

/// Issue 14: envelope lines (`cumulus append`) with wrong types, bad times, deep nesting or invalid UTF-8 are
/// refused with an exact message naming the line.
@Suite("Envelope input hardening")
struct EnvelopeHardeningTests {
    func refusal(_ text: String) -> String? {
        do throws(EnvelopeJSON.LineError) {
            _ = try EnvelopeJSON.append(fromLine: text, lineNumber: 4)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func aFieldOfTheWrongTypeIsNamedAsSuchNotAsMissing() {
        #expect(
            refusal(#"{"stream":5,"type":"T","actor":"a"}"#) == "line 4: field 'stream' must be a string, not a number")
        #expect(
            refusal(#"{"stream":"s","type":true,"actor":"a"}"#)
                == "line 4: field 'type' must be a string, not a boolean")
        #expect(
            refusal(#"{"stream":"s","type":"T","actor":["a"]}"#)
                == "line 4: field 'actor' must be a string, not an array")
        #expect(refusal(#"{"type":"T","actor":"a"}"#) == "line 4: missing field 'stream' (a string)")
        #expect(refusal(#"[1]"#) == "line 4: a line must be a JSON object, not an array")
        // A refused stream name is echoed with its control characters made visible, never raw.
        #expect(
            refusal(#"{"stream":"a\u001b]0;x\u0007","type":"T","actor":"a"}"#)
                == "line 4: invalid stream name 'a\\u{1b}]0;x\\u{7}': a stream name cannot contain control characters")
    }

    @Test(arguments: [
        ("0000-11-20T08:00:00Z", "year 0000 does not exist: the year must be 0001 or later"),
        ("2026-11-20 08:00:00Z", "date and time must be separated by `T`, not a space"),
        ("2026-11-20T08:00:60Z", "second 60 does not exist (00–59; no leap seconds)"),
        ("2026-11-20T08:00:00.1234567Z", "at most 6 fraction digits (microseconds) are allowed, not 7 or more"),
    ])
    func occurredAtIsRefusedWithAnExactMessage(text: String, message: String) {
        #expect(
            refusal(#"{"stream":"s","type":"T","actor":"a","occurredAt":"\#(text)"}"#)
                == "line 4: 'occurredAt': \(message)")
    }

    @Test func aPayloadNested10000DeepIsTooDeepNotMalformed() {
        let prefix = #"{"stream":"s","type":"T","actor":"a","payload":"#
        let text = prefix + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "}"
        let offset = prefix.utf8.count + JSONLines.nestingLimit - 1
        #expect(refusal(text) == "line 4: nested too deep (limit \(JSONLines.nestingLimit)) at byte offset \(offset)")
        // 63 levels of payload inside the envelope object still parse.
        let fine = prefix + String(repeating: "[", count: 63) + String(repeating: "]", count: 63) + "}"
        #expect(refusal(fine) == nil)
    }

    @Test func linesWithInvalidUTF8AreNamedWithTheirOffsetAndNeverMerged() {
        let input: [UInt8] =
            Array(#"{"stream":"ok","type":"T","actor":"a"}"#.utf8) + [0x0A]
            + Array(#"{"stream":"bad"#.utf8) + [0xFF, 0xFE] + Array(#"","type":"T","actor":"a"}"#.utf8) + [0x0A]
            + Array(#"{"stream":"bad"#.utf8) + [0xFE, 0xFF] + Array(#"","type":"T","actor":"a"}"#.utf8) + [0x0A]
            + Array(#"{"stream":"s","type":"T","actor":"sys"#.utf8) + [0xED, 0xA0, 0x80] + Array(#""}"#.utf8) + [0x0A]
            + Array(#"{"stream":"s","type":"T","actor":"a","payloadText":"caf"#.utf8) + [0xC3] + Array(#""}"#.utf8)
        let lines = JSONLines.split(input)
        #expect(lines.count == 5)
        let errors = lines.compactMap { line -> String? in
            if case .failure(let invalid) = line.text { return invalid.description }
            return nil
        }
        #expect(
            errors == [
                "line 2: invalid UTF-8 at byte offset 14 of the line",
                "line 3: invalid UTF-8 at byte offset 14 of the line",
                "line 4: invalid UTF-8 at byte offset 37 of the line",
                "line 5: invalid UTF-8 at byte offset 55 of the line",
            ])
        if case .success(let text) = lines[0].text { #expect(refusal(text) == nil) } else { Issue.record("line 1") }
    }
}
