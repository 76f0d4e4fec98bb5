import CumulusDomain

extension UserStateReportProjection {
    /// Tenants (switches, users), users (identity, timeline, rows) and OU names, sorted by id.
    public func encodeState() -> [UInt8] {
        var writer = PayloadWriter(capacity: 1024)
        writer.writeDictionary(tenants) { writer, tenant in
            writer.writeArray(tenant.switches) { writer, change in
                writer.write(change.key)
                writer.write(change.isOn)
            }
            writer.write(tenant.users)
        }
        writer.writeDictionary(users) { writer, user in
            writer.write(user.tenant)
            writer.write(user.ou)
            writer.write(user.name)
            writer.write(user.userPrincipalName)
            writer.write(user.timeline)
            writer.writeArray(user.rows) { writer, row in
                writer.write(row.start)
                writer.write(row.end)
                writer.write(row.state)
            }
        }
        writer.writeDictionary(ouNames) { writer, name in writer.write(name) }
        return writer.bytes
    }

    /// Reads a state written by ``encodeState()``.
    /// - Throws: ``ProjectionStateError/corruptState(projection:reason:)``.
    public init(decodingState bytes: [UInt8]) throws(ProjectionStateError) {
        self = try decodeState(bytes, projection: Self.name) { reader throws(PayloadDecodingError) in
            var state = UserStateReportProjection()
            state.tenants = try reader.readDictionary { reader throws(PayloadDecodingError) in
                let switches = try reader.readArray { reader throws(PayloadDecodingError) in
                    ReportingSwitch(key: try reader.read(), isOn: try reader.read())
                }
                return TenantReporting(switches: switches, users: try reader.read())
            }
            state.users = try reader.readDictionary { reader throws(PayloadDecodingError) in
                var user = ReportedUser(
                    tenant: try reader.read(), ou: try reader.read(), name: try reader.read(),
                    userPrincipalName: try reader.read())
                user.timeline = try reader.read()
                user.rows = try reader.readArray { reader throws(PayloadDecodingError) in
                    StoredRow(start: try reader.read(), end: try reader.read(), state: try reader.read())
                }
                return user
            }
            state.ouNames = try reader.readDictionary { reader throws(PayloadDecodingError) in try reader.readString() }
            return state
        }
    }
}
