import Foundation

// The aggregates' stored form, for checkpoints of state folded from the log (the write model's). Every field is
// written, dictionaries and sets sorted by key, so equal aggregates encode to equal bytes. The format is versioned
// by the code version of whatever stores it (`WriteModel.codeVersion`), not by the events' schema versions: change
// a field here and that code version must change (the fingerprint test says so).

extension PayloadWriter {
    /// Writes a dictionary as a count and its pairs, ordered by the keys' encoded bytes so that equal dictionaries
    /// encode to equal bytes.
    ///
    /// The bytes, not the keys' own `Comparable` order: comparing entity ids compares their lower-case text, which
    /// built two strings per comparison and was the largest cost of saving a write model of thousands of users.
    public mutating func writeSorted<Key: PayloadCodable, Value>(
        _ dictionary: [Key: Value], value writeValue: (inout PayloadWriter, Value) -> Void
    ) {
        writeVarUInt(UInt64(dictionary.count))
        var entries: [(key: [UInt8], value: Value)] = []
        entries.reserveCapacity(dictionary.count)
        for (key, value) in dictionary {
            var keyWriter = PayloadWriter(capacity: 24)
            key.encode(to: &keyWriter)
            entries.append((keyWriter.bytes, value))
        }
        entries.sort { $0.key.lexicographicallyPrecedes($1.key) }
        for entry in entries {
            for byte in entry.key { writeByte(byte) }
            writeValue(&self, entry.value)
        }
    }

    /// Writes a set as a count and its elements, ordered by their encoded bytes (as ``writeSorted(_:value:)``).
    mutating func writeSorted<Element: PayloadCodable>(_ set: Set<Element>) {
        var encoded: [[UInt8]] = []
        encoded.reserveCapacity(set.count)
        for element in set {
            var elementWriter = PayloadWriter(capacity: 24)
            element.encode(to: &elementWriter)
            encoded.append(elementWriter.bytes)
        }
        encoded.sort { $0.lexicographicallyPrecedes($1) }
        writeVarUInt(UInt64(encoded.count))
        for element in encoded {
            for byte in element { writeByte(byte) }
        }
    }

    /// Writes licence kinds in storage order (a set has no order of its own).
    mutating func writeKinds(_ kinds: Set<LicenceKind>) {
        LicenceKind.storageOrder.filter { kinds.contains($0) }.encode(to: &self)
    }

    /// Writes a licence-kind-keyed count table in storage order.
    mutating func writeKindCounts(_ counts: [LicenceKind: Int]) {
        let kinds = LicenceKind.storageOrder.filter { counts[$0] != nil }
        writeVarUInt(UInt64(kinds.count))
        for kind in kinds {
            kind.encode(to: &self)
            (counts[kind] ?? 0).encode(to: &self)
        }
    }
}

extension PayloadReader {
    /// Reads a count, refusing one larger than the bytes left (each entry takes at least one byte).
    public mutating func readBoundedCount() throws(PayloadDecodingError) -> Int {
        let count = try readVarUInt()
        guard count <= UInt64(bytes.count - offset) else { throw .truncated(at: offset) }
        return Int(count)
    }

    /// Reads a dictionary written by ``PayloadWriter/writeSorted(_:value:)``.
    public mutating func readSorted<Key: PayloadCodable & Hashable, Value>(
        value readValue: (inout PayloadReader) throws(PayloadDecodingError) -> Value
    ) throws(PayloadDecodingError) -> [Key: Value] {
        let count = try readBoundedCount()
        var dictionary: [Key: Value] = [:]
        dictionary.reserveCapacity(count)
        for _ in 0..<count {
            let key = try Key(from: &self)
            dictionary[key] = try readValue(&self)
        }
        return dictionary
    }

    mutating func readKinds() throws(PayloadDecodingError) -> Set<LicenceKind> {
        Set(try [LicenceKind](from: &self))
    }

    mutating func readKindCounts() throws(PayloadDecodingError) -> [LicenceKind: Int] {
        let count = try readBoundedCount()
        var counts: [LicenceKind: Int] = [:]
        for _ in 0..<count {
            let kind = try LicenceKind(from: &self)
            counts[kind] = try Int(from: &self)
        }
        return counts
    }
}

extension Tenant: PayloadCodable {
    /// Every field.
    public func encode(to writer: inout PayloadWriter) {
        id.encode(to: &writer)
        name.encode(to: &writer)
        o365Domain.encode(to: &writer)
        azureTenantID.encode(to: &writer)
        partner.encode(to: &writer)
        rootOU.encode(to: &writer)
        defaultOU.encode(to: &writer)
        state.encode(to: &writer)
        widgetKey.encode(to: &writer)
        lifecycle.encode(to: &writer)
        securityGroups.encode(to: &writer)
        companyDetails.encode(to: &writer)
        technicalContact.encode(to: &writer)
        dataPrivacy.encode(to: &writer)
        provisioning.encode(to: &writer)
        outbound.encode(to: &writer)
        interact.encode(to: &writer)
        assistant.encode(to: &writer)
        attendantConsole.encode(to: &writer)
        presenceTracking.encode(to: &writer)
        presenceTrackingPermissionGranted.encode(to: &writer)
        instantMessaging.encode(to: &writer)
        externalTask.encode(to: &writer)
        email.encode(to: &writer)
        pendingScriptItems.encode(to: &writer)
        roleAssignments.encode(to: &writer)
    }

    /// Reads what ``encode(to:)`` wrote.
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) {
        let id = try TenantID(from: &reader)
        let name = try String(from: &reader)
        let domain = try DNSName(from: &reader)
        let azure = try UUID(from: &reader)
        let partner = try PartnerID?(from: &reader)
        let rootOU = try OUID(from: &reader)
        let defaultOU = try OUID(from: &reader)
        let state = try TenantState(from: &reader)
        let widgetKey = try UUID(from: &reader)
        self.init(
            created: TenantCreated(
                tenant: id, name: name, o365Domain: domain, azureTenantID: azure, partner: partner, rootOU: rootOU,
                widgetKey: widgetKey, state: state))
        self.defaultOU = defaultOU
        lifecycle = try Lifecycle(from: &reader)
        securityGroups = try SecurityGroups(from: &reader)
        companyDetails = try CompanyDetails(from: &reader)
        technicalContact = try TechnicalContact?(from: &reader)
        dataPrivacy = try DataPrivacySettings(from: &reader)
        provisioning = try ProvisioningSettings(from: &reader)
        outbound = try OutboundSettings(from: &reader)
        interact = try InteractSettings(from: &reader)
        assistant = try AssistantSettings(from: &reader)
        attendantConsole = try AttendantConsoleSettings(from: &reader)
        presenceTracking = try PresenceTrackingSettings(from: &reader)
        presenceTrackingPermissionGranted = try Bool(from: &reader)
        instantMessaging = try InstantMessagingSettings(from: &reader)
        externalTask = try ExternalTaskSettings(from: &reader)
        email = try EmailSettings(from: &reader)
        pendingScriptItems = try [PendingScriptItem](from: &reader)
        roleAssignments = try [RoleAssignment](from: &reader)
    }
}

extension OrganisationUnit: PayloadCodable {
    /// Every field; the contents in a canonical order.
    public func encode(to writer: inout PayloadWriter) {
        id.encode(to: &writer)
        tenant.encode(to: &writer)
        parent.encode(to: &writer)
        name.encode(to: &writer)
        lifecycle.encode(to: &writer)
        writer.writeSorted(contents)
    }

    /// Reads what ``encode(to:)`` wrote.
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) {
        self.init(
            id: try OUID(from: &reader), tenant: try TenantID(from: &reader), parent: try OUID?(from: &reader),
            name: try String(from: &reader), lifecycle: try Lifecycle(from: &reader),
            contents: Set(try [OUContent](from: &reader)))
    }
}

extension Service: PayloadCodable {
    /// Every field.
    public func encode(to writer: inout PayloadWriter) {
        id.encode(to: &writer)
        tenant.encode(to: &writer)
        ou.encode(to: &writer)
        name.encode(to: &writer)
        type.encode(to: &writer)
        source.encode(to: &writer)
        distribution.encode(to: &writer)
        lifecycle.encode(to: &writer)
    }

    /// Reads what ``encode(to:)`` wrote.
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) {
        self.init(
            id: try ServiceID(from: &reader), tenant: try TenantID(from: &reader), ou: try OUID(from: &reader),
            name: try String(from: &reader), type: try ServiceType(from: &reader),
            source: try ProvisioningSource(from: &reader), distribution: try DistributionSettings(from: &reader),
            lifecycle: try Lifecycle(from: &reader))
    }
}

extension User: PayloadCodable {
    /// Every field; memberships sorted by service.
    public func encode(to writer: inout PayloadWriter) {
        id.encode(to: &writer)
        tenant.encode(to: &writer)
        ou.encode(to: &writer)
        upn.encode(to: &writer)
        displayName.encode(to: &writer)
        lifecycle.encode(to: &writer)
        writer.writeSorted(memberships) { writer, role in role.encode(to: &writer) }
        availability.encode(to: &writer)
        activity.encode(to: &writer)
        userState.encode(to: &writer)
        responsibilityProfile.encode(to: &writer)
    }

    /// Reads what ``encode(to:)`` wrote.
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) {
        self.init(
            id: try UserID(from: &reader), tenant: try TenantID(from: &reader), ou: try OUID(from: &reader),
            upn: try PersonalData<String>(from: &reader), displayName: try PersonalData<String>(from: &reader),
            lifecycle: try Lifecycle(from: &reader),
            memberships: try reader.readSorted { (reader) throws(PayloadDecodingError) in
                try MembershipRole(from: &reader)
            },
            availability: try Availability?(from: &reader), activity: try Activity(from: &reader),
            userState: try UserStateName?(from: &reader), responsibilityProfile: try String?(from: &reader))
    }
}

extension LicencePool: PayloadCodable {
    /// Every field; kinds in storage order, assignments sorted by holder.
    public func encode(to writer: inout PayloadWriter) {
        tenant.encode(to: &writer)
        writer.writeKindCounts(contingents)
        writer.writeSorted(serviceLicences) { writer, kinds in writer.writeKinds(kinds) }
        writer.writeSorted(userLicences) { writer, kinds in writer.writeKinds(kinds) }
        writer.writeKindCounts(usage)
    }

    /// Reads what ``encode(to:)`` wrote.
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) {
        self.init(
            tenant: try TenantID(from: &reader), contingents: try reader.readKindCounts(),
            serviceLicences: try reader.readSorted { (reader) throws(PayloadDecodingError) in try reader.readKinds() },
            userLicences: try reader.readSorted { (reader) throws(PayloadDecodingError) in try reader.readKinds() },
            usage: try reader.readKindCounts())
    }
}

extension TenantRegistry: PayloadCodable {
    /// The reservations and the three lookup tables, each sorted by key.
    public func encode(to writer: inout PayloadWriter) {
        writer.writeSorted(reservations) { writer, reservation in
            reservation.name.encode(to: &writer)
            reservation.o365Domain.encode(to: &writer)
            reservation.azureTenantID.encode(to: &writer)
        }
        let (names, domains, azureIDs) = indexes
        writer.writeSorted(names) { writer, tenant in tenant.encode(to: &writer) }
        writer.writeSorted(domains) { writer, tenant in tenant.encode(to: &writer) }
        writer.writeSorted(azureIDs) { writer, tenant in tenant.encode(to: &writer) }
    }

    /// Reads what ``encode(to:)`` wrote.
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) {
        let reservations: [TenantID: Reservation] = try reader.readSorted { (reader) throws(PayloadDecodingError) in
            Reservation(
                name: try String(from: &reader), o365Domain: try DNSName(from: &reader),
                azureTenantID: try UUID(from: &reader))
        }
        let names: [String: TenantID] = try reader.readSorted { (reader) throws(PayloadDecodingError) in
            try TenantID(from: &reader)
        }
        let domains: [String: TenantID] = try reader.readSorted { (reader) throws(PayloadDecodingError) in
            try TenantID(from: &reader)
        }
        let azureIDs: [UUID: TenantID] = try reader.readSorted { (reader) throws(PayloadDecodingError) in
            try TenantID(from: &reader)
        }
        self.init(reservations: reservations, names: names, domains: domains, azureIDs: azureIDs)
    }
}

extension DecisionContext: PayloadCodable {
    /// The registry, the tenant, its pool, and its OUs, services and users sorted by id.
    public func encode(to writer: inout PayloadWriter) {
        registry.encode(to: &writer)
        tenant.encode(to: &writer)
        licences.encode(to: &writer)
        writer.writeSorted(ous) { writer, ou in ou.encode(to: &writer) }
        writer.writeSorted(services) { writer, service in service.encode(to: &writer) }
        writer.writeSorted(users) { writer, user in user.encode(to: &writer) }
    }

    /// Reads what ``encode(to:)`` wrote.
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) {
        self.init(
            registry: try TenantRegistry(from: &reader), tenant: try Tenant?(from: &reader),
            licences: try LicencePool?(from: &reader),
            ous: try reader.readSorted { (reader) throws(PayloadDecodingError) in try OrganisationUnit(from: &reader) },
            services: try reader.readSorted { (reader) throws(PayloadDecodingError) in try Service(from: &reader) },
            users: try reader.readSorted { (reader) throws(PayloadDecodingError) in try User(from: &reader) })
    }
}
