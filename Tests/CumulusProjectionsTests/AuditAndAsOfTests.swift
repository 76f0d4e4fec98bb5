import CumulusDomain
import CumulusLog
import Testing

@testable import CumulusProjections

@Suite struct AuditTests {
    static let clearKey = "c2VjcmV0LWtleQ"

    @Test func listsWhoWhenAndOldToNewWithSecretsMasked() throws {
        var log = LogBuilder()
        log.append(World.creation(), at: minute(0))
        let secret = try Secret(
            acsConnectionString: "endpoint=https://contoso-acs.communication.azure.com/;accesskey=\(Self.clearKey)",
            field: "acsConnectionString")
        let admin = "tenantAdmin:\(World.tenant)"
        let changed = log.append(
            .interactSettingsChanged(
                InteractSettingsChanged(
                    tenant: World.tenant,
                    settings: InteractSettings(
                        enabled: true, acsConnectionString: secret, sessionRecoveryTimeoutSeconds: 45))),
            at: minute(5), by: admin)
        log.append(.tenantRenamed(TenantRenamed(tenant: World.tenant, name: "Contoso AG")), at: minute(6))
        let audit = try #require(try log.rebuild().projection(AuditProjection.self))
        let entries = audit.entries(for: .tenant(World.tenant))
        #expect(
            entries.map(\.eventType) == [
                "TenantCreated", "LicenceContingentSet", "InteractSettingsChanged", "TenantRenamed",
            ])
        let interact = entries[2]
        #expect(interact.actor == admin)
        #expect(interact.position == changed.position)
        #expect(interact.occurredAt == timestamp(5))
        #expect(interact.recordedAt == changed.recordedAt)
        #expect(
            interact.changes == [
                FieldChange(field: "interact.enabled", old: "false", new: "true"),
                FieldChange(
                    field: "interact.acsConnectionString", old: "", new: "endpoint=https://c…;accesskey=****"),
                FieldChange(field: "interact.sessionRecoveryTimeoutSeconds", old: "20", new: "45"),
            ])
        #expect(entries[3].changes == [FieldChange(field: "name", old: "Contoso", new: "Contoso AG")])
        let everything = ReportTable.audit(entries)
        for output in [everything.csv(), everything.json(), everything.textTable()] {
            #expect(!output.contains(Self.clearKey))
        }
        #expect(!String(describing: audit).contains(Self.clearKey))
    }

    @Test func auditsUsersAndServicesFromTheirOwnAndTheLicenceStreams() throws {
        var log = LogBuilder()
        log.append(World.creation(), at: minute(0))
        log.append(World.user(World.anna, "Anna Muster", upn: "anna@contoso.com"), at: minute(1))
        log.append(
            .userLicenceAssigned(UserLicenceAssigned(tenant: World.tenant, user: World.anna, kind: .contactCenterUser)),
            at: minute(2))
        let audit = try #require(try log.rebuild().projection(AuditProjection.self))
        let entries = audit.entries(for: .user(World.anna))
        #expect(entries.count == 2)
        #expect(entries[0].changes.contains(FieldChange(field: "upn", old: nil, new: "anna@contoso.com")))
        #expect(entries[1].changes == [FieldChange(field: "licences", old: "", new: "contactCenterUser")])
    }
}

@Suite struct AsOfTests {
    @Test func anOUsAuditListsEachContentChangeNotTheWholeContentsEachTime() throws {
        var log = LogBuilder()
        log.append(World.creation(), at: minute(0))
        log.append(World.user(World.anna, "Anna Muster", upn: "anna@contoso.com"), at: minute(1))
        log.append(World.user(World.ben, "Ben Keller", upn: "ben@contoso.com"), at: minute(2))
        let audit = try #require(try log.rebuild().projection(AuditProjection.self))
        let contentChanges = audit.entries(for: .organisationUnit(World.sales)).flatMap(\.changes)
            .filter { $0.field == "contents" }
        // One change per added user, each naming only that user: the audit stays linear in the OU's size.
        #expect(
            contentChanges == [
                FieldChange(field: "contents", old: nil, new: "user \(World.anna)"),
                FieldChange(field: "contents", old: nil, new: "user \(World.ben)"),
            ])
    }

    @Test func buildsAnyViewAsOfAPositionOrARecordedTime() throws {
        let log = UserStateReportTests.annasDay()
        // Position of the switch-off at minute 50: everything after it is left out.
        let switchOff = try #require(log.events.firstIndex { $0.occurredAt == timestamp(50) })
        let cut = log.events[switchOff].position
        var byPosition = ProjectionSet.standard()
        try byPosition.apply(contentsOf: log.events, asOf: .position(cut))
        var prefix = ProjectionSet.standard()
        try prefix.apply(contentsOf: log.events[...switchOff])
        let asOf = try #require(byPosition.projection(UserStateReportProjection.self))
        #expect(asOf.rows() == prefix.projection(UserStateReportProjection.self)?.rows())
        #expect(asOf.rows().count == 4)  // Anna's three, and Ben's one with nothing known (domain.md §9)
        #expect(!asOf.isReportingOn(for: World.tenant))
        #expect(byPosition.position == cut)

        var byTime = ProjectionSet.standard()
        try byTime.apply(contentsOf: log.events, asOf: .recordedAt(log.events[switchOff].recordedAt))
        #expect(byTime.projection(UserStateReportProjection.self)?.rows() == asOf.rows())
    }

    @Test func aCheckpointOfAnotherCodeVersionAsksForARebuild() throws {
        let full = try UserStateReportTests.annasDay().rebuild()
        var checkpoint = try #require(full.checkpoints().first { $0.name == UserStateReportProjection.name })
        checkpoint.state[0] = UInt8(UserStateReportProjection.codeVersion + 1)
        var restored = ProjectionSet.standard()
        let outcome = try restored.restore(checkpoint)
        #expect(
            outcome
                == .rebuildRequired(
                    stored: UInt64(UserStateReportProjection.codeVersion + 1),
                    current: UserStateReportProjection.codeVersion))
        #expect(restored.resumePosition == .start)
        #expect(throws: ProjectionStateError.self) {
            try restored.restore(
                Checkpoint(
                    name: UserStateReportProjection.name, position: GlobalPosition(3),
                    state: [UInt8(UserStateReportProjection.codeVersion), 0xFF]))
        }
        #expect(throws: ProjectionStateError.unknownProjection("nope")) {
            try restored.restore(Checkpoint(name: "nope", position: GlobalPosition(3), state: [1]))
        }
    }
}
