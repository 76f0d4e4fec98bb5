import CumulusDomain
import Foundation

/// One populated sample of every event type (optionals filled, so every field is exercised).
enum EventSamples {
    static let t = TenantID(UUID())
    static let o = OUID(UUID())
    static let o2 = OUID(UUID())
    static let s = ServiceID(UUID())
    static let u = UserID(UUID())
    static let p = PartnerID(UUID())

    static func all() throws -> [DomainEvent] {
        let secret = try Secret(
            acsConnectionString: "endpoint=https://x.communication.azure.com/;accesskey=abc==", field: "x")
        let domain = try DNSName("contoso.onmicrosoft.com", field: "d")
        let contact = TechnicalContact(
            name: PersonalData("Anna Muster"), email: PersonalData(try EmailAddress("anna@contoso.com", field: "e")),
            phone: PersonalData(try PhoneNumber("+41315550100", field: "p")),
            sipAddress: PersonalData(try SIPAddress("sip:anna@contoso.com", field: "s")))
        let address = BillingAddress(
            street1: "Bahnhofstrasse 1", street2: "Postfach", zip: "8001", city: "Zürich",
            country: try CountryCode("CH", field: "c"))
        return [
            .presenceChanged(PresenceChanged(user: u, availability: .doNotDisturb, activity: .urgentInterruptionsOnly)),
            .userStateChanged(
                UserStateChanged(user: u, state: .custom("Backoffice ☕️"), responsibilityProfile: "Sales")),
            .tenantCreated(
                TenantCreated(
                    tenant: t, name: "Contoso", o365Domain: domain, azureTenantID: UUID(), partner: p, rootOU: o,
                    widgetKey: UUID(), state: .trial)),
            .tenantRenamed(TenantRenamed(tenant: t, name: "Contoso AG")),
            .o365DomainChanged(O365DomainChanged(tenant: t, o365Domain: domain)),
            .azureTenantIDChanged(AzureTenantIDChanged(tenant: t, azureTenantID: UUID())),
            .securityGroupsChanged(
                SecurityGroupsChanged(
                    tenant: t, groups: SecurityGroups(partnerAdminGroup: UUID(), tenantAdminGroup: UUID()))),
            .companyDetailsChanged(
                CompanyDetailsChanged(
                    tenant: t, details: CompanyDetails(companyName: "Contoso", crmID: "CRM-1", billingAddress: address))
            ),
            .technicalContactChanged(TechnicalContactChanged(tenant: t, contact: contact)),
            .partnerAssigned(PartnerAssigned(tenant: t, partner: p)),
            .dataPrivacySettingsChanged(
                DataPrivacySettingsChanged(
                    tenant: t,
                    settings: DataPrivacySettings(
                        allowPartnerSeeUserIdentifiers: true, allowPartnerSeeCustomerIdentifiers: false,
                        persistUserStatesInReporting: true, showTimeInState: true))),
            .provisioningSettingsChanged(
                ProvisioningSettingsChanged(
                    tenant: t,
                    settings: ProvisioningSettings(
                        serviceProvisioningViaTeams: .noOne, defaultTeamOwnerRole: .teamOwnerLimited))),
            .defaultOUChanged(DefaultOUChanged(tenant: t, ou: o2)),
            .outboundSettingsChanged(
                OutboundSettingsChanged(tenant: t, settings: OutboundSettings(maxScheduledTasksPerService: 50))),
            .interactSettingsChanged(
                InteractSettingsChanged(
                    tenant: t,
                    settings: InteractSettings(
                        enabled: true, acsConnectionString: secret, o365UserID: UUID(),
                        sessionRecoveryTimeoutSeconds: 60,
                        authorization: .verifyTokenAndTenant))),
            .widgetKeyRefreshed(WidgetKeyRefreshed(tenant: t, widgetKey: UUID())),
            .assistantSettingsChanged(
                AssistantSettingsChanged(
                    tenant: t, settings: AssistantSettings(useOwnACS: true, acsConnectionString: secret))),
            .attendantConsoleSettingsChanged(
                AttendantConsoleSettingsChanged(
                    tenant: t,
                    settings: AttendantConsoleSettings(
                        graphFilter: "endsWith(userPrincipalName,'onmicrosoft.com')", teamVisibility: .allMembers))),
            .presenceTrackingSettingsChanged(
                PresenceTrackingSettingsChanged(
                    tenant: t,
                    settings: PresenceTrackingSettings(
                        enabled: true, account1: try EmailAddress("p1@luware.com", field: "a"),
                        account2: try EmailAddress("p2@luware.com", field: "a")))),
            .presenceTrackingPermissionChanged(PresenceTrackingPermissionChanged(tenant: t, granted: true)),
            .instantMessagingSettingsChanged(
                InstantMessagingSettingsChanged(
                    tenant: t,
                    settings: InstantMessagingSettings(
                        enabled: true, maxConcurrentPerService: 1, useOwnACS: true, acsConnectionString: secret,
                        acsResourceID: "resource-1"))),
            .externalTaskSettingsChanged(
                ExternalTaskSettingsChanged(tenant: t, settings: ExternalTaskSettings(maxConcurrentPerService: 7))),
            .emailSettingsChanged(EmailSettingsChanged(tenant: t, settings: EmailSettings(maxConcurrent: 200))),
            .timeZoneChanged(TimeZoneChanged(tenant: t, timeZone: "Europe/Zurich")),
            .tenantStateChanged(TenantStateChanged(tenant: t, state: .suspended)),
            .tenantDeletionRequested(TenantDeletionRequested(tenant: t)),
            .tenantDeletionCompleted(TenantDeletionCompleted(tenant: t)),
            .provisioningScriptPushRequired(
                ProvisioningScriptPushRequired(tenant: t, item: .serviceDeletionRequested(s))),
            .provisioningScriptRunRecorded(ProvisioningScriptRunRecorded(tenant: t, succeeded: true)),
            .tenantIdentityReserved(
                TenantIdentityReserved(tenant: t, name: "Contoso", o365Domain: domain, azureTenantID: UUID())),
            .tenantIdentityReleased(TenantIdentityReleased(tenant: t)),
            .licenceContingentSet(LicenceContingentSet(tenant: t, kind: .transcription, contingent: 1_000_000)),
            .serviceLicenceAssigned(ServiceLicenceAssigned(tenant: t, service: s, kind: .interact)),
            .serviceLicenceReleased(ServiceLicenceReleased(tenant: t, service: s, kind: .contactCenter)),
            .userLicenceAssigned(UserLicenceAssigned(tenant: t, user: u, kind: .email)),
            .userLicenceReleased(UserLicenceReleased(tenant: t, user: u, kind: .attendantConsole)),
            .ouCreated(OUCreated(ou: o, tenant: t, parent: o2, name: "Sales")),
            .ouRenamed(OURenamed(ou: o, name: "Sales EMEA")),
            .ouMoved(OUMoved(ou: o, from: o2, to: OUID(UUID()))),
            .ouDeleted(OUDeleted(ou: o)),
            .ouContentAdded(OUContentAdded(ou: o, content: .user(u))),
            .ouContentRemoved(OUContentRemoved(ou: o, content: .service(s))),
            .serviceProvisioned(
                ServiceProvisioned(
                    service: s, tenant: t, ou: o, name: "Hotline", type: .contactCenter, source: .teams,
                    provisionedBy: u)),
            .serviceRenamed(ServiceRenamed(service: s, name: "Helpdesk")),
            .serviceMoved(ServiceMoved(service: s, from: o, to: o2)),
            .serviceTypeChanged(ServiceTypeChanged(service: s, from: .advancedRouting, to: .enterpriseRouting)),
            .distributionSettingsChanged(
                DistributionSettingsChanged(
                    service: s,
                    settings: DistributionSettings(
                        deliverWhileBusy: true, deliverWhileInMeeting: false, deliverWhileAway: true))),
            .serviceDeletionRequested(ServiceDeletionRequested(service: s)),
            .serviceDeletionCompleted(ServiceDeletionCompleted(service: s)),
            .userCreated(
                UserCreated(
                    user: u, tenant: t, ou: o, upn: PersonalData("anna@contoso.com"), displayName: PersonalData("Anna"))
            ),
            .userRemoved(UserRemoved(user: u)),
            .membershipAssigned(MembershipAssigned(user: u, service: s, role: .teamOwnerLimited)),
            .membershipRemoved(MembershipRemoved(user: u, service: s)),
            .roleAssigned(RoleAssigned(tenant: t, principal: UUID(), role: .ouAdministrator, ou: o)),
            .roleRevoked(RoleRevoked(tenant: t, principal: UUID(), role: .userSupervisor, ou: nil)),
            .userRenamed(UserRenamed(user: u, displayName: PersonalData("Anna Muster-Meier"))),
            .userPrincipalNameChanged(UserPrincipalNameChanged(user: u, upn: PersonalData("anna.m@contoso.com"))),
            .userMoved(UserMoved(user: u, from: o, to: o2)),
            .responsibilityProfileChanged(ResponsibilityProfileChanged(user: u, responsibilityProfile: "Support")),
            .userPrincipalNameReserved(
                UserPrincipalNameReserved(tenant: t, user: u, upn: PersonalData("anna.m@contoso.com"))),
            .userPrincipalNameReleased(UserPrincipalNameReleased(tenant: t, user: u)),
            .ouTreeChanged(OUTreeChanged(tenant: t, ou: o2, to: o)),
        ]
    }
}
