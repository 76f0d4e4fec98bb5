import Foundation
import Testing

/// The README's embedding code blocks, and those of the DocC getting-started articles, are the example
/// package's code, snippet for snippet.
@Suite("README examples")
struct ReadmeExampleTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let example = "Examples/EmbeddingExample/Sources/EmbeddingExample/EmbeddingExample.swift"

    /// The lines between `// snippet: NAME` and `// end-snippet`, without their common indentation.
    static func snippet(_ name: String, in source: String) -> String? {
        let lines = source.components(separatedBy: "\n")
        guard let start = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "// snippet: \(name)" }),
            let end = lines[start...].firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "// end-snippet" })
        else { return nil }
        let body = lines[(start + 1)..<end]
        let indent = body.filter { !$0.isEmpty }.map { $0.prefix(while: { $0 == " " }).count }.min() ?? 0
        return body.map { $0.isEmpty ? $0 : String($0.dropFirst(indent)) }.joined(separator: "\n")
    }

    /// The fenced block that follows `<!-- example: NAME -->` in the README.
    static func block(_ name: String, in readme: String) -> String? {
        let lines = readme.components(separatedBy: "\n")
        guard let marker = lines.firstIndex(of: "<!-- example: \(name) -->"),
            marker + 1 < lines.count, lines[marker + 1] == "```swift",
            let end = lines[(marker + 2)...].firstIndex(of: "```")
        else { return nil }
        return lines[(marker + 2)..<end].joined(separator: "\n")
    }

    @Test(arguments: ["embedding-the-log", "running-commands", "building-views"])
    func readmeBlockIsTheExamplesCode(name: String) throws {
        let source = try String(contentsOf: Self.root.appendingPathComponent(Self.example), encoding: .utf8)
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let code = try #require(Self.snippet(name, in: source), "no snippet '\(name)' in \(Self.example)")
        let shown = try #require(Self.block(name, in: readme), "no block after <!-- example: \(name) --> in README.md")
        #expect(shown == code, "README.md's '\(name)' block differs from \(Self.example); copy the snippet over")
    }

    static let articles = [
        "Sources/CumulusLog/CumulusLog.docc/GettingStarted.md",
        "Sources/CumulusLMDB/CumulusLMDB.docc/GettingStarted.md",
        "Sources/CumulusDomain/CumulusDomain.docc/GettingStarted.md",
        "Sources/CumulusCommands/CumulusCommands.docc/GettingStarted.md",
        "Projections/CumulusProjections.docc/GettingStarted.md",
    ]

    @Test(arguments: articles)
    func articleBlocksAreTheExamplesCode(article: String) throws {
        let source = try String(contentsOf: Self.root.appendingPathComponent(Self.example), encoding: .utf8)
        let text = try String(contentsOf: Self.root.appendingPathComponent(article), encoding: .utf8)
        let names = text.components(separatedBy: "\n").compactMap { line -> String? in
            guard line.hasPrefix("<!-- example: "), line.hasSuffix(" -->") else { return nil }
            return String(line.dropFirst("<!-- example: ".count).dropLast(" -->".count))
        }
        #expect(!names.isEmpty, "\(article) shows no example block")
        for name in names {
            let code = try #require(Self.snippet(name, in: source), "no snippet '\(name)' in \(Self.example)")
            #expect(Self.block(name, in: text) == code, "\(article)'s '\(name)' block differs from the example")
        }
    }
}
