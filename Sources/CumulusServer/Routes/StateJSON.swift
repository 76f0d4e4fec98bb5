import CumulusDomain
import CumulusLog
import CumulusProjections
import Foundation

/// Renders any state value as indented JSON by reflection, with the rules of the views: secrets masked,
/// personal data shown in clear (or as `*` placeholders through a partner view), ids and instants as text.
struct StateJSON {
    // Copied from Tools/cumulus/StateJSON.swift (the CLI cannot be imported); one shared copy is a follow-up.
    let partnerView: PartnerView

    func render(_ value: Any) -> String {
        var text = ""
        write(value, indent: 0, into: &text)
        return text
    }

    private func write(_ value: Any, indent: Int, into text: inout String) {
        if let secret = value as? Secret { return quote(secret.description, into: &text) }
        if let personal = value as? PersonalData<String> {
            return quote(partnerView.userIdentifier(personal.value), into: &text)
        }
        if let string = value as? String { return quote(string, into: &text) }
        if let bool = value as? Bool {
            text += bool ? "true" : "false"
            return
        }
        if let number = value as? Int {
            text += String(number)
            return
        }
        if let number = value as? Int64 {
            text += String(number)
            return
        }
        if let number = value as? UInt64 {
            text += String(number)
            return
        }
        if let number = value as? Double {
            text += number.isFinite ? String(number) : "null"
            return
        }
        if let instant = value as? Timestamp { return quote(instant.iso8601, into: &text) }
        if let uuid = value as? UUID { return quote(uuid.uuidString.lowercased(), into: &text) }
        if let id = value as? any EntityIdentifier { return quote(id.description, into: &text) }
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .optional:
            guard let wrapped = mirror.children.first?.value else {
                text += "null"
                return
            }
            write(wrapped, indent: indent, into: &text)
        case .collection, .set:
            let items = mirror.children.map(\.value)
            let sorted = mirror.displayStyle == .set ? items.sorted { "\($0)" < "\($1)" } : items
            writeArray(sorted, indent: indent, into: &text)
        case .dictionary:
            var pairs: [(String, Any)] = []
            for child in mirror.children {
                let pair = Mirror(reflecting: child.value).children.map(\.value)
                if pair.count == 2 { pairs.append((Self.key(pair[0]), pair[1])) }
            }
            writeObject(pairs.sorted { $0.0 < $1.0 }, indent: indent, into: &text)
        case .struct, .class:
            let fields = mirror.children.compactMap { child in child.label.map { ($0, child.value) } }
            // Validated single-value wrappers (DNS names, e-mail addresses, phone numbers) print as their text.
            if fields.isEmpty || (fields.count == 1 && value is any CustomStringConvertible) {
                return quote("\(value)", into: &text)
            }
            writeObject(fields, indent: indent, into: &text)
        case .enum:
            guard let payload = mirror.children.first, let label = payload.label else {
                return quote("\(value)", into: &text)
            }
            writeObject([(label, payload.value)], indent: indent, into: &text)
        default:
            quote("\(value)", into: &text)
        }
    }

    private static func key(_ value: Any) -> String {
        if let id = value as? any EntityIdentifier { return id.description }
        return "\(value)"
    }

    private func writeArray(_ items: [Any], indent: Int, into text: inout String) {
        guard !items.isEmpty else {
            text += "[]"
            return
        }
        text += "[\n"
        for (index, item) in items.enumerated() {
            text += String(repeating: "  ", count: indent + 1)
            write(item, indent: indent + 1, into: &text)
            text += index == items.count - 1 ? "\n" : ",\n"
        }
        text += String(repeating: "  ", count: indent) + "]"
    }

    private func writeObject(_ fields: [(String, Any)], indent: Int, into text: inout String) {
        guard !fields.isEmpty else {
            text += "{}"
            return
        }
        text += "{\n"
        for (index, field) in fields.enumerated() {
            text += String(repeating: "  ", count: indent + 1)
            quote(field.0, into: &text)
            text += ": "
            write(field.1, indent: indent + 1, into: &text)
            text += index == fields.count - 1 ? "\n" : ",\n"
        }
        text += String(repeating: "  ", count: indent) + "}"
    }

    private func quote(_ string: String, into text: inout String) {
        JSONText.appendQuoted(string, to: &text)
    }
}
