import CumulusDomain
import Foundation
import Testing

@testable import CumulusLog

/// A seeded fuzzer, run on every test run for a bounded time: it mutates valid inputs — import lines, envelope
/// lines, stored records, event payloads — and feeds them to the parsers and decoders. Every input must give a
/// value or a typed error; a crash (a trap, an out-of-bounds read) fails the whole test run. A failing case
/// prints its seed and iteration, so it can be replayed. (A libFuzzer build of the same targets: README,
/// *Fuzzing*.)
@Suite("Fuzzing the parsers and decoders")
struct FuzzTests {
    /// Iterations per target, and a wall-clock cap so a slow machine stays bounded.
    static let iterations = 6_000
    static let timeCap: Duration = .seconds(3)

    /// The example block of docs/domain.md: one valid line for every command.
    static func importExamples() throws -> [[UInt8]] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("docs/domain.md"), encoding: .utf8)
        let start = try #require(text.range(of: "<!-- import-examples:begin -->\n```jsonl\n"))
        let end = try #require(text.range(of: "```\n<!-- import-examples:end -->"))
        return text[start.upperBound..<end.lowerBound].split(separator: "\n").map { Array($0.utf8) }
    }

    static let envelopeExamples: [[UInt8]] = [
        #"{"stream":"notes-1","type":"Noted","actor":"systemAdmin","expectedVersion":"noStream","payload":{"text":"hi","n":[1,2.5,true,null]}}"#,
        #"{"stream":"notes-2","expectedVersion":3,"events":[{"type":"A","actor":"x","id":"0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b","occurredAt":"2026-11-20T08:00:00.125Z"},{"type":"B","actor":"y","payloadBase64":"AAEC/w=="}]}"#,
        #"{"stream":"s","type":"T","actor":"a","schemaVersion":2,"payloadText":"Zürich","correlationId":"6f1c1c52-8a4e-4a8e-9d3e-0d6c2f0b9a11","causationId":null}"#,
    ].map { Array($0.utf8) }

    /// One random change to `bytes`: flip, insert, delete, duplicate, truncate, splice or nest.
    static func mutate(_ bytes: [UInt8], with other: [UInt8], _ random: inout SplitMix64) -> [UInt8] {
        var result = bytes
        let interesting: [UInt8] = [
            0x00, 0x07, 0x0A, 0x0D, 0x1B, 0x22, 0x5C, 0x7B, 0x7D, 0x5B, 0x5D, 0x3A, 0x2C,
            0x30, 0x39, 0x2D, 0x7F, 0x80, 0xBF, 0xC0, 0xC3, 0xE2, 0xED, 0xF0, 0xF4, 0xF5, 0xFE, 0xFF,
        ]
        let rounds = 1 + Int(random.next() % 4)
        for _ in 0..<rounds {
            let position = result.isEmpty ? 0 : Int(random.next() % UInt64(result.count))
            switch random.next() % 9 {
            case 0 where !result.isEmpty: result[position] ^= UInt8(truncatingIfNeeded: 1 << (random.next() % 8))
            case 1: result.insert(interesting[Int(random.next() % UInt64(interesting.count))], at: position)
            case 2 where !result.isEmpty: result.remove(at: position)
            case 3 where !result.isEmpty:
                let end = min(result.count, position + 1 + Int(random.next() % 16))
                result.insert(contentsOf: result[position..<end], at: position)
            case 4: result = Array(result.prefix(position))
            case 5 where !other.isEmpty:
                let cut = Int(random.next() % UInt64(other.count))
                result = Array(result.prefix(position)) + other[cut...]
            case 6:
                let depth = Int(random.next() % 200)
                result.insert(contentsOf: Array(repeating: 0x5B, count: depth), at: position)
            case 7 where !result.isEmpty: result[position] = UInt8(truncatingIfNeeded: random.next())
            default:
                // Replace a run of digits with a huge or negative number.
                let numbers = ["-1", "99999999999999999999", "1e308", "-0", "0.0000001", "18446744073709551616"]
                result.insert(contentsOf: Array(numbers[Int(random.next() % UInt64(numbers.count))].utf8), at: position)
            }
        }
        return result
    }

    /// Runs `body` on mutations of `seeds` until the iteration count or the time cap; returns the count run.
    static func fuzz(
        seed: UInt64, seeds: [[UInt8]], _ body: ([UInt8]) throws -> Void
    ) rethrows -> Int {
        var random = SplitMix64(seed: seed)
        let clock = ContinuousClock()
        let started = clock.now
        var count = 0
        while count < iterations && clock.now - started < timeCap {
            let base = seeds[Int(random.next() % UInt64(seeds.count))]
            let other = seeds[Int(random.next() % UInt64(seeds.count))]
            try body(mutate(base, with: other, &random))
            count += 1
        }
        return count
    }

    @Test func theImportParserGivesARequestOrARefusalForEveryMutatedLine() throws {
        let examples = try Self.importExamples()
        var refused = 0
        let ran = try Self.fuzz(seed: 0x1417_0001, seeds: examples) { bytes in
            for item in CommandImport.parse(bytes: bytes) {
                switch item.result {
                case .success(let request):
                    // Accepted lines go on to a decision in an empty world: a value or a typed DomainError.
                    do throws(DomainError) {
                        _ = try request.decide(in: DecisionContext())
                    } catch {
                        #expect(!error.description.isEmpty)
                    }
                case .failure(let refusal):
                    refused += 1
                    #expect(refusal.line == item.line && !refusal.reason.isEmpty)
                }
            }
        }
        #expect(ran > 100 && refused > 0)
    }

    @Test func theEnvelopeParserGivesAnAppendOrALineErrorForEveryMutatedLine() throws {
        var refused = 0
        let ran = Self.fuzz(seed: 0x1417_0002, seeds: Self.envelopeExamples) { bytes in
            for line in JSONLines.split(bytes) {
                guard case .success(let text) = line.text else { continue }
                do throws(EnvelopeJSON.LineError) {
                    _ = try EnvelopeJSON.append(fromLine: text, lineNumber: line.number)
                } catch {
                    refused += 1
                    #expect(error.line == line.number && !error.reason.isEmpty)
                }
            }
        }
        #expect(ran > 100 && refused > 0)
    }

    @Test func theRecordDecoderGivesAnEventOrAnIntegrityErrorForEveryMutatedRecord() throws {
        let stream = try StreamName("user-2b7e9c1a-4d3f-4e2a-9b8c-7d6e5f4a3b2c")
        let records: [[UInt8]] = try EventSamples.all().enumerated().map { index, event in
            var buffer: [UInt8] = []
            _ = RecordCodec.encode(
                ProposedEvent(
                    type: event.typeName, schemaVersion: event.schemaVersion,
                    occurredAt: Timestamp(microsecondsSinceEpoch: 1_795_162_500_000_000), actor: "systemAdmin",
                    correlationID: index % 2 == 0 ? UUID() : nil, causationID: index % 3 == 0 ? UUID() : nil,
                    payload: event.encodePayload()),
                stream: stream, version: StreamVersion(UInt64(index + 1)),
                previousInStream: GlobalPosition(UInt64(index)),
                recordedAt: Timestamp(microsecondsSinceEpoch: 1_795_162_500_000_001),
                position: GlobalPosition(UInt64(index + 1)), previousLink: .genesis, into: &buffer)
            return buffer
        }
        var refused = 0
        let ran = Self.fuzz(seed: 0x1417_0003, seeds: records) { bytes in
            let decoded = bytes.withUnsafeBytes { raw -> Result<RecordedEvent, EventStoreError> in
                do throws(EventStoreError) {
                    return .success(try RecordCodec.decode(raw, position: GlobalPosition(1)))
                } catch {
                    return .failure(error)
                }
            }
            switch decoded {
            case .success(let event):
                // A record that still decodes goes on to the domain: an event or a typed PayloadDecodingError.
                _ = DomainAdmission.classify(
                    stream: event.stream.rawValue, type: event.type, schemaVersion: event.schemaVersion,
                    payload: event.payload)
            case .failure(let error):
                refused += 1
                #expect(!error.description.isEmpty)
            }
        }
        #expect(ran > 100 && refused > 0)
    }

    @Test func theDomainDecoderGivesAnEventOrATypedErrorForEveryMutatedPayload() throws {
        let samples = try EventSamples.all()
        let payloads = samples.map { $0.encodePayload() }
        var random = SplitMix64(seed: 0x1417_0004)
        var refused = 0
        let ran = Self.fuzz(seed: 0x1417_0005, seeds: payloads) { bytes in
            let type = DomainEvent.typeNames[Int(random.next() % UInt64(DomainEvent.typeNames.count))]
            do throws(PayloadDecodingError) {
                _ = try DomainEvent.decode(type: type, schemaVersion: UInt16(1 + random.next() % 2), payload: bytes)
            } catch {
                refused += 1
                #expect(!error.description.isEmpty)
            }
        }
        #expect(ran > 100 && refused > 0)
    }
}
