import Foundation

/// A one-line progress report on a terminal (events done, rate, ETA), redrawn in place at most ten times
/// a second; silent when standard error is not a terminal, so logs and pipes stay clean.
final class ProgressLine {
    private let label: String
    private var total: UInt64?
    private let start = Date()
    private var lastDrawn = Date.distantPast
    private let enabled: Bool

    init(_ label: String, total: UInt64?, enabled: Bool = StandardError.isTerminal) {
        self.label = label
        self.total = total
        self.enabled = enabled
    }

    /// Sets the total once it is known (the first batch of a catch-up tells it).
    func setTotal(_ total: UInt64) { self.total = total }

    func update(_ done: UInt64) {
        guard enabled else { return }
        let now = Date()
        guard now.timeIntervalSince(lastDrawn) >= 0.1 else { return }
        lastDrawn = now
        StandardError.write(
            "\r\u{1B}[K" + Self.describe(label: label, done: done, total: total, elapsed: now.timeIntervalSince(start)))
    }

    func finish(_ done: UInt64) {
        guard enabled else { return }
        StandardError.write(
            "\r\u{1B}[K"
                + Self.describe(label: label, done: done, total: total, elapsed: Date().timeIntervalSince(start))
                + "\n"
        )
    }

    static func describe(label: String, done: UInt64, total: UInt64?, elapsed: Double) -> String {
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        var text = "\(label): \(done)"
        if let total, total > 0 {
            text += "/\(total) (\(Int(Double(done) * 100 / Double(total)))%)"
        }
        text += ", \(formatRate(rate)) events/s"
        if let total, rate > 0, done < total {
            text += ", ETA \(formatDuration(Double(total - done) / rate))"
        }
        return text
    }

    static func formatRate(_ rate: Double) -> String {
        if rate >= 1_000_000 { return String(format: "%.2fM", rate / 1_000_000) }
        if rate >= 1000 { return String(format: "%.1fk", rate / 1000) }
        return String(format: "%.0f", rate)
    }

    static func formatDuration(_ seconds: Double) -> String {
        if seconds < 60 { return String(format: "%.0fs", seconds) }
        return String(format: "%dm%02ds", Int(seconds) / 60, Int(seconds) % 60)
    }
}
