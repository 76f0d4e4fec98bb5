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

    private func seconds(_ summary: TimeInStateSummary) -> [String: Double] {
        dimension == .userState ? summary.secondsPerUserState : summary.secondsPerAvailability
    }

    /// The states in the legend: by total time, longest first, so the biggest segments come first in each bar.
    public var states: [String] {
        var totals: [String: Double] = [:]
        for summary in summaries { for (state, value) in seconds(summary) { totals[state, default: 0] += value } }
        return totals.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map(\.key)
    }

    static let fixedColours: [String: String] = [
        "Available": "#2e9d5b", "AvailableIdle": "#8fd19e", "Busy": "#d64545", "BusyIdle": "#f08c8c",
        "DoNotDisturb": "#8e1b1b", "Away": "#f2b233", "BeRightBack": "#f7d27c", "Offline": "#9aa0a6",
        "PresenceUnknown": "#d0d3d6", "ACW": "#6f5bd3", "RONA": "#c2185b", "Break": "#f2b233",
    ]
    static let palette = ["#1f77b4", "#17becf", "#8c564b", "#e377c2", "#bcbd22", "#7f7f7f", "#9467bd", "#ff7f0e"]

    /// The colour of each state: fixed for well-known names, otherwise from a palette in legend order.
    public var colours: [String: String] {
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

    /// The chart as a standalone SVG document.
    public func svg() -> String {
        let states = states
        let colours = colours
        let labelWidth = 220.0
        let barWidth = 640.0
        let barHeight = 22.0
        let rowGap = 10.0
        let top = 56.0
        let windowSeconds = summaries.first.map { max(1, $0.to.seconds(since: $0.from)) } ?? 1
        let plotHeight = Double(summaries.count) * (barHeight + rowGap)
        let legendTop = top + plotHeight + 44
        let legendRows = (states.count + 3) / 4
        let width = labelWidth + barWidth + 40
        let height = legendTop + Double(legendRows) * 22 + 20
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(format(width))" height="\(format(height))" \
            viewBox="0 0 \(format(width)) \(format(height))" font-family="Helvetica, Arial, sans-serif" font-size="12">

            """
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
        let subtitle = summaries.first.map { " — \($0.from.iso8601) to \($0.to.iso8601) (UTC)" } ?? ""
        svg += text(x: 12, y: 24, escape(title + subtitle), attributes: "font-size=\"16\" font-weight=\"bold\"")
        svg += text(
            x: 12, y: 44, dimension == .userState ? "Seconds per user state" : "Seconds per presence availability",
            attributes: "fill=\"#555555\"")
        // Axis: ticks at fifths of the window, labelled in hours or minutes.
        let axisY = top + plotHeight + 4
        for tick in 0...5 {
            let x = labelWidth + barWidth * Double(tick) / 5
            svg += "<line x1=\"\(format(x))\" y1=\"\(format(top - 4))\" x2=\"\(format(x))\" y2=\"\(format(axisY))\" "
            svg += "stroke=\"#e0e0e0\"/>\n"
            svg += text(
                x: x, y: axisY + 14, duration(windowSeconds * Double(tick) / 5), attributes: "text-anchor=\"middle\"")
        }
        svg += text(
            x: labelWidth + barWidth / 2, y: axisY + 30, "time in the window",
            attributes: "text-anchor=\"middle\" fill=\"#555555\"")
        for (index, summary) in summaries.enumerated() {
            let y = top + Double(index) * (barHeight + rowGap)
            svg += "<g class=\"bar\" data-user=\"\(summary.user)\">\n"
            svg += text(
                x: labelWidth - 8, y: y + barHeight / 2 + 4, escape(summary.userName),
                attributes: "text-anchor=\"end\"")
            svg += "<rect x=\"\(format(labelWidth))\" y=\"\(format(y))\" width=\"\(format(barWidth))\" "
            svg += "height=\"\(format(barHeight))\" fill=\"#f4f4f4\" stroke=\"#cccccc\"/>\n"
            var x = labelWidth
            let values = seconds(summary)
            for state in states {
                guard let value = values[state], value > 0 else { continue }
                let segment = barWidth * value / windowSeconds
                svg += "<rect x=\"\(format(x))\" y=\"\(format(y))\" width=\"\(format(segment))\" "
                svg += "height=\"\(format(barHeight))\" fill=\"\(colours[state] ?? "#999999")\">"
                svg += "<title>\(escape(summary.userName)): \(escape(state)) \(duration(value))</title></rect>\n"
                x += segment
            }
            svg += "</g>\n"
        }
        for (index, state) in states.enumerated() {
            let x = 12 + Double(index % 4) * 220
            let y = legendTop + Double(index / 4) * 22
            svg += "<g class=\"legend\"><rect x=\"\(format(x))\" y=\"\(format(y - 11))\" width=\"14\" height=\"14\" "
            svg += "fill=\"\(colours[state] ?? "#999999")\"/>"
            svg += text(x: x + 20, y: y, escape(state)).dropLast() + "</g>\n"
        }
        return svg + "</svg>\n"
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
