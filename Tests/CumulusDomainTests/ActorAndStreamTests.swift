import CumulusDomain
import Foundation
import Testing

@Suite struct ActorAndStreamTests {
    static let t = TenantID(UUID(uuidString: "6F1C1C52-8A4E-4A8E-9D3E-0D6C2F0B9A11")!)
    static let o = OUID(UUID(uuidString: "7f1c1c52-8a4e-4a8e-9d3e-0d6c2f0b9a11")!)
    static let s = ServiceID(UUID(uuidString: "8f1c1c52-8a4e-4a8e-9d3e-0d6c2f0b9a11")!)
    static let u = UserID(UUID(uuidString: "9f1c1c52-8a4e-4a8e-9d3e-0d6c2f0b9a11")!)
    static let p = PartnerID(UUID(uuidString: "af1c1c52-8a4e-4a8e-9d3e-0d6c2f0b9a11")!)

    static let everyKind: [Actor] = [
        .systemAdmin, .partnerAdmin(p), .tenantAdmin(t), .ouAdmin(t, o), .teamOwner(s), .teamOwnerLimited(s),
        .teamMember(s), .userSupervisor(t), .presenceFeed(t), .provisioningScript(t), .user(u), .guest,
    ]

    @Test func identifiersUseLowercaseCanonicalForm() {
        #expect(Self.t.description == "6f1c1c52-8a4e-4a8e-9d3e-0d6c2f0b9a11")
        #expect(TenantID(string: "6F1C1C52-8A4E-4A8E-9D3E-0D6C2F0B9A11") == Self.t)
        #expect(TenantID(string: "not-a-uuid") == nil)
        #expect(TenantID(string: "6f1c1c528a4e4a8e9d3e0d6c2f0b9a11") == nil)
    }

    @Test func streamNames() {
        #expect(AggregateStream.tenant(Self.t).rawValue == "tenant-6f1c1c52-8a4e-4a8e-9d3e-0d6c2f0b9a11")
        #expect(AggregateStream.ou(Self.o).rawValue == "ou-7f1c1c52-8a4e-4a8e-9d3e-0d6c2f0b9a11")
        #expect(AggregateStream.service(Self.s).rawValue == "service-8f1c1c52-8a4e-4a8e-9d3e-0d6c2f0b9a11")
        #expect(AggregateStream.user(Self.u).rawValue == "user-9f1c1c52-8a4e-4a8e-9d3e-0d6c2f0b9a11")
        #expect(AggregateStream.licences(Self.t).rawValue == "licences-6f1c1c52-8a4e-4a8e-9d3e-0d6c2f0b9a11")
        #expect(AggregateStream.tenantRegistry.rawValue == "registry-tenants")
    }

    @Test func presenceAndUserStateGoToTheUsersStream() {
        let presence = DomainEvent.presenceChanged(
            PresenceChanged(user: Self.u, availability: .busy, activity: .inACall))
        let state = DomainEvent.userStateChanged(
            UserStateChanged(user: Self.u, state: .afterCallWork, responsibilityProfile: nil))
        #expect(presence.stream == .user(Self.u))
        #expect(state.stream == .user(Self.u))
    }

    @Test(arguments: everyKind)
    func actorCanonicalFormRoundTrips(actor: Actor) {
        #expect(Actor(canonical: actor.description) == actor)
        #expect(actor.description.hasPrefix(actor.kind.rawValue))
    }

    @Test func actorCanonicalExamples() {
        #expect(Actor.systemAdmin.description == "systemAdmin")
        #expect(Actor.guest.description == "guest")
        #expect(Actor.ouAdmin(Self.t, Self.o).description == "ouAdmin:\(Self.t)/\(Self.o)")
        #expect(Actor.partnerAdmin(Self.p).description == "partnerAdmin:\(Self.p)")
        #expect(Set(Self.everyKind.map(\.kind)) == Set(ActorKind.allCases))
    }

    @Test(arguments: [
        "", "admin", "systemAdmin:x", "guest:1", "tenantAdmin", "tenantAdmin:", "tenantAdmin:nope",
        "ouAdmin:6f1c1c52-8a4e-4a8e-9d3e-0d6c2f0b9a11", "ouAdmin:6f1c1c52-8a4e-4a8e-9d3e-0d6c2f0b9a11/x",
        "teamOwner:6f1c1c52", "user:", "SystemAdmin",
    ])
    func malformedActorsAreRejected(text: String) {
        #expect(Actor(canonical: text) == nil)
    }
}
