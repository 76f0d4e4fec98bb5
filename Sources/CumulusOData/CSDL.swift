/// The `$metadata` document: CSDL 4.0 XML, one entity type per set, each with a key, and the container annotated
/// with the `$filter` functions the feed supports (`Org.OData.Capabilities.V1.FilterFunctions`), so that a client
/// that plans its queries from the capabilities (Power Query) folds only those.
enum CSDL {
    static let namespace = "Cumulus"
    /// Where the Capabilities vocabulary is published (OASIS); referenced, not fetched.
    static let capabilitiesVocabulary =
        "https://oasis-tcs.github.io/odata-vocabularies/vocabularies/Org.OData.Capabilities.V1.xml"

    static func document() -> String {
        var xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
        xml += "<edmx:Edmx Version=\"4.0\" xmlns:edmx=\"http://docs.oasis-open.org/odata/ns/edmx\">\n"
        xml += "  <edmx:Reference Uri=\"\(capabilitiesVocabulary)\">\n"
        xml += "    <edmx:Include Namespace=\"Org.OData.Capabilities.V1\" Alias=\"Capabilities\"/>\n"
        xml += "  </edmx:Reference>\n"
        xml += "  <edmx:DataServices>\n"
        xml += "    <Schema Namespace=\"\(namespace)\" xmlns=\"http://docs.oasis-open.org/odata/ns/edm\">\n"
        for set in EntitySet.allCases {
            xml += "      <EntityType Name=\"\(set.typeName)\">\n"
            xml += "        <Key><PropertyRef Name=\"\(set.key)\"/></Key>\n"
            for property in set.properties {
                xml += "        <Property Name=\"\(property.name)\" Type=\"\(property.type.rawValue)\""
                xml += property.nullable ? "" : " Nullable=\"false\""
                if property.type == .decimal { xml += " Scale=\"variable\"" }
                if property.type == .dateTimeOffset { xml += " Precision=\"6\"" }
                xml += "/>\n"
            }
            xml += "      </EntityType>\n"
        }
        xml += "      <EntityContainer Name=\"Reporting\">\n"
        for set in EntitySet.allCases {
            xml += "        <EntitySet Name=\"\(set.rawValue)\" EntityType=\"\(namespace).\(set.typeName)\"/>\n"
        }
        xml += "        <Annotation Term=\"Capabilities.FilterFunctions\">\n"
        xml += "          <Collection>"
        xml += FilterFunction.allCases.map { "<String>\($0.rawValue)</String>" }.joined()
        xml += "</Collection>\n"
        xml += "        </Annotation>\n"
        xml += "      </EntityContainer>\n"
        xml += "    </Schema>\n"
        xml += "  </edmx:DataServices>\n"
        xml += "</edmx:Edmx>\n"
        return xml
    }
}
