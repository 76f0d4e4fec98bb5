import CumulusDomain
import CumulusLog

extension PayloadWriter {
    /// Writes a dictionary as a count and its pairs, sorted by key so equal states encode to equal bytes.
    mutating func writeDictionary<Key: PayloadCodable & Comparable, Value>(
        _ dictionary: [Key: Value], value writeValue: (inout PayloadWriter, Value) -> Void
    ) {
        writeVarUInt(UInt64(dictionary.count))
        for key in dictionary.keys.sorted() {
            write(key)
            if let value = dictionary[key] { writeValue(&self, value) }
        }
    }

    /// Writes an array as a count and its elements.
    mutating func writeArray<Element>(_ array: [Element], element writeElement: (inout PayloadWriter, Element) -> Void)
    {
        writeVarUInt(UInt64(array.count))
        for element in array { writeElement(&self, element) }
    }
}

extension PayloadReader {
    /// Reads a count written by `PayloadWriter.writeArray(_:element:)`; refuses counts larger than the bytes left.
    mutating func readCount() throws(PayloadDecodingError) -> Int {
        let count = try readVarUInt()
        guard count <= UInt64(bytes.count - offset) else { throw .truncated(at: offset) }
        return Int(count)
    }

    /// Reads an array written by `PayloadWriter.writeArray(_:element:)`.
    mutating func readArray<Element>(
        _ readElement: (inout PayloadReader) throws(PayloadDecodingError) -> Element
    ) throws(PayloadDecodingError) -> [Element] {
        let count = try readCount()
        var elements: [Element] = []
        elements.reserveCapacity(count)
        for _ in 0..<count { elements.append(try readElement(&self)) }
        return elements
    }

    /// Reads a dictionary written by `PayloadWriter.writeDictionary(_:value:)`.
    mutating func readDictionary<Key: PayloadCodable & Hashable, Value>(
        _ readValue: (inout PayloadReader) throws(PayloadDecodingError) -> Value
    ) throws(PayloadDecodingError) -> [Key: Value] {
        let count = try readCount()
        var dictionary: [Key: Value] = [:]
        dictionary.reserveCapacity(count)
        for _ in 0..<count {
            let key: Key = try read()
            dictionary[key] = try readValue(&self)
        }
        return dictionary
    }

    /// Fails unless every byte was read.
    func expectEnd() throws(PayloadDecodingError) {
        guard isAtEnd else { throw .trailingBytes(count: bytes.count - offset) }
    }
}

/// Runs a state decoder and turns a payload error into ``ProjectionStateError``.
func decodeState<State>(
    _ bytes: [UInt8], projection: String,
    _ body: (inout PayloadReader) throws(PayloadDecodingError) -> State
) throws(ProjectionStateError) -> State {
    var reader = PayloadReader(bytes)
    do {
        let state = try body(&reader)
        try reader.expectEnd()
        return state
    } catch {
        throw ProjectionStateError.corrupt(projection, error)
    }
}
