import CumulusDomain
import Foundation
import Testing

@Suite struct TimeZoneSettingTests {
    typealias W = TestWorld

    @Test func aTenantStartsInUTCAndTakesAnIANAName() throws {
        var world = TestWorld()
        try world.run(W.createTenant())
        #expect(world.context.tenant?.timeZone == "UTC")
        let decision = try world.run(
            .changeTimeZone(tenant: W.tenant, timeZone: "Europe/Zurich"), by: .tenantAdmin(W.tenant))
        #expect(decision.events == [.timeZoneChanged(TimeZoneChanged(tenant: W.tenant, timeZone: "Europe/Zurich"))])
        #expect(world.context.tenant?.timeZone == "Europe/Zurich")
        try world.run(.changeTimeZone(tenant: W.tenant, timeZone: "UTC"))
        #expect(world.context.tenant?.timeZone == "UTC")
    }

    @Test(arguments: ["", "Mars/Olympus", "CET", "GMT+1", "+02:00", "europe/zurich", "Europe/Zurich "])
    func anythingButAKnownRegionNameIsRefused(name: String) throws {
        var world = TestWorld()
        try world.run(W.createTenant())
        let refusal = world.refusal(.changeTimeZone(tenant: W.tenant, timeZone: name))
        #expect(refusal?.validationField == "timeZone")
        #expect(refusal?.description.contains("IANA") == true)
        #expect(world.context.tenant?.timeZone == "UTC")
    }

    @Test func onlyAdminsChangeIt() throws {
        var world = TestWorld()
        try world.run(W.createTenant())
        let change = Command.changeTimeZone(tenant: W.tenant, timeZone: "Europe/Zurich")
        #expect(world.refusal(change, by: .userSupervisor(W.tenant))?.isPermissionDenied == true)
        #expect(world.refusal(change, by: .guest)?.isPermissionDenied == true)
    }
}
