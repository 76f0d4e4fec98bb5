/// The non-technical company details a tenant admin may edit (domain.md §3).
public struct CompanyDetails: Hashable, Sendable, PayloadCodable {
    /// Company name / division, at most 256 characters (may be empty).
    public var companyName: String
    /// Customer-relationship-management id, at most 256 characters (may be empty).
    public var crmID: String
    /// Where the bill is sent.
    public var billingAddress: BillingAddress

    /// Creates the details.
    public init(companyName: String = "", crmID: String = "", billingAddress: BillingAddress = BillingAddress()) {
        self.companyName = companyName
        self.crmID = crmID
        self.billingAddress = billingAddress
    }

    /// Appends the fields in declaration order.
    public func encode(to writer: inout PayloadWriter) {
        writer.write(companyName)
        writer.write(crmID)
        writer.write(billingAddress)
    }

    /// Reads the fields in declaration order.
    public init(from reader: inout PayloadReader) throws(PayloadDecodingError) {
        companyName = try reader.read()
        crmID = try reader.read()
        billingAddress = try reader.read()
    }
}
