#!/usr/bin/env python3
"""Generates Sources/CumulusDomain/Events/*Events.swift and DomainEvent.swift from the table below.

Run from the package root: `python3 Tools/scripts/generate_domain_events.py && swift format -i -r Sources`. The generated files are committed; edit
this table (append-only for stored types) rather than the Swift output. Field order is payload order.
"""
import os

# (TypeName, case name, doc, [(field, SwiftType, doc)], personal fields, data subject expression or None)
STREAMS = {
    "tenant": ("TenantEvents", "Facts on a tenant's own stream `tenant-<id>`.", ".tenant(tenant)"),
    "registry": ("RegistryEvents", "Facts on the platform-wide `registry-tenants` stream.", ".tenantRegistry"),
    "licences": ("LicenceEvents", "Facts on a tenant's `licences-<tenant>` stream.", ".licences(tenant)"),
    "ou": ("OrganisationUnitEvents", "Facts on an organisation unit's stream `ou-<id>`.", ".ou(ou)"),
    "service": ("ServiceEvents", "Facts on a service's stream `service-<id>`.", ".service(service)"),
    "user": ("UserEvents", "Facts on a user's stream `user-<id>`, including presence and user state.", ".user(user)"),
    "upns": ("UserPrincipalNameEvents", "Facts on a tenant's `upns-<tenant>` stream (UPN uniqueness).",
             ".userPrincipalNames(tenant)"),
    "outree": ("OUTreeEvents", "Facts on a tenant's `outree-<tenant>` stream (OU moves, one at a time).",
               ".ouTree(tenant)"),
}

T = ("tenant", "TenantID", "The tenant.")
EVENTS = [
    # hot path first: decode dispatch compares type names in this order
    ("user", "PresenceChanged", "Teams presence of a user changed (Microsoft Graph vocabulary).",
     [("user", "UserID", "The user."), ("availability", "Availability", "Graph availability."),
      ("activity", "Activity", "Graph activity; `PresenceUnknown` without presence tracking.")], [], None),
    ("user", "UserStateChanged", "The platform user state and responsibility profile of an agent changed.",
     [("user", "UserID", "The user."), ("state", "UserStateName", "Tenant-defined name, `ACW` or `RONA`."),
      ("responsibilityProfile", "String?", "The agent's responsibility profile, if any.")], [], None),
    ("tenant", "TenantCreated", "A tenant was created in state `trial` with its root OU.",
     [T, ("name", "String", "Display name, unique among live tenants."),
      ("o365Domain", "DNSName", "O365 domain, unique among live tenants."),
      ("azureTenantID", "UUID", "Azure tenant GUID, unique among live tenants."),
      ("partner", "PartnerID?", "The partner it is assigned to."),
      ("rootOU", "OUID", "The root organisation unit, created with it."),
      ("widgetKey", "UUID", "The generated Interact widget key."),
      ("state", "TenantState", "The initial state (`trial`).")], [], None),
    ("tenant", "TenantRenamed", "A tenant's name changed.", [T, ("name", "String", "The new name.")], [], None),
    ("tenant", "O365DomainChanged", "A tenant's O365 domain changed (pending a script run).",
     [T, ("o365Domain", "DNSName", "The new domain.")], [], None),
    ("tenant", "AzureTenantIDChanged", "A tenant's Azure tenant id changed (pending a script run).",
     [T, ("azureTenantID", "UUID", "The new Azure tenant GUID.")], [], None),
    ("tenant", "SecurityGroupsChanged", "The partner- and tenant-admin security groups changed.",
     [T, ("groups", "SecurityGroups", "The new groups.")], [], None),
    ("tenant", "CompanyDetailsChanged", "Company name, CRM id or billing address changed.",
     [T, ("details", "CompanyDetails", "The new details.")], [], None),
    ("tenant", "TechnicalContactChanged", "The technical contact changed or was cleared.",
     [T, ("contact", "TechnicalContact?", "The new contact; `nil` clears it.")], ["contact"],
     ".technicalContact(tenant)"),
    ("tenant", "PartnerAssigned", "A partner was assigned to the tenant, or unassigned.",
     [T, ("partner", "PartnerID?", "The partner; `nil` unassigns.")], [], None),
    ("tenant", "DataPrivacySettingsChanged", "Data-privacy settings changed.",
     [T, ("settings", "DataPrivacySettings", "The new settings.")], [], None),
    ("tenant", "ProvisioningSettingsChanged", "Service-provisioning settings changed.",
     [T, ("settings", "ProvisioningSettings", "The new settings.")], [], None),
    ("tenant", "DefaultOUChanged", "The default OU for new users and services changed (set, or moved up on deletion).",
     [T, ("ou", "OUID", "The new default OU.")], [], None),
    ("tenant", "OutboundSettingsChanged", "Outbound extension settings changed.",
     [T, ("settings", "OutboundSettings", "The new settings.")], [], None),
    ("tenant", "InteractSettingsChanged", "Interact extension settings changed.",
     [T, ("settings", "InteractSettings", "The new settings.")], [], None),
    ("tenant", "WidgetKeyRefreshed", "The Interact widget key was replaced by a new GUID.",
     [T, ("widgetKey", "UUID", "The new key.")], [], None),
    ("tenant", "AssistantSettingsChanged", "Assistant extension settings changed.",
     [T, ("settings", "AssistantSettings", "The new settings.")], [], None),
    ("tenant", "AttendantConsoleSettingsChanged", "Attendant Console extension settings changed.",
     [T, ("settings", "AttendantConsoleSettings", "The new settings.")], [], None),
    ("tenant", "PresenceTrackingSettingsChanged", "Presence-tracking extension settings changed.",
     [T, ("settings", "PresenceTrackingSettings", "The new settings.")], [], None),
    ("tenant", "PresenceTrackingPermissionChanged", "The tenant admin granted or withdrew presence consent.",
     [T, ("granted", "Bool", "Whether the permission is granted.")], [], None),
    ("tenant", "InstantMessagingSettingsChanged", "Instant-messaging modality settings changed.",
     [T, ("settings", "InstantMessagingSettings", "The new settings.")], [], None),
    ("tenant", "ExternalTaskSettingsChanged", "External-task modality settings changed.",
     [T, ("settings", "ExternalTaskSettings", "The new settings.")], [], None),
    ("tenant", "EmailSettingsChanged", "E-mail modality settings changed.",
     [T, ("settings", "EmailSettings", "The new settings.")], [], None),
    ("tenant", "TenantStateChanged", "A systemAdmin changed the tenant state.",
     [T, ("state", "TenantState", "The new state.")], [], None),
    ("tenant", "TenantDeletionRequested", "Deletion was confirmed with `YES`; the tenant is pending deletion.",
     [T], [], None),
    ("tenant", "TenantDeletionCompleted", "The provisioning script removed the tenant; it is deleted.", [T], [], None),
    ("tenant", "ProvisioningScriptPushRequired", "A technical change waits for the next provisioning-script run.",
     [T, ("item", "PendingScriptItem", "What waits.")], [], None),
    ("tenant", "ProvisioningScriptRunRecorded", "A provisioning-script run was recorded.",
     [T, ("succeeded", "Bool", "Whether the run pushed the pending changes.")], [], None),
    ("registry", "TenantIdentityReserved", "A live tenant holds this name, O365 domain and Azure tenant id.",
     [T, ("name", "String", "The name."), ("o365Domain", "DNSName", "The domain."),
      ("azureTenantID", "UUID", "The Azure tenant GUID.")], [], None),
    ("registry", "TenantIdentityReleased", "The tenant left `live`; its name, domain and id are free again.",
     [T], [], None),
    ("licences", "LicenceContingentSet", "The contingent of a licence kind was set.",
     [T, ("kind", "LicenceKind", "The kind."), ("contingent", "Int", "The new contingent.")], [], None),
    ("licences", "ServiceLicenceAssigned", "A service took a licence (its type licence or a feature).",
     [T, ("service", "ServiceID", "The service."), ("kind", "LicenceKind", "The kind.")], [], None),
    ("licences", "ServiceLicenceReleased", "A service gave a licence back.",
     [T, ("service", "ServiceID", "The service."), ("kind", "LicenceKind", "The kind.")], [], None),
    ("licences", "UserLicenceAssigned", "A user was assigned a licence.",
     [T, ("user", "UserID", "The user."), ("kind", "LicenceKind", "The kind.")], [], None),
    ("licences", "UserLicenceReleased", "A user's licence was released.",
     [T, ("user", "UserID", "The user."), ("kind", "LicenceKind", "The kind.")], [], None),
    ("ou", "OUCreated", "An organisation unit was created (the root has no parent).",
     [("ou", "OUID", "The OU."), T, ("parent", "OUID?", "The parent; `nil` for the root."),
      ("name", "String", "The name.")], [], None),
    ("ou", "OURenamed", "An organisation unit was renamed.",
     [("ou", "OUID", "The OU."), ("name", "String", "The new name.")], [], None),
    ("ou", "OUMoved", "An organisation unit moved under another parent.",
     [("ou", "OUID", "The OU."), ("from", "OUID", "The old parent."), ("to", "OUID", "The new parent.")], [], None),
    ("ou", "OUDeleted", "An empty organisation unit was deleted.", [("ou", "OUID", "The OU.")], [], None),
    ("ou", "OUContentAdded", "A sub-OU, service or user was placed in this organisation unit.",
     [("ou", "OUID", "The OU."), ("content", "OUContent", "What was placed.")], [], None),
    ("ou", "OUContentRemoved", "A sub-OU, service or user left this organisation unit.",
     [("ou", "OUID", "The OU."), ("content", "OUContent", "What left.")], [], None),
    ("service", "ServiceProvisioned", "A service was provisioned and took its type licence.",
     [("service", "ServiceID", "The service."), T, ("ou", "OUID", "Its OU."), ("name", "String", "Its name."),
      ("type", "ServiceType", "Its type."), ("source", "ProvisioningSource", "Teams or backend."),
      ("provisionedBy", "UserID?", "The user who provisioned it and became its owner.")], [], None),
    ("service", "ServiceRenamed", "A service was renamed.",
     [("service", "ServiceID", "The service."), ("name", "String", "The new name.")], [], None),
    ("service", "ServiceMoved", "A service moved to another organisation unit.",
     [("service", "ServiceID", "The service."), ("from", "OUID", "The old OU."), ("to", "OUID", "The new OU.")],
     [], None),
    ("service", "ServiceTypeChanged", "A service changed type; its type licence moved with it.",
     [("service", "ServiceID", "The service."), ("from", "ServiceType", "The old type."),
      ("to", "ServiceType", "The new type.")], [], None),
    ("service", "DistributionSettingsChanged", "A service's distribution settings changed.",
     [("service", "ServiceID", "The service."), ("settings", "DistributionSettings", "The new settings.")], [], None),
    ("service", "ServiceDeletionRequested", "A service is pending deletion and has ceased to operate.",
     [("service", "ServiceID", "The service.")], [], None),
    ("service", "ServiceDeletionCompleted", "The provisioning script removed the service; it is deleted.",
     [("service", "ServiceID", "The service.")], [], None),
    ("user", "UserCreated", "A user was created in a tenant.",
     [("user", "UserID", "The user."), T, ("ou", "OUID", "Its OU."),
      ("upn", "PersonalData<String>", "User principal name."),
      ("displayName", "PersonalData<String>", "Display name.")], ["upn", "displayName"], ".user(user)"),
    ("user", "UserRemoved", "A user was removed from the tenant; its licences were released.",
     [("user", "UserID", "The user.")], [], None),
    ("user", "MembershipAssigned", "A user became a member of a service with a role (or changed role).",
     [("user", "UserID", "The user."), ("service", "ServiceID", "The service."),
      ("role", "MembershipRole", "The role.")], [], None),
    ("user", "MembershipRemoved", "A user left a service.",
     [("user", "UserID", "The user."), ("service", "ServiceID", "The service.")], [], None),
    ("tenant", "RoleAssigned", "A principal (Azure AD object id) was given a role in the tenant (docs/domain.md, Sign-in).",
     [T, ("principal", "UUID", "The principal's Azure AD object id (`oid`)."),
      ("role", "AssignableRole", "The role."), ("ou", "OUID?", "The OU, for an OU administrator.")], [], None),
    ("tenant", "RoleRevoked", "A principal's role in the tenant was withdrawn.",
     [T, ("principal", "UUID", "The principal's Azure AD object id (`oid`)."),
      ("role", "AssignableRole", "The role."), ("ou", "OUID?", "The OU, for an OU administrator.")], [], None),
    # --- issue 11: the tenant's time zone for reporting intervals ---
    ("tenant", "TimeZoneChanged", "The tenant's time zone changed: reporting intervals (15/30/60 minutes, days) are aligned to it.",
     [T, ("timeZone", "String", "The IANA time-zone identifier (`Europe/Zurich`, `UTC`), validated when decided.")],
     [], None),
    # --- issue 13: user commands and the tenant-wide consistency streams (one block, appended) ---
    ("user", "UserRenamed", "A user's display name changed.",
     [("user", "UserID", "The user."), ("displayName", "PersonalData<String>", "The new display name.")],
     ["displayName"], ".user(user)"),
    ("user", "UserPrincipalNameChanged", "A user's UPN changed (unique among the tenant's live users).",
     [("user", "UserID", "The user."), ("upn", "PersonalData<String>", "The new user principal name.")],
     ["upn"], ".user(user)"),
    ("user", "UserMoved", "A user moved to another organisation unit of its tenant.",
     [("user", "UserID", "The user."), ("from", "OUID", "The old OU."), ("to", "OUID", "The new OU.")], [], None),
    ("user", "ResponsibilityProfileChanged", "An agent's responsibility profile changed, its user state unchanged.",
     [("user", "UserID", "The user."), ("responsibilityProfile", "String?", "The new profile; `nil` clears it.")],
     [], None),
    ("upns", "UserPrincipalNameReserved", "A live user of the tenant holds this UPN (compared case-insensitively).",
     [T, ("user", "UserID", "The user."), ("upn", "PersonalData<String>", "The user principal name.")],
     ["upn"], ".user(user)"),
    ("upns", "UserPrincipalNameReleased", "The user no longer holds a UPN (removed, or changed to another).",
     [T, ("user", "UserID", "The user.")], [], None),
    ("outree", "OUTreeChanged", "An OU moved: recorded on the tenant-wide tree stream so that racing moves conflict.",
     [T, ("ou", "OUID", "The OU that moved."), ("to", "OUID", "Its new parent.")], [], None),
]

VERSIONS = {"UserStateChanged": 2}

def lower_first(s):
    i = 0
    while i < len(s) and s[i].isupper():
        i += 1
    if i > 1 and i < len(s):
        i -= 1
    return s[:i].lower() + s[i:]

def case_name(t):
    special = {"OUCreated": "ouCreated", "OURenamed": "ouRenamed", "OUMoved": "ouMoved", "OUDeleted": "ouDeleted",
               "OUContentAdded": "ouContentAdded", "OUContentRemoved": "ouContentRemoved",
               "O365DomainChanged": "o365DomainChanged", "DefaultOUChanged": "defaultOUChanged"}
    return special.get(t, lower_first(t))

def struct_source(stream, t, doc, fields, personal, subject):
    version = VERSIONS.get(t, 1)
    lines = [f"/// {doc}", f"public struct {t}: EventPayload {{",
             f"    /// Stable type name stored in the log envelope.",
             f"    public static let typeName = \"{t}\"",
             f"    /// Current schema version; older versions are read through upcasters.",
             f"    public static let schemaVersion: UInt16 = {version}"]
    if personal:
        lines += [f"    /// Fields holding personal data of ``dataSubject``.",
                  f"    public static let personalDataFields: [String] = [{', '.join(chr(34)+p+chr(34) for p in personal)}]"]
    for (name, typ, fdoc) in fields:
        lines += [f"    /// {fdoc}", f"    public var {name}: {typ}"]
    params = ", ".join(f"{n}: {ty}" for (n, ty, _) in fields)
    lines += ["", f"    /// Creates the event.", f"    public init({params}) {{"]
    lines += [f"        self.{n} = {n}" for (n, _, _) in fields]
    lines += ["    }", ""]
    lines += [f"    /// The stream this fact belongs to.", f"    public var stream: AggregateStream {{ {STREAMS[stream][2]} }}"]
    if subject:
        lines += [f"    /// Whose personal data the event holds.", f"    public var dataSubject: DataSubject? {{ {subject} }}"]
    lines += ["", "    /// Appends the fields in declaration order.", "    public func encode(to writer: inout PayloadWriter) {"]
    lines += [f"        writer.write({n})" for (n, _, _) in fields]
    lines += ["    }", "", "    /// Reads the fields in declaration order.",
              "    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) {"]
    lines += [f"        {n} = try reader.read()" for (n, _, _) in fields]
    lines += ["    }", "", "    /// Writes the fields by name (``EventFieldsJSON``): secrets masked, personal data replaced.",
              "    package func writeFields(into json: inout EventFieldsJSON) {"]
    lines += [f"        json.field(\"{n}\", {n})" for (n, _, _) in fields]
    lines += ["    }", "}", ""]
    return "\n".join(lines)

root = os.path.join(os.path.dirname(__file__), "..", "..", "Sources", "CumulusDomain", "Events")
header = "// Generated by Tools/scripts/generate_domain_events.py; edit the table there, not this file.\n\n"
for stream, (fname, doc, _) in STREAMS.items():
    evs = [e for e in EVENTS if e[0] == stream]
    needs_uuid = any("UUID" in f[1] for e in evs for f in e[3])
    body = header + ("public import Foundation\n\n" if needs_uuid else "") + "\n".join(struct_source(*e) for e in evs)
    open(os.path.join(root, fname + ".swift"), "w").write(body)

cases = []
for (stream, t, doc, fields, personal, subject) in EVENTS:
    cases.append((case_name(t), t, doc))
out = [header.rstrip() + "\n", "/// Every fact Cumulus records, one case per event type (payload structs carry the fields).",
       "///", "/// Decode with ``decode(type:schemaVersion:payload:)``; it reads every schema version ever written.",
       "public enum DomainEvent: Hashable, Sendable {"]
for (c, t, doc) in cases:
    out += [f"    /// {doc}", f"    case {c}({t})"]
out += ["", "    /// Every event type name, in decode-dispatch order.", "    public static let typeNames: [String] = ["]
out += [f"        {t}.typeName," for (_, t, _) in cases]
out += ["    ]", ""]
def switch_prop(name, typ, expr, doc):
    r = [f"    /// {doc}", f"    public var {name}: {typ} {{", "        switch self {"]
    for (c, t, _) in cases:
        r.append(f"        case .{c}(let event): {expr}")
    r += ["        }", "    }", ""]
    return r
out += switch_prop("typeName", "String", "type(of: event).typeName", "The stable type name stored in the envelope.")
out += switch_prop("schemaVersion", "UInt16", "type(of: event).schemaVersion", "The schema version this build writes.")
out += switch_prop("stream", "AggregateStream", "event.stream", "The stream the fact belongs to.")
out += switch_prop("dataSubject", "DataSubject?", "event.dataSubject", "Whose personal data the event holds, if any.")
out += switch_prop("personalDataFields", "[String]", "type(of: event).personalDataFields",
                   "Names of the fields holding personal data.")
out += switch_prop("payload", "any EventPayload", "event", "The payload struct.")
out += ["    /// The fields as one JSON object with explicit keys (``EventFieldsJSON``): the `event` member of `read`.",
        "    package var fieldsJSON: String {", "        var json = EventFieldsJSON()", "        switch self {"]
for (c, t, _) in cases:
    out.append(f"        case .{c}(let event): event.writeFields(into: &json)")
out += ["        }", "        return json.closed", "    }", ""]
out += ["    /// Encodes the payload in the current schema version.", "    public func encodePayload() -> [UInt8] {",
        "        var writer = PayloadWriter()", "        switch self {"]
for (c, t, _) in cases:
    out.append(f"        case .{c}(let event): event.encode(to: &writer)")
out += ["        }", "        return writer.bytes", "    }", "",
        "    /// Decodes a payload of any schema version ever written, upcasting old versions.",
        "    ///", "    /// - Throws: ``PayloadDecodingError`` for an unknown type or version, or corrupt bytes.",
        "    public static func decode(type: String, schemaVersion: UInt16, payload: [UInt8]) throws(PayloadDecodingError)",
        "        -> DomainEvent", "    {", "        var reader = PayloadReader(payload)", "        let event: DomainEvent",
        "        switch type {"]
for (c, t, _) in cases:
    out.append(f"        case {t}.typeName: event = .{c}(try {t}.decode(schemaVersion: schemaVersion, from: &reader))")
out += ["        default: throw .unknownEventType(type)", "        }",
        "        guard reader.isAtEnd else { throw .trailingBytes(count: reader.bytes.count - reader.offset) }",
        "        return event", "    }", "}", ""]
open(os.path.join(root, "DomainEvent.swift"), "w").write("\n".join(out))
