public import CumulusDomain

extension Command {
    /// The tenant the command names directly, if any.
    public var tenant: TenantID? {
        switch self {
        case .createTenant(let tenant, _, _, _, _, _, _, _), .renameTenant(let tenant, _),
            .changeO365Domain(let tenant, _), .changeAzureTenantID(let tenant, _),
            .changeSecurityGroups(let tenant, _, _), .changeCompanyDetails(let tenant, _, _, _),
            .changeTechnicalContact(let tenant, _), .assignPartner(let tenant, _),
            .changeDataPrivacySettings(let tenant, _), .changeProvisioningSettings(let tenant, _),
            .setDefaultOU(let tenant, _), .changeOutboundSettings(let tenant, _),
            .changeInteractSettings(let tenant, _, _, _, _, _), .refreshWidgetKey(let tenant, _),
            .changeAssistantSettings(let tenant, _, _), .changeAttendantConsoleSettings(let tenant, _, _),
            .changePresenceTrackingSettings(let tenant, _, _, _), .setPresenceTrackingPermission(let tenant, _),
            .changeInstantMessagingSettings(let tenant, _, _, _, _, _), .changeExternalTaskSettings(let tenant, _),
            .changeEmailSettings(let tenant, _), .changeTenantState(let tenant, _),
            .setLicenceContingent(let tenant, _, _), .requestTenantDeletion(let tenant, _),
            .recordProvisioningScriptRun(let tenant, _), .createOU(let tenant, _, _, _),
            .provisionService(let tenant, _, _, _, _, _, _), .createUser(let tenant, _, _, _, _):
            return tenant
        default:
            return nil
        }
    }

    /// The OU the command is about (for OU commands that do not name their tenant).
    public var ou: OUID? {
        switch self {
        case .renameOU(let ou, _), .moveOU(let ou, _), .deleteOU(let ou): return ou
        default: return nil
        }
    }

    /// The service the command is about (for service commands that do not name their tenant).
    public var service: ServiceID? {
        switch self {
        case .renameService(let service, _), .moveService(let service, _), .changeServiceType(let service, _),
            .changeDistributionSettings(let service, _), .assignServiceLicence(let service, _),
            .releaseServiceLicence(let service, _), .requestServiceDeletion(let service):
            return service
        default: return nil
        }
    }

    /// The user the command is about (for user commands that do not name their tenant).
    public var user: UserID? {
        switch self {
        case .removeUser(let user), .assignMembership(let user, _, _), .removeMembership(let user, _),
            .assignUserLicence(let user, _), .releaseUserLicence(let user, _), .changeUserState(let user, _, _),
            .recordPresence(let user, _, _):
            return user
        default: return nil
        }
    }

    /// Whether this is a feed command (presence, user state): the high-volume path.
    public var isFeed: Bool {
        switch self {
        case .recordPresence, .changeUserState: return true
        default: return false
        }
    }
}
