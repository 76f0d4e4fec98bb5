import Foundation

extension FieldRules {
    /// Checks that `identifier` names an IANA time zone Foundation knows (`Europe/Zurich`, `UTC`).
    ///
    /// Abbreviations (`CET`, `EST`) and offsets (`GMT+1`) are refused: only a region name follows its
    /// daylight-saving rules, which the reporting intervals need.
    /// - Returns: the identifier as Foundation spells it.
    /// - Throws: ``DomainError/validation(_:)`` naming the field `timeZone`.
    public static func timeZone(_ identifier: String) throws(DomainError) -> String {
        let rule = "an IANA time-zone name such as Europe/Zurich or UTC"
        guard identifier == "UTC" || identifier.contains("/"),
            TimeZone.knownTimeZoneIdentifiers.contains(identifier) || identifier == "UTC",
            let zone = TimeZone(identifier: identifier)
        else {
            throw .validation(ValidationFailure(field: "timeZone", rule: rule))
        }
        return zone.identifier == "GMT" && identifier == "UTC" ? "UTC" : identifier
    }
}
