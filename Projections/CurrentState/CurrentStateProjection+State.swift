import CumulusDomain

extension CurrentStateProjection {
    /// Every entity with every field, sorted by id; domain values use their payload encoding.
    public func encodeState() -> [UInt8] {
        var writer = PayloadWriter(capacity: 4096)
        writer.writeDictionary(tenants) { writer, tenant in writer.writeTenant(tenant) }
        writer.writeDictionary(organisationUnits) { writer, ou in
            writer.write(ou.tenant)
            writer.write(ou.parent)
            writer.write(ou.name)
            writer.write(ou.lifecycle)
            writer.write(ou.contents.sorted())  // sorted, so equal states encode to equal bytes
        }
        writer.writeDictionary(services) { writer, service in
            writer.write(service.tenant)
            writer.write(service.ou)
            writer.write(service.name)
            writer.write(service.type)
            writer.write(service.source)
            writer.write(service.distribution)
            writer.write(service.lifecycle)
        }
        writer.writeDictionary(users) { writer, user in
            writer.write(user.tenant)
            writer.write(user.ou)
            writer.write(user.upn)
            writer.write(user.displayName)
            writer.write(user.lifecycle)
            writer.writeDictionary(user.memberships) { writer, role in writer.write(role) }
            writer.write(user.availability)
            writer.write(user.activity)
            writer.write(user.userState)
            writer.write(user.responsibilityProfile)
        }
        writer.writeDictionary(licencePools) { writer, pool in
            writer.writeArray(LicenceKind.allCases.filter { pool.contingents[$0] != nil }) { writer, kind in
                writer.write(kind)
                writer.write(pool.contingent(kind))
            }
            writer.writeDictionary(pool.serviceLicences) { writer, kinds in writer.writeKinds(kinds) }
            writer.writeDictionary(pool.userLicences) { writer, kinds in writer.writeKinds(kinds) }
        }
        writer.writeDictionary(latestKeys.dictionary) { writer, keys in
            writer.write(keys.presence)
            writer.write(keys.userState)
            writer.write(keys.profile)
        }
        return writer.bytes
    }

    /// Reads a state written by ``encodeState()``.
    /// - Throws: ``ProjectionStateError/corruptState(projection:reason:)``.
    public init(decodingState bytes: [UInt8]) throws(ProjectionStateError) {
        self = try decodeState(bytes, projection: Self.name) { reader throws(PayloadDecodingError) in
            var state = CurrentStateProjection()
            let tenantCount = try reader.readCount()
            for _ in 0..<tenantCount {
                let id: TenantID = try reader.read()
                state.tenants[id] = try reader.readTenant(id: id)
            }
            let ous: [OUID: (TenantID, OUID?, String, Lifecycle, [OUContent])] = try reader.readDictionary {
                reader throws(PayloadDecodingError) in
                (try reader.read(), try reader.read(), try reader.read(), try reader.read(), try reader.read())
            }
            for (id, fields) in ous {
                let created = OUCreated(ou: id, tenant: fields.0, parent: fields.1, name: fields.2)
                guard var ou = OrganisationUnit.evolve(nil, .ouCreated(created)) else { continue }
                ou.lifecycle = fields.3
                ou.contents = Set(fields.4)
                state.organisationUnits[id] = ou
            }
            let serviceCount = try reader.readCount()
            for _ in 0..<serviceCount {
                let id: ServiceID = try reader.read()
                let provisioned = ServiceProvisioned(
                    service: id, tenant: try reader.read(), ou: try reader.read(), name: try reader.read(),
                    type: try reader.read(), source: try reader.read(), provisionedBy: nil)
                guard var service = Service.evolve(nil, .serviceProvisioned(provisioned)) else { continue }
                service.distribution = try reader.read()
                service.lifecycle = try reader.read()
                state.services[id] = service
            }
            let userCount = try reader.readCount()
            for _ in 0..<userCount {
                let id: UserID = try reader.read()
                let created = UserCreated(
                    user: id, tenant: try reader.read(), ou: try reader.read(), upn: try reader.read(),
                    displayName: try reader.read())
                guard var user = User.evolve(nil, .userCreated(created)) else { continue }
                user.lifecycle = try reader.read()
                user.memberships = try reader.readDictionary { reader throws(PayloadDecodingError) in try reader.read()
                }
                user.availability = try reader.read()
                user.activity = try reader.read()
                user.userState = try reader.read()
                user.responsibilityProfile = try reader.read()
                state.users[id] = user
                for service in user.memberships.keys { state.members[service, default: []].insert(id) }
            }
            let poolCount = try reader.readCount()
            for _ in 0..<poolCount {
                let tenant: TenantID = try reader.read()
                var pool: LicencePool? = LicencePool(tenant: tenant)
                let contingents = try reader.readArray { reader throws(PayloadDecodingError) in
                    (try reader.read(LicenceKind.self), try reader.read(Int.self))
                }
                for (kind, contingent) in contingents {
                    pool = LicencePool.evolve(
                        pool,
                        .licenceContingentSet(LicenceContingentSet(tenant: tenant, kind: kind, contingent: contingent)))
                }
                let serviceLicences: [ServiceID: [LicenceKind]] = try reader.readDictionary {
                    reader throws(PayloadDecodingError) in try reader.read()
                }
                for (service, kinds) in serviceLicences {
                    for kind in kinds {
                        pool = LicencePool.evolve(
                            pool,
                            .serviceLicenceAssigned(
                                ServiceLicenceAssigned(tenant: tenant, service: service, kind: kind)))
                    }
                }
                let userLicences: [UserID: [LicenceKind]] = try reader.readDictionary {
                    reader throws(PayloadDecodingError) in try reader.read()
                }
                for (user, kinds) in userLicences {
                    for kind in kinds {
                        pool = LicencePool.evolve(
                            pool, .userLicenceAssigned(UserLicenceAssigned(tenant: tenant, user: user, kind: kind)))
                    }
                }
                state.licencePools[tenant] = pool
            }
            state.latestKeys = LatestKeysTable(
                try reader.readDictionary { reader throws(PayloadDecodingError) in
                    LatestKeys(presence: try reader.read(), userState: try reader.read(), profile: try reader.read())
                })
            return state
        }
    }
}

extension PayloadWriter {
    mutating func writeKinds(_ kinds: Set<LicenceKind>) {
        write(LicenceKind.allCases.filter { kinds.contains($0) })
    }

    mutating func writeTenant(_ tenant: Tenant) {
        write(tenant.name)
        write(tenant.o365Domain)
        write(tenant.azureTenantID)
        write(tenant.partner)
        write(tenant.rootOU)
        write(tenant.widgetKey)
        write(tenant.state)
        write(tenant.defaultOU)
        write(tenant.lifecycle)
        write(tenant.securityGroups)
        write(tenant.companyDetails)
        write(tenant.technicalContact)
        write(tenant.dataPrivacy)
        write(tenant.provisioning)
        write(tenant.outbound)
        write(tenant.interact)
        write(tenant.assistant)
        write(tenant.attendantConsole)
        write(tenant.presenceTracking)
        write(tenant.presenceTrackingPermissionGranted)
        write(tenant.instantMessaging)
        write(tenant.externalTask)
        write(tenant.email)
        write(tenant.timeZone)
        write(tenant.pendingScriptItems)
        write(tenant.roleAssignments)
    }
}

extension PayloadReader {
    /// Reads the fields `writeTenant` wrote for the tenant `id`.
    mutating func readTenant(id: TenantID) throws(PayloadDecodingError) -> Tenant {
        let created = TenantCreated(
            tenant: id, name: try read(), o365Domain: try read(), azureTenantID: try read(), partner: try read(),
            rootOU: try read(), widgetKey: try read(), state: try read())
        var tenant = Tenant(created: created)
        tenant.defaultOU = try read()
        tenant.lifecycle = try read()
        tenant.securityGroups = try read()
        tenant.companyDetails = try read()
        tenant.technicalContact = try read()
        tenant.dataPrivacy = try read()
        tenant.provisioning = try read()
        tenant.outbound = try read()
        tenant.interact = try read()
        tenant.assistant = try read()
        tenant.attendantConsole = try read()
        tenant.presenceTracking = try read()
        tenant.presenceTrackingPermissionGranted = try read()
        tenant.instantMessaging = try read()
        tenant.externalTask = try read()
        tenant.email = try read()
        tenant.timeZone = try read()
        tenant.pendingScriptItems = try read()
        tenant.roleAssignments = try read()
        return tenant
    }
}
