extension DomainEvent {
    /// Whether the payload holds a secret (an ACS connection string) in clear: tools that print raw
    /// payloads must withhold it.
    public var carriesSecrets: Bool {
        switch self {
        case .interactSettingsChanged, .assistantSettingsChanged, .instantMessagingSettingsChanged: true
        default: false
        }
    }

    /// The type names whose payloads can hold a secret.
    public static let typesCarryingSecrets: Set<String> = [
        InteractSettingsChanged.typeName, AssistantSettingsChanged.typeName, InstantMessagingSettingsChanged.typeName,
    ]
}
