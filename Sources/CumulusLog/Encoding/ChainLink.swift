import Crypto

/// One link of the hash chain: SHA-256 over the previous link, the record's position and its bytes.
///
/// Changing, removing, reordering or inserting any record changes every later link, so comparing the
/// last link with a copy kept elsewhere proves the whole history unchanged.
package struct ChainLink: Hashable, Sendable, CustomStringConvertible {
    /// The 32 bytes of the digest.
    package var bytes: [UInt8]

    /// The link before the first record: 32 zero bytes.
    package static let genesis = ChainLink(bytes: [UInt8](repeating: 0, count: 32))

    package init(bytes: [UInt8]) {
        precondition(bytes.count == 32, "a chain link has 32 bytes")
        self.bytes = bytes
    }

    /// Reads a link stored at `offset`.
    package init(reading buffer: UnsafeRawBufferPointer, at offset: Int) {
        self.bytes = Array(UnsafeRawBufferPointer(rebasing: buffer[offset..<offset + 32]))
    }

    /// The link that follows `previous` for the record `body` at `position`.
    package static func next(
        after previous: ChainLink,
        position: GlobalPosition,
        body: UnsafeRawBufferPointer
    ) -> ChainLink {
        var hasher = SHA256()
        previous.bytes.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        withUnsafeBytes(of: position.rawValue.bigEndian) { hasher.update(bufferPointer: $0) }
        hasher.update(bufferPointer: body)
        return ChainLink(bytes: Array(hasher.finalize()))
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
