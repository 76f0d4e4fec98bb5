/// The checksum stored in front of a kept state (a projection's or the write model's checkpoint), so that damaged
/// bytes are noticed and the state rebuilt instead of decoded into something wrong.
///
/// 64-bit FNV-1a: cheap (about a gigabyte a second), and enough to tell damaged bytes from intact ones. It is no
/// defence against tampering; the log's hash chain guards the log itself, and a checkpoint can always be rebuilt.
public enum StateChecksum {
    /// The FNV-1a 64-bit hash of `bytes`.
    public static func of(_ bytes: some Collection<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return hash
    }

    /// `value` as 16 hexadecimal digits, for messages.
    public static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
