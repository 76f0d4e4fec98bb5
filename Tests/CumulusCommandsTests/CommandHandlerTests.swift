import CumulusCommands
import CumulusDomain
import CumulusLMDB
import CumulusLog
import CumulusTesting
import Foundation
import Testing

/// Commands on the real log: load, decide, append with expected versions, races with one winner.
@Suite("Commands run on the log")
struct CommandHandlerTests {
    let log: TemporaryEventLog
    let tenant = TenantID(UUID())
    let root = OUID(UUID())
    let now: Int64 = 1_795_000_000_000_000

    init() throws {
        log = try TemporaryEventLog(durability: .deferred)
    }

    func request(_ command: Command, by actor: Actor = .systemAdmin, id: UUID? = nil) -> CommandRequest {
        CommandRequest(command: command, actor: actor, occurredAt: now, eventID: id)
    }

    func createTenant(
        _ id: TenantID, domain: String, azure: String = UUID().uuidString, root: OUID = OUID(UUID())
    ) -> Command {
        .createTenant(
            tenant: id, name: "Tenant \(id.description.prefix(8))", o365Domain: domain, azureTenantID: azure,
            partner: nil, rootOU: root, rootOUName: "Root", widgetKey: UUID())
    }

    func setUpTenant(_ handler: CommandHandler, users: Int) async throws -> [UserID] {
        _ = try await handler.handle(request(createTenant(tenant, domain: "contoso.onmicrosoft.com", root: root)))
        var created: [UserID] = []
        for index in 0..<users {
            let user = UserID(UUID())
            _ = try await handler.handle(
                request(
                    .createUser(
                        tenant: tenant, user: user, upn: "u\(index)@contoso.com", displayName: "U \(index)", ou: nil))
            )
            created.append(user)
        }
        return created
    }

    @Test func acceptedCommandsBecomeEventsInTheirStreams() async throws {
        let handler = CommandHandler(store: log.store)
        let users = try await setUpTenant(handler, users: 2)
        let tenantStream = try await log.store.read(stream: StreamName("tenant-\(tenant)"))
        #expect(tenantStream.first?.type == "TenantCreated")
        #expect(tenantStream.first?.actor == "systemAdmin")
        #expect(tenantStream.first?.occurredAt == Timestamp(microsecondsSinceEpoch: now))
        let userStream = try await log.store.read(stream: StreamName("user-\(users[0])"))
        #expect(userStream.map(\.type) == ["UserCreated"])
        let decoded = try DomainEvent.decode(
            type: userStream[0].type, schemaVersion: userStream[0].schemaVersion, payload: userStream[0].payload)
        guard case .userCreated(let created) = decoded else {
            Issue.record("decoded \(decoded)")
            return
        }
        #expect(created.user == users[0] && created.tenant == tenant)
        // A new handler (another process, a restart) rebuilds the same model from the log.
        let fresh = CommandHandler(store: log.store)
        try await fresh.catchUp()
        #expect(await fresh.currentModel.tenants[tenant]?.users.count == 2)
    }

    @Test func aRefusedCommandAppendsNothingAndSaysWhy() async throws {
        let handler = CommandHandler(store: log.store)
        _ = try await setUpTenant(handler, users: 1)
        let before = try await log.store.lastPosition()
        await #expect {
            _ = try await handler.handle(
                request(.changeTenantState(tenant: tenant, state: .suspended), by: .tenantAdmin(tenant)))
        } throws: { error in
            guard case .refused(.permissionDenied(let denied)) = error as? CommandError else { return false }
            return denied.description.contains("tenantAdmin") && denied.description.contains("rule")
        }
        await #expect {
            _ = try await handler.handle(request(.requestTenantDeletion(tenant: tenant, confirmation: "yes")))
        } throws: { error in
            if case .refused = error as? CommandError { return true }
            return false
        }
        #expect(try await log.store.lastPosition() == before)
    }

    @Test func racingForTheLastFreeLicenceExactlyOneWins() async throws {
        let setup = CommandHandler(store: log.store)
        let users = try await setUpTenant(setup, users: 24)
        _ = try await setup.handle(
            request(.setLicenceContingent(tenant: tenant, kind: .attendantConsole, contingent: 1)))
        // Three handlers stand for three processes; each serves eight racing tasks.
        let handlers = (0..<3).map { _ in CommandHandler(store: log.store) }
        let outcomes = await withTaskGroup(of: Result<CommandOutcome, CommandError>.self) { group in
            for (index, user) in users.enumerated() {
                let handler = handlers[index % 3]
                let racing = request(.assignUserLicence(user: user, kind: .attendantConsole), by: .tenantAdmin(tenant))
                group.addTask {
                    do throws(CommandError) { return .success(try await handler.handle(racing)) } catch {
                        return .failure(error)
                    }
                }
            }
            var all: [Result<CommandOutcome, CommandError>] = []
            for await outcome in group { all.append(outcome) }
            return all
        }
        let winners = outcomes.filter { (try? $0.get()) != nil }.count
        #expect(winners == 1, "\(winners) tasks got the last licence")
        for outcome in outcomes {
            if case .failure(let error) = outcome {
                #expect(
                    error
                        == .refused(
                            .licenceExhausted(LicenceExhausted(kind: .attendantConsole, used: 1, contingent: 1))))
            }
        }
        let stream = try await log.store.read(stream: StreamName("licences-\(tenant)"))
        #expect(stream.filter { $0.type == "UserLicenceAssigned" }.count == 1)
    }

    @Test func tenantsRacingForTheSameDomainOrAzureIDExactlyOneWins() async throws {
        let handlers = (0..<2).map { _ in CommandHandler(store: log.store) }
        for field in ["domain", "azure"] {
            let sharedAzure = UUID().uuidString
            let outcomes = await withTaskGroup(of: Bool.self) { group in
                for index in 0..<10 {
                    let handler = handlers[index % 2]
                    let command =
                        field == "domain"
                        ? createTenant(TenantID(UUID()), domain: "shared.onmicrosoft.com")
                        : createTenant(
                            TenantID(UUID()), domain: "t\(index)-\(UUID().uuidString.prefix(6)).onmicrosoft.com",
                            azure: sharedAzure)
                    let creation = request(command)
                    group.addTask { (try? await handler.handle(creation)) != nil }
                }
                var all: [Bool] = []
                for await outcome in group { all.append(outcome) }
                return all
            }
            #expect(
                outcomes.filter { $0 }.count == 1,
                "racing for the same \(field): \(outcomes.filter { $0 }.count) winners")
        }
    }

    @Test func tenantDeletionIsOneAtomicMultiStreamAppend() async throws {
        let handler = CommandHandler(store: log.store)
        _ = try await setUpTenant(handler, users: 0)
        var services: [ServiceID] = []
        _ = try await handler.handle(
            request(.setLicenceContingent(tenant: tenant, kind: .advancedRouting, contingent: 5)))
        for index in 0..<3 {
            let service = ServiceID(UUID())
            services.append(service)
            _ = try await handler.handle(
                request(
                    .provisionService(
                        tenant: tenant, service: service, name: "S\(index)", type: .advancedRouting, ou: nil,
                        source: .backend, owner: nil))
            )
        }
        let outcome = try await handler.handle(request(.requestTenantDeletion(tenant: tenant, confirmation: "YES")))
        guard case .appended(let results) = outcome else {
            Issue.record("deletion was not appended: \(outcome)")
            return
        }
        let streams = Set(results.map(\.stream.rawValue))
        #expect(streams.contains("tenant-\(tenant)"))
        for service in services {
            #expect(streams.contains("service-\(service)"), "service \(service) not in the deletion")
        }
        // One append: its positions form one contiguous range.
        let positions = results.flatMap { Array($0.firstPosition.rawValue...$0.lastPosition.rawValue) }.sorted()
        #expect(positions == Array((positions.first ?? 0)...(positions.last ?? 0)))
        await #expect(throws: CommandError.self) {
            _ = try await handler.handle(request(.renameTenant(tenant: tenant, name: "Too late")))
        }
    }

    @Test func aFeedBatchKeepsEachEventsOwnChecks() async throws {
        let handler = CommandHandler(store: log.store)
        let users = try await setUpTenant(handler, users: 3)
        let feed = Actor.presenceFeed(tenant)
        let duplicateID = UUID()
        var batch: [CommandRequest] = []
        for index in 0..<300 {
            batch.append(
                request(
                    .recordPresence(
                        user: users[index % 3], availability: index % 2 == 0 ? .busy : .available, activity: nil),
                    by: feed))
        }
        let unknownUser = UserID(UUID())
        batch.append(request(.recordPresence(user: unknownUser, availability: .busy, activity: nil), by: feed))
        batch.append(
            request(.recordPresence(user: users[0], availability: .away, activity: nil), by: feed, id: duplicateID))
        batch.append(
            request(.recordPresence(user: users[0], availability: .away, activity: nil), by: feed, id: duplicateID))
        batch.append(
            request(
                .recordPresence(user: users[1], availability: .away, activity: nil), by: .presenceFeed(TenantID(UUID()))
            ))
        let before = try await log.store.lastPosition()
        let results = try await handler.handle(batch: batch)
        #expect(results.count == 304)
        #expect(results.prefix(300).allSatisfy { (try? $0.get())?.eventCount == 1 })
        if case .failure(.refused(let error)) = results[300] {
            #expect(error.description.contains("does not exist"), "\(error.description)")
        } else {
            Issue.record("an unknown user's presence was accepted: \(results[300])")
        }
        #expect((try? results[301].get())?.eventCount == 1)
        if case .success(.alreadyStored) = results[302] {
        } else {
            Issue.record("duplicate id stored twice: \(results[302])")
        }
        if case .failure(.refused(.permissionDenied)) = results[303] {
        } else {
            Issue.record("another tenant's feed was accepted: \(results[303])")
        }
        #expect(try await log.store.lastPosition().rawValue == before.rawValue + 301)
        // The same id later on its own is still recognised.
        let again = try await handler.handle(
            request(.recordPresence(user: users[0], availability: .away, activity: nil), by: feed, id: duplicateID))
        if case .alreadyStored = again {} else { Issue.record("duplicate id appended again: \(again)") }
    }

    @Test func suspendedTenantsRefuseFeedsAndEveryoneButSystemAdmin() async throws {
        let handler = CommandHandler(store: log.store)
        let users = try await setUpTenant(handler, users: 1)
        _ = try await handler.handle(request(.changeTenantState(tenant: tenant, state: .suspended)))
        let results = try await handler.handle(batch: [
            request(.recordPresence(user: users[0], availability: .busy, activity: nil), by: .presenceFeed(tenant)),
            request(.renameTenant(tenant: tenant, name: "Renamed"), by: .systemAdmin),
        ])
        if case .failure(.refused) = results[0] {
        } else {
            Issue.record("suspended tenant accepted presence: \(results[0])")
        }
        #expect((try? results[1].get()) != nil, "systemAdmin was refused on a suspended tenant: \(results[1])")
    }

    @Test func atomicBatchesAreAllOrNothing() async throws {
        let handler = CommandHandler(store: log.store)
        _ = try await setUpTenant(handler, users: 0)
        let before = try await log.store.lastPosition()
        let user = UserID(UUID())
        let (refused, none) = try await handler.handle(atomically: [
            request(.createUser(tenant: tenant, user: user, upn: "a@contoso.com", displayName: "A", ou: nil)),
            // The transcription contingent is 0: refused, so the user is not created either.
            request(.assignUserLicence(user: user, kind: .transcription)),
        ])
        #expect((try? refused[0].get()) != nil && none.isEmpty)
        if case .failure(.refused(.licenceExhausted)) = refused[1] {} else { Issue.record("\(refused[1])") }
        #expect(try await log.store.lastPosition() == before)
        let (accepted, appended) = try await handler.handle(atomically: [
            request(.createUser(tenant: tenant, user: user, upn: "a@contoso.com", displayName: "A", ou: nil)),
            request(.recordPresence(user: user, availability: .busy, activity: nil), by: .presenceFeed(tenant)),
        ])
        #expect(accepted.allSatisfy { (try? $0.get()) != nil })
        // The user's stream (creation and presence), its OU's contents and the tenant's UPN reservations.
        #expect(appended.count == 3, "one append per stream: \(appended)")
        #expect(try await log.store.read(stream: StreamName("user-\(user)")).count == 2)
    }
}

@Suite("Command conflicts that no retry can fix")
struct StreamConflictTests {
    @Test func creatingAnEntityWhoseIDIsTakenIsRefusedNotRetriedForever() async throws {
        let log = try TemporaryEventLog(durability: .deferred)
        let handler = CommandHandler(store: log.store, maximumAttempts: 5)
        let root = OUID(UUID())
        func create(_ tenant: TenantID, domain: String) -> CommandRequest {
            CommandRequest(
                command: .createTenant(
                    tenant: tenant, name: domain, o365Domain: domain, azureTenantID: UUID().uuidString, partner: nil,
                    rootOU: root, rootOUName: "Root", widgetKey: UUID()),
                actor: .systemAdmin, occurredAt: 0)
        }
        _ = try await handler.handle(create(TenantID(UUID()), domain: "one.onmicrosoft.com"))
        let before = try await log.store.lastPosition()
        await #expect(throws: CommandError.streamConflict(stream: "ou-\(root)")) {
            _ = try await handler.handle(create(TenantID(UUID()), domain: "two.onmicrosoft.com"))
        }
        #expect(try await log.store.lastPosition() == before)
    }
}
