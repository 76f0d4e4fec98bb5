import CumulusDomain
import CumulusLog

/// How `read` and `tail` print an event: the envelope, the payload for round trips, and — for events of
/// the domain — their fields by name (`DomainEvent.fieldsJSON`), secrets masked and personal data replaced.
///
/// Payloads that hold a secret (ACS connection strings) are withheld unless `includeSecrets` is set, and payloads
/// that hold personal data (a user's UPN and name, a technical contact) unless `includePersonalData` is set:
/// base64 is not a mask.
struct EventRendering {
    let includeSecrets: Bool
    var includePersonalData = false

    func line(for event: RecordedEvent) -> String {
        let decoded = try? DomainEvent.decode(
            type: event.type, schemaVersion: event.schemaVersion, payload: event.payload)
        let secret = decoded?.carriesSecrets ?? DomainEvent.typesCarryingSecrets.contains(event.type)
        let personal = !(decoded?.personalDataFields.isEmpty ?? true)
        let withhold = (!includeSecrets && secret) || (!includePersonalData && personal)
        return EnvelopeJSON.line(
            for: event, withholdPayload: withhold, rendering: decoded?.fieldsJSON)
    }
}
