public import CumulusDomain
public import CumulusLog

extension WriteModel {
    /// The name of the write model's checkpoint in the log's checkpoints table.
    public static let checkpointName = "write-model"

    /// Bumped whenever what the model derives from the log, or its stored form, changes: a checkpoint of
    /// another version is not decoded but folded again from position 0. The fingerprint test
    /// (`Tests/CumulusCommandsTests/FingerprintTests.swift`) fails when the state changes and this does not.
    public static let codeVersion: UInt32 = 2

    /// The model's state as bytes: the registry, every tenant's aggregates, the entity-to-tenant tables and the
    /// stream versions, each sorted by key, so equal models encode to equal bytes. The position is not part of
    /// it: a checkpoint carries it.
    public func encodeState() -> [UInt8] {
        var writer = PayloadWriter(capacity: 1 << 16)
        registry.encode(to: &writer)
        writer.writeSorted(tenants) { writer, context in context.encode(to: &writer) }
        writer.writeSorted(ouTenant) { writer, tenant in tenant.encode(to: &writer) }
        writer.writeSorted(serviceTenant) { writer, tenant in tenant.encode(to: &writer) }
        writer.writeSorted(userTenant) { writer, tenant in tenant.encode(to: &writer) }
        writer.writeSorted(versions) { writer, version in writer.writeVarUInt(version) }
        return writer.bytes
    }

    /// Restores a state written by ``encodeState()`` of the same ``codeVersion``, at `position`.
    /// - Throws: `PayloadDecodingError` when the bytes are truncated or corrupt.
    public init(decodingState bytes: [UInt8], position: GlobalPosition) throws(PayloadDecodingError) {
        var reader = PayloadReader(bytes)
        self.init()
        registry = try TenantRegistry(from: &reader)
        tenants = try reader.readSorted { (reader) throws(PayloadDecodingError) in try DecisionContext(from: &reader) }
        ouTenant = try reader.readSorted { (reader) throws(PayloadDecodingError) in try TenantID(from: &reader) }
        serviceTenant = try reader.readSorted { (reader) throws(PayloadDecodingError) in try TenantID(from: &reader) }
        userTenant = try reader.readSorted { (reader) throws(PayloadDecodingError) in try TenantID(from: &reader) }
        versions = try reader.readSorted { (reader) throws(PayloadDecodingError) in try reader.readVarUInt() }
        guard reader.isAtEnd else { throw .trailingBytes(count: bytes.count - reader.offset) }
        self.position = position
    }

    /// The model as a checkpoint: `varint codeVersion`, an 8-byte `StateChecksum` of the state (so damaged bytes
    /// are noticed, not decoded into a wrong model), then ``encodeState()``.
    public func checkpoint() -> Checkpoint {
        let state = encodeState()
        var writer = PayloadWriter(capacity: state.count + 16)
        writer.writeVarUInt(UInt64(Self.codeVersion))
        writer.writeInt64(Int64(bitPattern: StateChecksum.of(state)))
        var bytes = writer.bytes
        bytes.append(contentsOf: state)
        return Checkpoint(name: Self.checkpointName, position: position, state: bytes)
    }

    /// The model a checkpoint holds, or an empty model and the reason the checkpoint could not be used.
    ///
    /// Never throws: a checkpoint that cannot be used is only a cache miss — the caller folds the log from
    /// position 0 and should log ``Restore/description``.
    public static func restoring(_ checkpoint: Checkpoint?) -> (model: WriteModel, outcome: Restore) {
        guard let checkpoint else { return (WriteModel(), .noCheckpoint) }
        var reader = PayloadReader(checkpoint.state)
        do throws(PayloadDecodingError) {
            let version = try reader.readVarUInt()
            guard version == UInt64(codeVersion) else {
                return (WriteModel(), .unknownCodeVersion(stored: version, current: codeVersion))
            }
            let stored = UInt64(bitPattern: try reader.readInt64())
            let state = Array(checkpoint.state[reader.offset...])
            let actual = StateChecksum.of(state)
            guard stored == actual else {
                return (
                    WriteModel(),
                    .damaged(
                        reason: "checksum \(StateChecksum.hex(actual)) of \(state.count) state bytes, "
                            + "\(StateChecksum.hex(stored)) stored")
                )
            }
            let model = try WriteModel(decodingState: state, position: checkpoint.position)
            return (model, .restored(position: checkpoint.position))
        } catch {
            return (WriteModel(), .damaged(reason: error.description))
        }
    }

    /// What became of a stored write-model checkpoint.
    public enum Restore: Hashable, Sendable, CustomStringConvertible {
        /// It was loaded: the model continues after `position`.
        case restored(position: GlobalPosition)
        /// There is none: the model is folded from position 0.
        case noCheckpoint
        /// It was written by another code version and is ignored: the model is folded from position 0.
        case unknownCodeVersion(stored: UInt64, current: UInt32)
        /// Its bytes are damaged and it is ignored: the model is folded from position 0.
        case damaged(reason: String)

        /// True when a checkpoint existed but could not be used (worth a log line).
        public var wasDiscarded: Bool {
            switch self {
            case .unknownCodeVersion, .damaged: true
            case .restored, .noCheckpoint: false
            }
        }

        /// One sentence: what was loaded, or why the model is rebuilt from position 0.
        public var description: String {
            switch self {
            case .restored(let position):
                "write model restored from its checkpoint at position \(position)"
            case .noCheckpoint:
                "write model has no checkpoint; folding the log from position 0"
            case .unknownCodeVersion(let stored, let current):
                "write-model checkpoint ignored: written by code version \(stored), this build is version \(current); "
                    + "folding the log from position 0"
            case .damaged(let reason):
                "write-model checkpoint ignored: its bytes are damaged (\(reason)); folding the log from position 0"
            }
        }
    }
}
