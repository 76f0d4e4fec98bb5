public import CumulusDomain
public import CumulusLog

/// Licence counters (domain.md §9): per tenant and kind, contingent, used and available (which may be negative).
///
/// The write side emits an explicit release for every assignment that ends (type change, deletion completed,
/// user removed), so counting assignments and releases is exact and the state stays one pair of numbers per
/// tenant and kind.
public struct LicenceCountersProjection: Projection {
    /// `licence-counters`.
    public static let name = "licence-counters"
    /// Bumped when the derivation changes.
    public static let codeVersion: UInt32 = 1

    var counts: [TenantID: KindCounts] = [:]

    /// No tenant yet.
    public init() {}

    /// Folds one event.
    public mutating func apply(_ event: RecordedEvent, decoded: DomainEvent) {
        switch decoded {
        case .tenantCreated(let e):
            if counts[e.tenant] == nil { counts[e.tenant] = KindCounts() }
        case .licenceContingentSet(let e):
            counts[e.tenant, default: KindCounts()].contingents[Int(e.kind.code)] = e.contingent
        case .serviceLicenceAssigned(let e): counts[e.tenant, default: KindCounts()].used[Int(e.kind.code)] += 1
        case .serviceLicenceReleased(let e): counts[e.tenant, default: KindCounts()].used[Int(e.kind.code)] -= 1
        case .userLicenceAssigned(let e): counts[e.tenant, default: KindCounts()].used[Int(e.kind.code)] += 1
        case .userLicenceReleased(let e): counts[e.tenant, default: KindCounts()].used[Int(e.kind.code)] -= 1
        default: break
        }
    }

    /// Folds a batch, passing over presence and user-state changes at once (they change nothing here).
    public mutating func apply(batch: ArraySlice<DecodedEvent>) { applyPassingOverFeedFacts(batch) }

    /// Every kind of `tenant` (all twelve, zeros included), in the order domain.md lists them.
    public func counters(for tenant: TenantID) -> [LicenceCounter] {
        let tenantCounts = counts[tenant] ?? KindCounts()
        return LicenceKind.allCases.map { kind in
            LicenceCounter(
                tenant: tenant, kind: kind, contingent: tenantCounts.contingents[Int(kind.code)],
                used: tenantCounts.used[Int(kind.code)])
        }
    }

    /// One counter of one tenant.
    public func counter(for tenant: TenantID, kind: LicenceKind) -> LicenceCounter {
        let tenantCounts = counts[tenant] ?? KindCounts()
        return LicenceCounter(
            tenant: tenant, kind: kind, contingent: tenantCounts.contingents[Int(kind.code)],
            used: tenantCounts.used[Int(kind.code)])
    }

    /// Every tenant with counters, sorted by id.
    public var tenants: [TenantID] { counts.keys.sorted() }

    /// Counters per kind, sorted by tenant.
    public func allCounters() -> [LicenceCounter] { tenants.flatMap { counters(for: $0) } }
}

/// Contingent and usage per kind, indexed by the kind's stored code (a fixed, append-only order).
struct KindCounts: Hashable, Sendable {
    var contingents: [Int]
    var used: [Int]

    init() {
        let size = LicenceKind.allCases.map { Int($0.code) }.max().map { $0 + 1 } ?? 0
        contingents = Array(repeating: 0, count: size)
        used = Array(repeating: 0, count: size)
    }
}

extension LicenceCountersProjection {
    /// Per tenant, each kind's contingent and usage as varints, in stored-code order.
    public func encodeState() -> [UInt8] {
        var writer = PayloadWriter(capacity: 256)
        writer.writeDictionary(counts) { writer, tenantCounts in
            writer.write(tenantCounts.contingents)
            writer.write(tenantCounts.used)
        }
        return writer.bytes
    }

    /// Reads a state written by ``encodeState()``.
    /// - Throws: ``ProjectionStateError/corruptState(projection:reason:)``.
    public init(decodingState bytes: [UInt8]) throws(ProjectionStateError) {
        self = try decodeState(bytes, projection: Self.name) { reader throws(PayloadDecodingError) in
            var state = LicenceCountersProjection()
            state.counts = try reader.readDictionary { reader throws(PayloadDecodingError) in
                var tenantCounts = KindCounts()
                let contingents: [Int] = try reader.read()
                let used: [Int] = try reader.read()
                guard contingents.count == tenantCounts.contingents.count, used.count == tenantCounts.used.count else {
                    throw .malformed(at: reader.offset, reason: "licence kind count changed")
                }
                tenantCounts.contingents = contingents
                tenantCounts.used = used
                return tenantCounts
            }
            return state
        }
    }
}
