import Crypto

/// One link of the hash chain: SHA-256 over the previous link, the record's position and its bytes.
///
/// Changing, removing, reordering or inserting any record changes every later link, so comparing the
/// last link with a copy kept elsewhere proves the whole history unchanged. Stored inline (four words),
/// so computing one allocates nothing.
package struct ChainLink: Hashable, Sendable, CustomStringConvertible {
    private var words: (UInt64, UInt64, UInt64, UInt64)

    /// The link before the first record: 32 zero bytes.
    package static let genesis = ChainLink(words: (0, 0, 0, 0))

    private init(words: (UInt64, UInt64, UInt64, UInt64)) { self.words = words }

    package init(bytes: [UInt8]) {
        precondition(bytes.count == 32, "a chain link has 32 bytes")
        words = bytes.withUnsafeBytes { $0.loadUnaligned(as: (UInt64, UInt64, UInt64, UInt64).self) }
    }

    /// Reads a link stored at `offset`.
    package init(reading buffer: UnsafeRawBufferPointer, at offset: Int) {
        if buffer.count >= offset + 32 {
            words = buffer.loadUnaligned(fromByteOffset: offset, as: (UInt64, UInt64, UInt64, UInt64).self)
        } else {
            words = (0, 0, 0, 0)
        }
    }

    /// The 32 bytes.
    package var bytes: [UInt8] { Swift.withUnsafeBytes(of: words) { Array($0) } }

    /// Calls `body` with the 32 bytes, without copying them to the heap.
    package func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try Swift.withUnsafeBytes(of: words, body)
    }

    /// The link that follows `previous` for the record `body` at `position`.
    package static func next(
        after previous: ChainLink,
        position: GlobalPosition,
        body: UnsafeRawBufferPointer
    ) -> ChainLink {
        var hasher = SHA256()
        previous.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        Swift.withUnsafeBytes(of: position.rawValue.bigEndian) { hasher.update(bufferPointer: $0) }
        hasher.update(bufferPointer: body)
        let digest = hasher.finalize()
        return ChainLink(words: digest.withUnsafeBytes { $0.loadUnaligned(as: (UInt64, UInt64, UInt64, UInt64).self) })
    }

    package static func == (lhs: ChainLink, rhs: ChainLink) -> Bool {
        lhs.words.0 == rhs.words.0 && lhs.words.1 == rhs.words.1 && lhs.words.2 == rhs.words.2
            && lhs.words.3 == rhs.words.3
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }

    /// Lower-case hexadecimal.
    package var description: String { hexadecimal(bytes) }
}

/// Lower-case hexadecimal text of some bytes.
package func hexadecimal(_ bytes: some Sequence<UInt8>) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var text: [UInt8] = []
    for byte in bytes {
        text.append(digits[Int(byte >> 4)])
        text.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: text, as: UTF8.self)
}

/// SHA-256 of some bytes, for checksums of checkpoints and other stored values.
package func sha256(_ parts: [UInt8]...) -> [UInt8] {
    var hasher = SHA256()
    for part in parts { part.withUnsafeBytes { hasher.update(bufferPointer: $0) } }
    return Array(hasher.finalize())
}
