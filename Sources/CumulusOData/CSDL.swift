/// The `$metadata` document: CSDL 4.0 XML, one entity type per set, each with a key.
enum CSDL {
    static let namespace = "Cumulus"

    static func document() -> String {
        var xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
        xml += "<edmx:Edmx Version=\"4.0\" xmlns:edmx=\"http://docs.oasis-open.org/odata/ns/edmx\">\n"
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
        xml += "      </EntityContainer>\n"
        xml += "    </Schema>\n"
        xml += "  </edmx:DataServices>\n"
        xml += "</edmx:Edmx>\n"
        return xml
    }
}
