/// A billing address; every line at most 256 characters, country ISO 3166-1 alpha-2.
public struct BillingAddress: Hashable, Sendable, PayloadCodable {
    /// Street address line 1.
    public var street1: String
    /// Street address line 2.
    public var street2: String
    /// Postal code.
    public var zip: String
    /// City.
    public var city: String
    /// Country, if given.
    public var country: CountryCode?

    /// Creates an address (all lines empty by default).
    public init(
        street1: String = "", street2: String = "", zip: String = "", city: String = "", country: CountryCode? = nil
    ) {
        self.street1 = street1
        self.street2 = street2
        self.zip = zip
        self.city = city
        self.country = country
    }

    /// Appends the fields in declaration order.
    public func encode(to writer: inout PayloadWriter) {
        writer.write(street1)
        writer.write(street2)
        writer.write(zip)
        writer.write(city)
        writer.write(country)
    }

    /// Reads the fields in declaration order.
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) {
        street1 = try reader.read()
        street2 = try reader.read()
        zip = try reader.read()
        city = try reader.read()
        country = try reader.read()
    }
}
