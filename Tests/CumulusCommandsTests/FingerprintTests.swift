import CumulusCommands
import CumulusDomain
import CumulusLog
import CumulusProjections
import Foundation
import Testing

/// Code versions that cannot be forgotten: every kept state (each projection and the write model) folded from the
/// committed sample log must encode to the bytes recorded for its code version in `Fixtures/fingerprints.txt`.
/// A change to what a projection derives or how it stores it changes those bytes; if its `codeVersion` stayed the
/// same, old checkpoints would be decoded as if nothing had changed — so the test fails and says to bump it.
///
/// After bumping a code version (or adding a projection), record the new fingerprints:
/// `CUMULUS_UPDATE_FINGERPRINTS=1 swift test --filter Fingerprint` (see Projections/README.md).
@Suite("Code-version fingerprints")
struct FingerprintTests {
    struct Fingerprint: Hashable, CustomStringConvertible {
        var name: String
        var codeVersion: UInt32
        /// `fnv1a64:<16 hex digits>:<byte count>` of the encoded state.
        var digest: String

        var description: String { "\(name) \(codeVersion) \(digest)" }
    }

    static var file: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/fingerprints.txt")
    }

    static func digest(_ bytes: [UInt8]) -> String {
        "fnv1a64:\(StateChecksum.hex(StateChecksum.of(bytes))):\(bytes.count)"
    }

    /// Every kept state folded from the sample log, one event at a time (the projections on one thread).
    static func computed() throws -> [Fingerprint] {
        let events = try SampleLog.events()
        var fingerprints: [Fingerprint] = []
        for projection in ProjectionSet.standard().projections {
            var set = ProjectionSet([projection])
            set.lanes = 1
            try set.apply(contentsOf: events)
            guard let folded = set.projections.first else { continue }
            fingerprints.append(
                Fingerprint(name: folded.name, codeVersion: folded.codeVersion, digest: digest(folded.encodeState())))
        }
        var model = WriteModel()
        for event in events { try model.apply(event) }
        fingerprints.append(
            Fingerprint(
                name: WriteModel.checkpointName, codeVersion: WriteModel.codeVersion,
                digest: digest(model.encodeState())))
        return fingerprints
    }

    /// `name codeVersion digest` per line; `#` starts a comment.
    static func recorded() throws -> [Fingerprint] {
        guard FileManager.default.fileExists(atPath: file.path) else { return [] }
        return try String(contentsOf: file, encoding: .utf8).split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard !line.hasPrefix("#"), fields.count == 3, let version = UInt32(fields[1]) else { return nil }
            return Fingerprint(name: String(fields[0]), codeVersion: version, digest: String(fields[2]))
        }
    }

    static func write(_ fingerprints: [Fingerprint]) throws {
        let header = """
            # Fingerprints of the kept states folded from Fixtures/sample-log.jsonl: name, codeVersion, digest of the
            # encoded state. Checked by FingerprintTests; after bumping a codeVersion, regenerate with
            # CUMULUS_UPDATE_FINGERPRINTS=1 swift test --filter Fingerprint

            """
        try (header + fingerprints.map(\.description).joined(separator: "\n") + "\n")
            .write(to: file, atomically: true, encoding: .utf8)
    }

    /// The messages for every state whose recorded fingerprint does not match.
    static func problems(computed: [Fingerprint], recorded: [Fingerprint]) -> [String] {
        computed.compactMap { now in
            guard let before = recorded.first(where: { $0.name == now.name }) else {
                return "\(now.name) has no recorded fingerprint: record it (CUMULUS_UPDATE_FINGERPRINTS=1)"
            }
            if before.codeVersion == now.codeVersion && before.digest != now.digest {
                return "bump codeVersion of \(now.name) (fingerprint changed: \(before.digest) → \(now.digest) at "
                    + "code version \(now.codeVersion)); then record the new fingerprint (CUMULUS_UPDATE_FINGERPRINTS=1)"
            }
            if before.codeVersion != now.codeVersion {
                return "codeVersion of \(now.name) changed (\(before.codeVersion) → \(now.codeVersion)): record its "
                    + "fingerprint (CUMULUS_UPDATE_FINGERPRINTS=1)"
            }
            return nil
        }
    }

    @Test func everyKeptStateMatchesTheFingerprintOfItsCodeVersion() throws {
        let now = try Self.computed()
        #expect(now.count == ProjectionSet.standard().projections.count + 1)
        if ProcessInfo.processInfo.environment["CUMULUS_UPDATE_FINGERPRINTS"] == "1" {
            try Self.write(now)
        }
        for problem in Self.problems(computed: now, recorded: try Self.recorded()) {
            Issue.record(Comment(rawValue: problem))
        }
    }

    @Test func theFingerprintsDoNotDependOnHowTheLogIsCut() throws {
        // Batches cut anywhere give the bytes of one event at a time, so a fingerprint is a property of the code.
        let events = try SampleLog.events()
        var whole = ProjectionSet.standard()
        try whole.apply(contentsOf: events)
        var pieces = ProjectionSet.standard()
        for chunk in stride(from: 0, to: events.count, by: 97) {
            try pieces.apply(contentsOf: events[chunk..<min(chunk + 97, events.count)])
        }
        #expect(whole.checkpoints() == pieces.checkpoints())
    }

    @Test func aChangedStateWithTheSameCodeVersionIsCaught() {
        // The check itself: a state whose bytes changed under the same code version asks for a bump.
        let recorded = [Fingerprint(name: "audit", codeVersion: 3, digest: "fnv1a64:0000000000000001:10")]
        let same = [Fingerprint(name: "audit", codeVersion: 3, digest: "fnv1a64:0000000000000002:10")]
        let problems = Self.problems(computed: same, recorded: recorded)
        #expect(problems.count == 1)
        #expect(problems.first?.hasPrefix("bump codeVersion of audit (fingerprint changed:") == true)
        let bumped = [Fingerprint(name: "audit", codeVersion: 4, digest: "fnv1a64:0000000000000002:10")]
        #expect(Self.problems(computed: bumped, recorded: recorded).first?.contains("record its fingerprint") == true)
        #expect(Self.problems(computed: recorded, recorded: recorded).isEmpty)
    }
}
