public import CumulusDomain

extension Command {
    /// The OU an OU-level command addresses (the commands that do not name their tenant); the domain gives
    /// `tenantID`, `serviceID` and `userID` for the others.
    public var ouID: OUID? {
        switch self {
        case .renameOU(let ou, _), .moveOU(let ou, _), .deleteOU(let ou): return ou
        default: return nil
        }
    }
}
