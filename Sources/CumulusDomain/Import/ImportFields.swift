import Foundation

/// Typed access to the fields of one import line; every failure names the field and the problem.
struct ImportFields {
    let fields: [String: JSONValue]
    let line: Int
    let prefix: String
    /// The fields of the line and of the objects read in it, and which of them a parse has read: shared by the
    /// nested objects' fields, so that ``unreadField()`` can name a field no command reads (a misspelt optional
    /// field would otherwise be taken as absent, its default stored without a word).
    let record: FieldRecord

    /// Fields of one line (or of one object in it, `prefix` its path).
    init(fields: [String: JSONValue], line: Int, prefix: String, record: FieldRecord = FieldRecord()) {
        self.fields = fields
        self.line = line
        self.prefix = prefix
        self.record = record
        record.present.append(contentsOf: fields.keys.sorted().map { prefix + $0 })
    }

    /// The first field (by its path, in the order of the line's sorted keys) that nothing has read.
    func unreadField() -> String? {
        record.present.first { !record.read.contains($0) }
    }

    private func refusal(_ reason: String) -> ImportLineRefusal { ImportLineRefusal(line: line, reason: reason) }
    private func path(_ key: String) -> String { prefix + key }

    private func value(_ key: String) -> JSONValue? {
        record.read.insert(path(key))
        guard let value = fields[key] else { return nil }
        if case .null = value { return nil }
        return value
    }

    func string(_ key: String) throws(ImportLineRefusal) -> String {
        guard let value = try optionalString(key) else { throw refusal("missing field `\(path(key))`") }
        return value
    }

    func optionalString(_ key: String) throws(ImportLineRefusal) -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let text) = value else {
            throw refusal("field `\(path(key))` must be a string, not \(value.typeName)")
        }
        return text
    }

    func integer(_ key: String, default fallback: Int? = nil) throws(ImportLineRefusal) -> Int {
        guard let value = value(key) else {
            guard let fallback else { throw refusal("missing field `\(path(key))`") }
            return fallback
        }
        guard case .integer(let number) = value else {
            throw refusal("field `\(path(key))` must be an integer, not \(value.typeName)")
        }
        return number
    }

    func bool(_ key: String, default fallback: Bool? = nil) throws(ImportLineRefusal) -> Bool {
        guard let value = value(key) else {
            guard let fallback else { throw refusal("missing field `\(path(key))`") }
            return fallback
        }
        guard case .bool(let flag) = value else {
            throw refusal("field `\(path(key))` must be true or false, not \(value.typeName)")
        }
        return flag
    }

    func uuid(_ key: String) throws(ImportLineRefusal) -> UUID {
        guard let value = try optionalUUID(key) else { throw refusal("missing field `\(path(key))`") }
        return value
    }

    func optionalUUID(_ key: String) throws(ImportLineRefusal) -> UUID? {
        guard let text = try optionalString(key) else { return nil }
        guard text.utf8.count == 36, let uuid = UUID(uuidString: text) else {
            throw refusal("field `\(path(key))` must be a UUID like `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`")
        }
        return uuid
    }

    func id<ID: EntityIdentifier>(_ key: String, as type: ID.Type = ID.self) throws(ImportLineRefusal) -> ID {
        ID(try uuid(key))
    }

    func optionalID<ID: EntityIdentifier>(_ key: String, as type: ID.Type = ID.self) throws(ImportLineRefusal) -> ID? {
        try optionalUUID(key).map(ID.init)
    }

    func enumeration<E: StoredEnumeration>(_ key: String, default fallback: E? = nil) throws(ImportLineRefusal) -> E {
        guard let value = try optionalEnumeration(key, as: E.self) else {
            guard let fallback else { throw refusal("missing field `\(path(key))`") }
            return fallback
        }
        return value
    }

    func optionalEnumeration<E: StoredEnumeration>(
        _ key: String, as type: E.Type = E.self
    ) throws(ImportLineRefusal)
        -> E?
    {
        guard let text = try optionalString(key) else { return nil }
        guard let value = E(rawValue: text) else {
            throw refusal("field `\(path(key))` must be one of \(E.namesForMessages)")
        }
        return value
    }

    /// A nested object's fields, or `nil` when absent or null.
    func optionalObject(_ key: String) throws(ImportLineRefusal) -> ImportFields? {
        guard let value = value(key) else { return nil }
        guard case .object(let nested) = value else {
            throw refusal("field `\(path(key))` must be an object, not \(value.typeName)")
        }
        return ImportFields(fields: nested, line: line, prefix: path(key) + ".", record: record)
    }
}

/// Which fields of one import line exist and which a parse has read (``ImportFields``).
final class FieldRecord {
    /// Every field's path (`settings.enabled` for a field of an object), the line's own fields first.
    var present: [String] = []
    /// The paths a parse has asked for, present or not.
    var read: Set<String> = []
}
