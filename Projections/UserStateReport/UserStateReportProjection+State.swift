import CumulusDomain

extension UserStateReportProjection {
    /// Tenants (switches, users), users (identity, timeline, rows) and OU names, sorted by id; user-state names
    /// and profiles are spelled out, so the bytes do not depend on the order in which names were first seen.
    public func encodeState() -> [UInt8] {
        var writer = PayloadWriter(capacity: 1024)
        writer.writeDictionary(tenants) { writer, slot in
            let tenant = tenantSlots[slot]
            writer.writeArray(tenant.switches) { writer, change in
                writer.write(change.key)
                writer.write(change.isOn)
            }
            writer.write(tenant.users.map { users[$0].id })
        }
        writer.writeDictionary(slotsByID(users, id: \.id)) { writer, slot in
            let user = users[slot]
            writer.write(user.tenant)
            writer.write(user.userPrincipalName)
            writer.writeArray(user.identities) { writer, change in
                writer.write(change.key)
                writer.write(change.name.map { names.name($0) ?? "" })
                writer.write(change.ou)
            }
            writer.writeTimeline(user.timeline, names)
            writer.writeArray(user.rows) { writer, row in
                writer.write(row.start)
                writer.write(row.end)
                writer.writeState(row.state, names)
                writer.writeName(row.identity.name, names)
                writer.write(row.identity.ou)
            }
        }
        writer.writeDictionary(ouNames) { writer, name in writer.write(name) }
        writer.writeDictionary(historyRequests) { writer, key in writer.write(key) }
        return writer.bytes
    }

    /// Reads a state written by ``encodeState()``.
    /// - Throws: ``ProjectionStateError/corruptState(projection:reason:)``.
    public init(decodingState bytes: [UInt8]) throws(ProjectionStateError) {
        self = try decodeState(bytes, projection: Self.name) { reader throws(PayloadDecodingError) in
            var state = UserStateReportProjection()
            var members: [[UserID]] = []
            let tenantCount = try reader.readCount()
            for _ in 0..<tenantCount {
                let id: TenantID = try reader.read()
                let switches = try reader.readArray { reader throws(PayloadDecodingError) in
                    ReportingSwitch(key: try reader.read(), isOn: try reader.read())
                }
                members.append(try reader.read())
                state.tenants[id] = state.tenantSlots.count
                state.tenantSlots.append(TenantReporting(id: id, switches: switches))
            }
            let userCount = try reader.readCount()
            state.users.reserveCapacity(userCount)
            for _ in 0..<userCount {
                let id: UserID = try reader.read()
                let tenant: TenantID = try reader.read()
                guard let tenantSlot = state.tenants[tenant] else {
                    throw .malformed(at: reader.offset, reason: "user \(id) of unknown tenant \(tenant)")
                }
                let userPrincipalName: String = try reader.read()
                let identities = try reader.readArray { reader throws(PayloadDecodingError) in
                    let key: ChangeKey = try reader.read()
                    let name: String? = try reader.read()
                    return IdentityChange(key: key, name: name.map { state.names.code(for: $0) }, ou: try reader.read())
                }
                guard let created = identities.first, created.applied(to: nil) != nil else {
                    throw .malformed(at: reader.offset, reason: "user \(id) without its creation")
                }
                var user = ReportedUser(
                    id: id, tenant: tenant, tenantSlot: tenantSlot, userPrincipalName: userPrincipalName,
                    created: created)
                user.restoreIdentities(identities)
                user.timeline = try reader.readTimeline(&state.names)
                user.rows = try reader.readArray { reader throws(PayloadDecodingError) in
                    StoredRow(
                        start: try reader.read(), end: try reader.read(), state: try reader.readState(&state.names),
                        identity: RowIdentity(name: try reader.readName(&state.names), ou: try reader.read()))
                }
                place(user, as: id, index: &state.userIndex, users: &state.users)
            }
            for (slot, ids) in members.enumerated() {
                for id in ids {
                    guard let user = state.userIndex[id] else {
                        throw .malformed(at: reader.offset, reason: "tenant lists unknown user \(id)")
                    }
                    state.tenantSlots[slot].users.append(user)
                }
            }
            state.ouNames = try reader.readDictionary { reader throws(PayloadDecodingError) in try reader.readString() }
            state.historyRequests = try reader.readDictionary { reader throws(PayloadDecodingError) in try reader.read()
            }
            return state
        }
    }
}
