import CumulusDomain
import Foundation
import Testing

@Suite struct EncodingTests {
    @Test func samplesCoverEveryEventType() throws {
        let names = try EventSamples.all().map(\.typeName)
        #expect(Set(names) == Set(DomainEvent.typeNames))
        #expect(names.count == DomainEvent.typeNames.count)
        #expect(Set(DomainEvent.typeNames).count == DomainEvent.typeNames.count)
    }

    @Test func everyEventTypeRoundTrips() throws {
        for event in try EventSamples.all() {
            let payload = event.encodePayload()
            let decoded = try DomainEvent.decode(
                type: event.typeName, schemaVersion: event.schemaVersion, payload: payload)
            #expect(decoded == event, "\(event.typeName) did not round-trip")
        }
    }

    @Test func everyTruncatedPayloadIsRefusedNotTrapped() throws {
        for event in try EventSamples.all() {
            let payload = event.encodePayload()
            for length in 0..<payload.count {
                #expect(throws: PayloadDecodingError.self) {
                    try DomainEvent.decode(
                        type: event.typeName, schemaVersion: event.schemaVersion, payload: Array(payload.prefix(length))
                    )
                }
            }
        }
    }

    @Test func trailingBytesUnknownTypesAndVersionsAreRefused() throws {
        let event = DomainEvent.tenantDeletionRequested(TenantDeletionRequested(tenant: TestWorld.tenant))
        #expect(throws: PayloadDecodingError.trailingBytes(count: 1)) {
            try DomainEvent.decode(
                type: "TenantDeletionRequested", schemaVersion: 1, payload: event.encodePayload() + [0])
        }
        #expect(throws: PayloadDecodingError.unknownEventType("TenantExploded")) {
            try DomainEvent.decode(type: "TenantExploded", schemaVersion: 1, payload: [])
        }
        #expect(throws: PayloadDecodingError.unsupportedSchemaVersion(type: "TenantDeletionRequested", version: 2)) {
            try DomainEvent.decode(type: "TenantDeletionRequested", schemaVersion: 2, payload: event.encodePayload())
        }
        #expect(throws: PayloadDecodingError.unsupportedSchemaVersion(type: "UserStateChanged", version: 3)) {
            try DomainEvent.decode(type: "UserStateChanged", schemaVersion: 3, payload: [])
        }
    }

    @Test func unknownEnumerationCodesAreRefused() {
        var payload = [UInt8](repeating: 0, count: 16)
        payload += [200, 0]
        #expect(throws: PayloadDecodingError.self) {
            try DomainEvent.decode(type: "PresenceChanged", schemaVersion: 1, payload: payload)
        }
    }

    @Test func presencePayloadIsEighteenBytes() {
        let event = DomainEvent.presenceChanged(
            PresenceChanged(user: UserID(UUID()), availability: .busy, activity: .inACall))
        #expect(event.encodePayload().count == 18)
        #expect(event.schemaVersion == 1)
    }

    @Test func userStateChangedIsVersionTwo() {
        #expect(UserStateChanged.schemaVersion == 2)
    }

    @Test func varintsAndZigzagAtBoundaries() throws {
        let values: [Int64] = [0, 1, -1, 63, -64, 64, -65, 127, 128, 16_383, 16_384, .max, .min]
        var writer = PayloadWriter()
        for value in values { writer.writeVarInt(value) }
        writer.writeVarUInt(.max)
        writer.writeInt64(-1_795_000_000_000_000)
        writer.writeUInt16(0xBEEF)
        var reader = PayloadReader(writer.bytes)
        for value in values { #expect(try reader.readVarInt() == value) }
        #expect(try reader.readVarUInt() == .max)
        #expect(try reader.readInt64() == -1_795_000_000_000_000)
        #expect(try reader.readUInt16() == 0xBEEF)
        #expect(reader.isAtEnd)
        var small = PayloadWriter()
        small.writeVarUInt(127)
        #expect(small.bytes == [127])
        small.writeVarUInt(128)
        #expect(small.bytes == [127, 0x80, 0x01])
    }

    @Test func littleEndianLayoutIsStable() {
        var writer = PayloadWriter()
        writer.writeInt64(0x0102_0304_0506_0708)
        writer.writeString("é")
        #expect(writer.bytes == [8, 7, 6, 5, 4, 3, 2, 1, 2, 0xC3, 0xA9])
    }

    @Test func storedCodesAreAppendOnly() {
        // Changing any of these codes would change the meaning of events already in the log.
        #expect(Availability.storageOrder.map(\.code) == Array(0..<9))
        #expect(Availability.busy.code == 4)
        #expect(Activity.inACall.code == 5)
        #expect(LicenceKind.email.code == 11)
        #expect(TenantState.lab.code == 5)
        #expect(Set(Activity.storageOrder) == Set(Activity.allCases))
        #expect(Set(LicenceKind.storageOrder) == Set(LicenceKind.allCases))
        #expect(Set(TenantState.storageOrder) == Set(TenantState.allCases))
    }

    @Test func upcastsUserStateChangedV1() throws {
        let user = UserID(UUID())
        var writer = PayloadWriter()
        writer.write(UserStateChangedV1(user: user, state: .redirectedOnNoAnswer))
        let event = try DomainEvent.decode(type: "UserStateChanged", schemaVersion: 1, payload: writer.bytes)
        #expect(
            event
                == .userStateChanged(
                    UserStateChanged(user: user, state: .redirectedOnNoAnswer, responsibilityProfile: nil)))
    }

    /// Reads `Fixtures/user-state-v1.fixture`: records written by the first release (v1 payloads),
    /// `[u16 type length][type][u16 version][u32 payload length][payload]` after a header line.
    @Test func readsCommittedV1FixtureLog() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/user-state-v1.fixture")
        let bytes = [UInt8](try Data(contentsOf: url))
        let header = Array("CUMULUS-FIXTURE-1\n".utf8)
        #expect(Array(bytes.prefix(header.count)) == header)
        var offset = header.count
        func u16() -> Int {
            defer { offset += 2 }
            return Int(bytes[offset]) | Int(bytes[offset + 1]) << 8
        }
        func u32() -> Int {
            let low = u16()
            return low | u16() << 16
        }
        var events: [DomainEvent] = []
        while offset < bytes.count {
            let typeLength = u16()
            let type = String(decoding: bytes[offset..<(offset + typeLength)], as: UTF8.self)
            offset += typeLength
            let version = UInt16(u16())
            let length = u32()
            let payload = Array(bytes[offset..<(offset + length)])
            offset += length
            events.append(try DomainEvent.decode(type: type, schemaVersion: version, payload: payload))
        }
        let user = UserID(UUID(uuidString: "11111111-2222-4333-8444-555555555555")!)
        #expect(
            events == [
                .userStateChanged(UserStateChanged(user: user, state: .custom("Break"), responsibilityProfile: nil)),
                .userStateChanged(UserStateChanged(user: user, state: .afterCallWork, responsibilityProfile: nil)),
                .userStateChanged(
                    UserStateChanged(user: user, state: .redirectedOnNoAnswer, responsibilityProfile: nil)),
                .presenceChanged(PresenceChanged(user: user, availability: .busy, activity: .inACall)),
                .userStateChanged(
                    UserStateChanged(user: user, state: .custom("Available"), responsibilityProfile: "Sales")),
            ])
    }

    @Test func decodedEventsFoldIntoUserState() throws {
        let user = UserID(UUID())
        var state = User.evolve(
            nil,
            .userCreated(
                UserCreated(
                    user: user, tenant: TestWorld.tenant, ou: TestWorld.root, upn: PersonalData("a@b.co"),
                    displayName: PersonalData("A"))))
        state = User.evolve(state, .presenceChanged(PresenceChanged(user: user, availability: .away, activity: .away)))
        state = User.evolve(
            state, .userStateChanged(UserStateChanged(user: user, state: .afterCallWork, responsibilityProfile: "P")))
        #expect(state?.availability == .away)
        #expect(state?.userState == .afterCallWork)
        #expect(state?.responsibilityProfile == "P")
    }
}
