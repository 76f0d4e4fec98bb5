public import Foundation

/// A role held in the domain and granted by command (`assignRole` / `revokeRole`), keyed by the holder's
/// Azure AD object id; sign-in turns it into an ``Actor`` (docs/domain.md, "Sign-in").
public enum AssignableRole: String, StoredEnumeration {
    /// Administrator of an organisation unit and its sub-OUs (``Actor/ouAdmin(_:_:)``).
    case ouAdministrator
    /// May read the tenant's user-state reports (``Actor/userSupervisor(_:)``).
    case userSupervisor

    /// Stored-code order (append-only).
    public static let storageOrder: [AssignableRole] = [.ouAdministrator, .userSupervisor]
}

/// One role assignment of a tenant: who, which role, and for an OU administrator which OU.
public struct RoleAssignment: Hashable, Sendable, Comparable {
    /// The holder's Azure AD object id (`oid`).
    public var principal: UUID
    /// The role.
    public var role: AssignableRole
    /// The OU of an OU administrator; `nil` for a user supervisor.
    public var ou: OUID?

    /// Creates an assignment.
    public init(principal: UUID, role: AssignableRole, ou: OUID?) {
        self.principal = principal
        self.role = role
        self.ou = ou
    }

    /// Ordered by principal, role, OU (stable output).
    public static func < (lhs: RoleAssignment, rhs: RoleAssignment) -> Bool {
        (lhs.principal.uuidString, lhs.role.code, lhs.ou?.description ?? "")
            < (rhs.principal.uuidString, rhs.role.code, rhs.ou?.description ?? "")
    }
}

extension RoleAssignment: PayloadCodable {
    /// Writes principal, role, OU.
    public func encode(to writer: inout PayloadWriter) {
        writer.write(principal)
        writer.write(role)
        writer.write(ou)
    }

    /// Reads what ``encode(to:)`` wrote.
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) {
        principal = try reader.read()
        role = try reader.read()
        ou = try reader.read()
    }
}
