import CumulusLog

/// A report as columns and rows of cells, ready for CSV, JSON or an aligned text table.
///
/// ```swift
/// let table = ReportTable.userStates(report.rows(tenant: tenant))
/// print(table.csv())
/// ```
public struct ReportTable: Hashable, Sendable {
    /// The column names, in order.
    public var columns: [String]
    /// The rows; each has one cell per column.
    public var rows: [[ReportCell]]

    /// Assembles a table.
    public init(columns: [String], rows: [[ReportCell]]) {
        self.columns = columns
        self.rows = rows
    }
}

/// One cell: text, a whole number, a decimal number or nothing.
public enum ReportCell: Hashable, Sendable, CustomStringConvertible {
    /// Text, shown as is.
    case text(String)
    /// A whole number.
    case integer(Int)
    /// A decimal number, shown with up to three decimals.
    case decimal(Double)
    /// No value (an open row's end, an unset state).
    case empty

    /// The cell as text (empty for ``empty``); control characters in text are made visible (`\u{1b}`), so a
    /// stored name cannot drive the terminal or break a table line or a CSV record.
    public var description: String {
        switch self {
        case .text(let text): VisibleText.escaped(text)
        case .integer(let value): String(value)
        case .decimal(let value): Self.format(value)
        case .empty: ""
        }
    }

    /// A decimal with up to three fraction digits and no trailing zeros: `600`, `1.5`, `0.125`.
    static func format(_ value: Double) -> String {
        let thousandths = (value * 1000).rounded()
        guard thousandths.isFinite, abs(thousandths) < 9e15 else { return String(value) }
        let whole = Int64(thousandths)
        let sign = whole < 0 ? "-" : ""
        let magnitude = whole.magnitude
        var text = sign + String(magnitude / 1000)
        var fraction = magnitude % 1000
        if fraction != 0 {
            var digits = String(fraction)
            digits = String(repeating: "0", count: 3 - digits.count) + digits
            while digits.hasSuffix("0") { digits.removeLast() }
            text += "." + digits
            fraction = 0
        }
        return text
    }
}

extension ReportTable {
    /// RFC 4180 CSV: a header row, CRLF line ends (the last line too, and nothing after it), and fields quoted
    /// when they hold a comma, a quote, CR or LF (quotes doubled inside).
    ///
    /// A text cell that a spreadsheet would run as a formula (it begins with `=`, `+`, `-`, `@`, a tab or a CR)
    /// is written quoted with a leading apostrophe, `"'=SUM(A1)"`, the OWASP advice for CSV injection: Excel,
    /// LibreOffice and Google Sheets then show it as text. Numbers (a negative `available`) are not text cells
    /// and stay as they are.
    public func csv() -> String {
        var text = ""
        func line(_ fields: [String]) {
            text += fields.joined(separator: ",")
            text += "\r\n"
        }
        // Control characters are made visible (`\u{1b}`), as in every text output: a CSV cell never carries one.
        line(columns.map { Self.csvText(VisibleText.escaped($0)) })
        for row in rows {
            line(
                row.map { cell in
                    if case .text(let value) = cell { return Self.csvText(VisibleText.escaped(value)) }
                    return Self.csvField(cell.description)
                })
        }
        return text
    }

    /// A text field, defused when a spreadsheet would take it for a formula.
    static func csvText(_ field: String) -> String {
        guard let first = field.unicodeScalars.first, Self.formulaStarts.contains(first) else {
            return csvField(field)
        }
        var quoted = "\"'"
        for character in field {
            quoted.append(character)
            if character == "\"" { quoted.append("\"") }
        }
        return quoted + "\""
    }

    /// First characters that make a spreadsheet evaluate a cell.
    static let formulaStarts: Set<Unicode.Scalar> = ["=", "+", "-", "@", "\t", "\r"]

    static func csvField(_ field: String) -> String {
        let needsQuotes = field.unicodeScalars.contains { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" }
        guard needsQuotes else { return field }
        var quoted = "\""
        for character in field {
            quoted.append(character)
            if character == "\"" { quoted.append("\"") }
        }
        return quoted + "\""
    }

    /// A JSON array with one object per row, keys in column order; numbers stay numbers, empty cells are `null`.
    public func json() -> String {
        var text = "["
        for (index, row) in rows.enumerated() {
            text += index == 0 ? "\n  {" : ",\n  {"
            for (index, pair) in zip(columns, row).enumerated() {
                let (column, cell) = pair
                if index > 0 { text += ", " }
                text += Self.jsonString(column) + ": "
                switch cell {
                case .text(let value): text += Self.jsonString(value)
                case .integer(let value): text += String(value)
                case .decimal(let value): text += value.isFinite ? ReportCell.format(value) : "null"
                case .empty: text += "null"
                }
            }
            text += "}"
        }
        return text + (rows.isEmpty ? "]\n" : "\n]\n")
    }

    static func jsonString(_ value: String) -> String {
        var text = ""
        JSONText.appendQuoted(value, to: &text)
        return text
    }

    /// An aligned text table: a header, a rule, and the rows; numbers right-aligned, text left-aligned.
    public func textTable() -> String {
        let header = columns
        let body = rows.map { row in
            row.map { cell in String(cell.description.map { $0.isNewline ? " " : $0 }) }
        }
        var widths = header.map(\.count)
        for row in body {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        func pad(_ text: String, _ width: Int, right: Bool) -> String {
            let padding = String(repeating: " ", count: max(0, width - text.count))
            return right ? padding + text : text + padding
        }
        var lines: [String] = []
        lines.append(zip(header, widths).map { pad($0, $1, right: false) }.joined(separator: "  "))
        lines.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
        for (rowIndex, row) in body.enumerated() {
            let cells = row.enumerated().map { index, cell in
                let isNumber: Bool
                switch rows[rowIndex][index] {
                case .integer, .decimal: isNumber = true
                default: isNumber = false
                }
                return pad(cell, widths[index], right: isNumber)
            }
            lines.append(cells.joined(separator: "  "))
        }
        return lines.map { line in
            var trimmed = line
            while trimmed.hasSuffix(" ") { trimmed.removeLast() }
            return trimmed
        }.joined(separator: "\n") + "\n"
    }
}
