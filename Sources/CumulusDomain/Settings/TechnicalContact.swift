/// The technical contact of a tenant; every field is personal data of that contact.
public struct TechnicalContact: Hashable, Sendable, PayloadCodable {
    /// Name, 1–256 characters.
    public var name: PersonalData<String>
    /// E-mail address.
    public var email: PersonalData<EmailAddress>?
    /// Phone number in E.164.
    public var phone: PersonalData<PhoneNumber>?
    /// SIP address.
    public var sipAddress: PersonalData<SIPAddress>?

    /// Creates a contact.
    public init(
        name: PersonalData<String>, email: PersonalData<EmailAddress>? = nil, phone: PersonalData<PhoneNumber>? = nil,
        sipAddress: PersonalData<SIPAddress>? = nil
    ) {
        self.name = name
        self.email = email
        self.phone = phone
        self.sipAddress = sipAddress
    }

    /// Appends the fields in declaration order.
    public func encode(to writer: inout PayloadWriter) {
        writer.write(name)
        writer.write(email)
        writer.write(phone)
        writer.write(sipAddress)
    }

    /// Reads the fields in declaration order.
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) {
        name = try reader.read()
        email = try reader.read()
        phone = try reader.read()
        sipAddress = try reader.read()
    }
}
