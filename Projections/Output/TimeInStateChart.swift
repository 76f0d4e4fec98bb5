import CumulusLog

/// An SVG chart of time in state: per user, a horizontal bar stacked by state, with a legend and axis labels.
///
/// Each bar is as long as the window; its segments are the seconds spent in each state (in the legend's order),
/// so bars compare at a glance and the unaccounted rest (no state known) stays visibly empty. Colours come
/// from a fixed palette that keeps the built-in meanings apart (green for available, red for busy or in a call).
public struct TimeInStateChart: Sendable {
    /// Which part of the state the bars show.
    public enum Dimension: String, Sendable {
        /// User states (`Available`, `Break`, `ACW`, …).
        case userState
        /// Presence availability (`Available`, `Busy`, …).
        case availability
        /// Both: per user a user-state bar and a presence bar below it.
        case both
    }

    /// The summaries to draw, one bar each, in this order.
    public var summaries: [TimeInStateSummary]
    /// The dimension shown.
    public var dimension: Dimension
    /// A title above the chart.
    public var title: String

    /// Describes a chart.
    public init(summaries: [TimeInStateSummary], dimension: Dimension = .userState, title: String = "Time in state") {
        self.summaries = summaries
        self.dimension = dimension
        self.title = title
    }

    private var dimensions: [Dimension] { dimension == .both ? [.userState, .availability] : [dimension] }

    private func seconds(_ summary: TimeInStateSummary, _ dimension: Dimension) -> [String: Double] {
        dimension == .availability ? summary.secondsPerAvailability : summary.secondsPerUserState
    }

    /// The states in the legend: by total time, longest first, so the biggest segments come first in each bar
    /// (user states when the chart shows both).
    public var states: [String] { states(dimension == .both ? .userState : dimension) }

    private func states(_ dimension: Dimension) -> [String] {
        var totals: [String: Double] = [:]
        for summary in summaries {
            for (state, value) in seconds(summary, dimension) { totals[state, default: 0] += value }
        }
        return totals.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map(\.key)
    }

    static let fixedColours: [String: String] = [
        "Available": "#2e9d5b", "AvailableIdle": "#8fd19e", "Busy": "#d64545", "BusyIdle": "#f08c8c",
        "DoNotDisturb": "#8e1b1b", "Away": "#f2b233", "BeRightBack": "#f7d27c", "Offline": "#9aa0a6",
        "PresenceUnknown": "#d0d3d6", "ACW": "#6f5bd3", "RONA": "#c2185b", "Break": "#f2b233",
    ]
    static let palette = ["#1f77b4", "#17becf", "#8c564b", "#e377c2", "#bcbd22", "#7f7f7f", "#9467bd", "#ff7f0e"]

    /// The colour of each state: fixed for well-known names, otherwise from a palette in legend order.
    public var colours: [String: String] { colours(states) }

    private func colours(_ states: [String]) -> [String: String] {
        var result: [String: String] = [:]
        var next = 0
        for state in states {
            if let fixed = Self.fixedColours[state] {
                result[state] = fixed
            } else {
                result[state] = Self.palette[next % Self.palette.count]
                next += 1
            }
        }
        return result
    }

    /// The tick step in hours: the smallest of 1, 2, 3, 6, 12, 24, 48 giving at most eight ticks.
    private static func tickHours(_ windowSeconds: Double) -> Double {
        let hours = windowSeconds / 3_600
        for step in [0.25, 0.5, 1, 2, 3, 6, 12, 24, 48, 168] where hours / step <= 8 { return step }
        return (hours / 8).rounded(.up)
    }

    /// The chart as an HTML page: UTF-8 declared, the title in the page's `<title>`, the SVG inline.
    public func html() -> String {
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>\(escape(title))</title>\n"
            + "</head>\n<body>\n\(svg())</body>\n</html>\n"
    }

    /// The chart as a standalone SVG document: title, units, legend and axis at the top (the axis repeated at
    /// the bottom), one bar per user and dimension as long as the window.
    public func svg() -> String {
        let labelWidth = 220.0
        let barWidth = 640.0
        let barHeight = 18.0
        let rowGap = 10.0
        let width = labelWidth + barWidth + 40
        let windowSeconds = summaries.first.map { max(1, $0.to.seconds(since: $0.from)) } ?? 1
        let legends = dimensions.map { dimension -> (Dimension, [String], [String: String]) in
            let states = states(dimension)
            return (dimension, states, colours(states))
        }
        // Layout from the top: title, units, legend lines, axis labels, bars, axis labels again.
        var y = 24.0
        var body = text(x: 12, y: y, escape(title), attributes: "font-size=\"16\" font-weight=\"bold\"")
        y += 20
        let window = summaries.first.map { "\($0.from.iso8601) to \($0.to.iso8601) (UTC)" } ?? "no users"
        let what = dimensions.map { $0 == .userState ? "user state" : "presence availability" }
        body += text(
            x: 12, y: y,
            escape("Hours in each \(what.joined(separator: " and ")), \(window); a bar is the whole window"),
            attributes: "fill=\"#555555\"")
        for (dimension, states, colours) in legends {
            y += 22
            let label = dimension == .availability ? "Presence" : "User state"
            body += text(x: 12, y: y, label + ":", attributes: "font-weight=\"bold\"")
            for (index, state) in states.enumerated() {
                if index > 0 && index % 5 == 0 { y += 20 }
                let x = 100 + Double(index % 5) * 150
                body += "<g class=\"legend\" data-dimension=\"\(dimension.rawValue)\"><rect x=\"\(format(x))\" "
                body += "y=\"\(format(y - 11))\" width=\"14\" height=\"14\" fill=\"\(colours[state] ?? "#999999")\"/>"
                body += text(x: x + 20, y: y, escape(state)).dropLast() + "</g>\n"
            }
        }
        y += 26
        let step = Self.tickHours(windowSeconds)
        let ticks = Int((windowSeconds / 3_600 / step).rounded(.down))
        func axis(at labelY: Double) -> String {
            var axis = ""
            for tick in 0...max(0, ticks) {
                let hours = Double(tick) * step
                let x = labelWidth + barWidth * hours * 3_600 / windowSeconds
                axis += text(x: x, y: labelY, format(hours) + " h", attributes: "text-anchor=\"middle\"")
            }
            return axis
        }
        body += axis(at: y)
        body += text(
            x: labelWidth - 8, y: y, "hours from the window's start", attributes: "text-anchor=\"end\" fill=\"#555555\""
        )
        let top = y + 8
        let rowHeight = Double(dimensions.count) * barHeight + rowGap
        let plotHeight = Double(summaries.count) * rowHeight
        for tick in 0...max(0, ticks) {
            let x = labelWidth + barWidth * Double(tick) * step * 3_600 / windowSeconds
            body += "<line x1=\"\(format(x))\" y1=\"\(format(top))\" x2=\"\(format(x))\" "
            body += "y2=\"\(format(top + plotHeight))\" stroke=\"#e0e0e0\"/>\n"
        }
        for (index, summary) in summaries.enumerated() {
            let rowTop = top + Double(index) * rowHeight
            body += "<g class=\"bar\" data-user=\"\(summary.user)\">\n"
            body += text(
                x: labelWidth - 8, y: rowTop + barHeight / 2 + 4, escape(summary.userName),
                attributes: "text-anchor=\"end\"")
            for (row, legend) in legends.enumerated() {
                let (dimension, states, colours) = legend
                let barTop = rowTop + Double(row) * barHeight
                body += "<rect x=\"\(format(labelWidth))\" y=\"\(format(barTop))\" width=\"\(format(barWidth))\" "
                body += "height=\"\(format(barHeight - 2))\" fill=\"#f4f4f4\" stroke=\"#cccccc\"/>\n"
                var x = labelWidth
                let values = seconds(summary, dimension)
                for state in states {
                    guard let value = values[state], value > 0 else { continue }
                    let segment = barWidth * value / windowSeconds
                    body += "<rect x=\"\(format(x))\" y=\"\(format(barTop))\" width=\"\(format(segment))\" "
                    body += "height=\"\(format(barHeight - 2))\" fill=\"\(colours[state] ?? "#999999")\">"
                    body += "<title>\(escape(summary.userName)): \(escape(state)) \(duration(value))</title></rect>\n"
                    x += segment
                }
            }
            body += "</g>\n"
        }
        let bottom = top + plotHeight + 14
        body += axis(at: bottom)
        let height = bottom + 16
        return """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(format(width))" height="\(format(height))" \
            viewBox="0 0 \(format(width)) \(format(height))" font-family="Helvetica, Arial, sans-serif" font-size="12">
            <title>\(escape(title))</title>
            <rect width="100%" height="100%" fill="#ffffff"/>

            """ + body + "</svg>\n"
    }

    private func text(x: Double, y: Double, _ content: String, attributes: String = "") -> String {
        let extra = attributes.isEmpty ? "" : " " + attributes
        return "<text x=\"\(format(x))\" y=\"\(format(y))\"\(extra)>\(content)</text>\n"
    }

    private func format(_ value: Double) -> String { ReportCell.format(value) }

    /// `2h 05m`, `12m 30s` or `45s`.
    private func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        if total >= 3600 {
            let minutes = total / 60 % 60
            return "\(total / 3600)h \(minutes < 10 ? "0" : "")\(minutes)m"
        }
        if total >= 60 { return "\(total / 60)m \(total % 60)s" }
        return "\(total)s"
    }

    private func escape(_ text: String) -> String {
        var escaped = ""
        // Control characters are not allowed in XML at all: they are shown as `\u{1b}` text.
        for character in VisibleText.escaped(text) {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
