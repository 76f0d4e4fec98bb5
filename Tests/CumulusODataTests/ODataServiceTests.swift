import CumulusDomain
import CumulusLog
import CumulusProjections
import Foundation
import Testing

@testable import CumulusOData

#if canImport(FoundationXML)
import FoundationXML
#endif

@Suite struct ODataServiceTests {
    static let key = Array("a key only this server knows....".utf8)
    static let base = "https://cumulus.example/odata/"
    static let supervisor = Actor.userSupervisor(FeedWorld.tenant)

    func service(pageSize: Int = 1_000, key: [UInt8] = Self.key) -> ODataService {
        ODataService(configuration: ODataConfiguration(signingKey: key, pageSize: pageSize, maximumTop: 500))
    }

    func get(
        _ path: String, _ query: String = "", reader: Actor = Self.supervisor, service: ODataService? = nil,
        snapshot: ODataSnapshot
    ) -> ODataResponse {
        (service ?? self.service()).respond(
            to: ODataRequest(path: path, query: query, baseURL: Self.base, reader: reader)
        ) { _ in snapshot }
    }

    func json(_ response: ODataResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
    }

    func rows(_ response: ODataResponse) throws -> [[String: Any]] {
        try #require(try json(response)["value"] as? [[String: Any]])
    }

    /// Follows every next link from `query`; the snapshot function sees the pins.
    func loadAll(
        _ set: String, _ query: String = "", service: ODataService, snapshot: (ODataPin?) -> ODataSnapshot?
    ) throws -> (rows: [[String: Any]], pages: Int) {
        var all: [[String: Any]] = []
        var response = service.respond(
            to: ODataRequest(path: set, query: query, baseURL: Self.base, reader: Self.supervisor), snapshot: snapshot)
        var pages = 1
        while true {
            #expect(response.status == 200, "\(response.text)")
            let body = try json(response)
            all += try #require(body["value"] as? [[String: Any]])
            guard let next = body["@odata.nextLink"] as? String else { break }
            #expect(next.hasPrefix(Self.base + set + "?"))
            let nextQuery = String(next.dropFirst((Self.base + set + "?").count))
            response = service.respond(
                to: ODataRequest(path: set, query: nextQuery, baseURL: Self.base, reader: Self.supervisor),
                snapshot: snapshot)
            pages += 1
            if pages > 1_000 {
                Issue.record("too many pages")
                break
            }
        }
        return (all, pages)
    }

    @Test func serviceDocumentListsEveryEntitySet() throws {
        let snapshot = try FeedWorld.standard().snapshot()
        let response = get("", snapshot: snapshot)
        #expect(response.status == 200)
        #expect(response.header("OData-Version") == "4.0")
        #expect(response.header("Content-Type")?.hasPrefix("application/json") == true)
        let body = try json(response)
        #expect(body["@odata.context"] as? String == Self.base + "$metadata")
        let names = try #require(body["value"] as? [[String: Any]]).compactMap { $0["name"] as? String }
        #expect(
            names == [
                "UserStates", "TimeInStateIntervals", "CurrentStates", "Licences", "Users", "Services",
                "OrganisationUnits", "Tenants",
            ])
    }

    @Test func everyEntitySetAnswersWithItsDeclaredProperties() throws {
        let snapshot = try FeedWorld.standard().snapshot()
        for set in EntitySet.allCases {
            let response = get(set.rawValue, snapshot: snapshot)
            #expect(response.status == 200, "\(set): \(response.text)")
            let body = try json(response)
            #expect(body["@odata.context"] as? String == Self.base + "$metadata#" + set.rawValue)
            let values = try #require(body["value"] as? [[String: Any]])
            #expect(!values.isEmpty, "\(set) is empty")
            for row in values {
                #expect(Set(row.keys) == Set(set.properties.map(\.name)), "\(set)")
                #expect(!(row[set.key] is NSNull), "\(set) key is null")
            }
            let keys = values.compactMap { $0[set.key] as? String }
            #expect(Set(keys).count == values.count, "\(set): keys repeat")
        }
        // Names resolved; secrets and the widget key never present.
        let text = get("Tenants", snapshot: snapshot).text + get("Services", snapshot: snapshot).text
        #expect(!text.contains(id(98).uuidString.lowercased()))
        let users = try rows(get("Users", snapshot: snapshot))
        #expect(
            users.contains {
                $0["UserName"] as? String == "Chloé Dubois" && $0["OrganisationUnit"] as? String == "Root"
            })
    }

    @Test func userStatesMatchTheReportRows() throws {
        let snapshot = try FeedWorld.standard().snapshot()
        let expected = snapshot.report.rows(tenant: FeedWorld.tenant)
        let values = try rows(get("UserStates", "$count=true", snapshot: snapshot))
        #expect(values.count == expected.count)
        #expect(
            try json(get("UserStates", "$count=true", snapshot: snapshot))["@odata.count"] as? Int == expected.count)
        for (row, reportRow) in zip(values, expected) {
            #expect(row["UserId"] as? String == reportRow.user.description)
            #expect(row["TenantId"] as? String == reportRow.tenant.description)
            #expect(row["UserName"] as? String == reportRow.userName)
            #expect(row["UserPrincipalName"] as? String == reportRow.userPrincipalName)
            #expect(row["OrganisationUnitId"] as? String == reportRow.ou.description)
            #expect(row["OrganisationUnit"] as? String == reportRow.ouName)
            #expect(row["ResponsibilityProfile"] as? String == reportRow.responsibilityProfile)
            #expect(row["PresenceAvailability"] as? String == reportRow.availability?.rawValue)
            #expect(row["PresenceActivity"] as? String == reportRow.activity?.rawValue)
            #expect(row["Start"] as? String == reportRow.start.iso8601)
            #expect(row["UserState"] as? String == reportRow.userState?.name)
            #expect((row["End"] as? String) == reportRow.end?.iso8601)
            #expect((row["DurationSeconds"] as? Double) == reportRow.durationSeconds)
            #expect(
                (row["Id"] as? String)?.hasPrefix("\(reportRow.user)_\(reportRow.start.microsecondsSinceEpoch)") == true
            )
        }
        // Each row's properties are written in the order $metadata declares them.
        let body = get("UserStates", "$top=1", snapshot: snapshot).text
        let offsets = EntitySet.userStates.properties.map { body.range(of: "\"\($0.name)\":")?.lowerBound }
        #expect(offsets.allSatisfy { $0 != nil } && offsets.compactMap { $0 } == offsets.compactMap { $0 }.sorted())
    }

    /// A row keeps its values in its set's property order, whatever the order they were named in: each name reads
    /// what was set under it, and a name the set does not have reads null.
    @Test func aRowsValuesFollowItsSetsProperties() {
        for set in EntitySet.allCases {
            let named = set.properties.enumerated().map {
                (key: $0.element.name, value: ODataValue.number(Double($0.offset)))
            }
            let row = ODataRow(set, named.reversed(), index: set.propertyIndex)
            for (index, property) in set.properties.enumerated() {
                #expect(row[property.name] == .number(Double(index)), "\(set) \(property.name)")
                #expect(row[index: index] == .number(Double(index)), "\(set) \(property.name)")
                #expect(row.value(of: property.name) == .number(Double(index)))
            }
            #expect(row["NoSuchProperty"] == .null)
            #expect(row.values.count == set.properties.count)
        }
    }

    @Test func queryOptions() throws {
        let snapshot = try FeedWorld.standard().snapshot()
        let selected = try rows(
            get("Users", "$select=UserName,UserId&$orderby=UserName%20desc&$top=3&$skip=1", snapshot: snapshot))
        #expect(selected.count == 3)
        #expect(selected.allSatisfy { Set($0.keys) == ["UserName", "UserId"] })
        let context = try json(get("Users", "$select=UserName,UserId", snapshot: snapshot))["@odata.context"]
        #expect(context as? String == Self.base + "$metadata#Users(UserName,UserId)")
        #expect(selected.compactMap { $0["UserName"] as? String } == ["Dario Rossi", "Chloé Dubois", "Ben Keller"])
        // A property repeated in $orderby decides nothing more; its repeats are passed over (thousands of them cost
        // nothing per comparison), whatever their direction.
        let repeated = Array(repeating: "UserName%20asc", count: 2_000).joined(separator: ",")
        let parsed = try ParsedQuery(
            QueryOptions(parsing: "$orderby=UserName%20desc,UserId," + repeated), set: .users,
            configuration: ODataConfiguration(signingKey: Self.key))
        #expect(parsed.orderBy.map { $0.0 } == ["UserName", "UserId"])
        #expect(parsed.orderBy.map { $0.descending } == [true, false])
        let again = try rows(
            get(
                "Users", "$select=UserName,UserId&$orderby=UserName%20desc,\(repeated)&$top=3&$skip=1",
                snapshot: snapshot))
        #expect(again.compactMap { $0["UserName"] as? String } == ["Dario Rossi", "Chloé Dubois", "Ben Keller"])
        let filtered = try rows(
            get(
                "UserStates", "$filter=UserState%20eq%20'ACW'%20and%20not%20(PresenceAvailability%20eq%20null)",
                snapshot: snapshot))
        #expect(!filtered.isEmpty)
        #expect(filtered.allSatisfy { $0["UserState"] as? String == "ACW" && !($0["PresenceAvailability"] is NSNull) })
        let licences = try rows(get("Licences", "$filter=IsOverused", snapshot: snapshot))
        #expect(licences.allSatisfy { ($0["Available"] as? Int ?? 0) < 0 })
        let counted = get("Users/$count", "$filter=UserName%20ne%20'Anna%20Muster'", snapshot: snapshot)
        #expect(counted.text == "4")
    }

    /// Power BI's incremental refresh folds `Start ge RangeStart and Start lt RangeEnd` into the query.
    @Test func rangeStartAndRangeEndOnAStart() throws {
        let snapshot = try FeedWorld.standard().snapshot()
        let all = try rows(get("UserStates", snapshot: snapshot))
        let from = Timestamp(microsecondsSinceEpoch: minute(30))
        let to = Timestamp(microsecondsSinceEpoch: minute(60))
        let query = "$filter=Start%20ge%20\(from.iso8601)%20and%20Start%20lt%20\(to.iso8601)"
        let ranged = try rows(get("UserStates", query, snapshot: snapshot))
        let expected = all.filter {
            let start = Timestamp(iso8601: $0["Start"] as? String ?? "")!
            return start >= from && start < to
        }
        #expect(!ranged.isEmpty && ranged.count < all.count)
        #expect(ranged.compactMap { $0["Id"] as? String } == expected.compactMap { $0["Id"] as? String })
        // The same on the interval rows: hourly rows of the range only, each user's hour adding up to 3,600 s.
        let intervals = try rows(
            get(
                "TimeInStateIntervals",
                "interval=15m&$filter=IntervalStart%20ge%20\(from.iso8601)%20and%20IntervalStart%20lt%20\(to.iso8601)",
                snapshot: snapshot))
        var perUser: [String: Double] = [:]
        for row in intervals { perUser[row["UserId"] as? String ?? "", default: 0] += row["Seconds"] as? Double ?? 0 }
        #expect(perUser.count == 5 && perUser.values.allSatisfy { abs($0 - 1_800) < 0.001 }, "\(perUser)")
        #expect(intervals.allSatisfy { $0["Interval"] as? String == "15m" })
    }

    @Test func pagingFollowsNextLinksPinnedToTheFirstPagesPosition() throws {
        var world = FeedWorld.standard()
        let first = try world.snapshot()
        world.addUser(7, at: minute(100))
        let grown = try world.snapshot()
        let service = service(pageSize: 7)
        var latest = first
        var pins: [ODataPin?] = []
        let unpaged = try rows(get("UserStates", snapshot: first))
        #expect(unpaged.count > 14)
        let loaded = try loadAll("UserStates", "$orderby=Start,UserId", service: service) { pin in
            pins.append(pin)
            defer { latest = grown }  // the log grows after the first page
            guard let pin else { return latest }
            return pin.position == first.position ? first : nil
        }
        #expect(loaded.pages == (unpaged.count + 6) / 7)
        #expect(Set(loaded.rows.compactMap { $0["Id"] as? String }) == Set(unpaged.compactMap { $0["Id"] as? String }))
        #expect(pins.dropFirst().allSatisfy { $0?.position == first.position })
        // A fresh query sees the grown log.
        #expect(try rows(get("Users", snapshot: grown)).count == 6)
    }

    @Test func tamperedForeignAndMismatchedTokensAre400() throws {
        let snapshot = try FeedWorld.standard().snapshot()
        let paged = service(pageSize: 2)
        let first = paged.respond(
            to: ODataRequest(path: "Users", query: "$orderby=UserName", baseURL: Self.base, reader: Self.supervisor)
        ) { _ in snapshot }
        let next = try #require(try json(first)["@odata.nextLink"] as? String)
        let query = String(next.split(separator: "?", maxSplits: 1)[1])
        let token = String(query.split(separator: "=").last!)
        func status(_ query: String, path: String = "Users", service: ODataService? = nil) throws -> (Int, String) {
            let response = (service ?? paged).respond(
                to: ODataRequest(path: path, query: query, baseURL: Self.base, reader: Self.supervisor)
            ) { _ in snapshot }
            return (response.status, response.text)
        }
        #expect(try status(query).0 == 200)
        var tampered = Array(token)
        tampered[3] = tampered[3] == "A" ? "B" : "A"
        let (code, body) = try status("$orderby=UserName&$skiptoken=\(String(tampered))")
        #expect(code == 400 && body.contains("BadSkipToken"), "\(body)")
        #expect(
            try status(query, service: service(pageSize: 2, key: Array("another server's key............".utf8))).0
                == 400)
        #expect(try status("$orderby=UserId&$skiptoken=\(token)").1.contains("another query"))
        let otherSet = try status("$skiptoken=\(token)", path: "Services")
        #expect(otherSet.0 == 400 && otherSet.1.contains("belongs to Users"), "\(otherSet.1)")
        #expect(try status("$skiptoken=garbage").0 == 400)
    }

    @Test func badRequestsAreRefusedWithAnODataError() throws {
        let snapshot = try FeedWorld.standard().snapshot()
        let cases: [(String, String, Int, String)] = [
            ("Users", "$expand=Services", 400, "UnsupportedOption"),
            ("Users", "$search=anna", 400, "UnsupportedOption"),
            ("Users", "$top=501", 400, "TopTooLarge"),
            ("Users", "$top=-1", 400, "BadTop"),
            ("Users", "$select=Password", 400, "BadSelect"),
            ("Users", "$orderby=UserName%20sideways", 400, "BadOrderBy"),
            ("Users", "$filter=UserName%20eq", 400, "BadFilter"),
            ("Users", "$format=xml", 400, "UnsupportedOption"),
            ("Users", "$top=1&$top=2", 400, "BadQuery"),
            ("Users", "$filter=%ZZ", 400, "BadQuery"),
            ("Users", "$filter=UserName%20eq%20'a%00'", 400, "BadQuery"),
            ("Users", "$filter=UserName%20eq%20'a%0A'", 400, "BadQuery"),
            ("Nope", "", 404, "NotFound"),
            ("Users('x')", "", 404, "NotFound"),
            ("TimeInStateIntervals", "interval=2h", 400, "BadInterval"),
            ("TimeInStateIntervals", "$filter=IntervalStart%20ge%202025-01-01T00:00:00Z", 400, "WindowTooLarge"),
            ("$metadata", "$top=1", 400, "UnsupportedOption"),
        ]
        for (path, query, status, code) in cases {
            let response = get(path, query, snapshot: snapshot)
            #expect(response.status == status, "\(path)?\(query): \(response.text)")
            let error = try #require(try json(response)["error"] as? [String: Any], "\(response.text)")
            #expect(error["code"] as? String == code, "\(path)?\(query): \(response.text)")
            #expect((error["message"] as? String)?.isEmpty == false)
            #expect(response.header("OData-Version") == "4.0")
        }
        // A control character is named; OData's other whitespace, the tab, is not one.
        let control = try json(get("Users", "$filter=UserName%20eq%20'a%7F'", snapshot: snapshot))["error"]
        #expect(
            (control as? [String: Any])?["message"] as? String
                == "the value of \"$filter\" holds the control character U+007F")
        #expect(get("Users", "$filter=UserName%09eq%09'Ben%20Keller'", snapshot: snapshot).status == 200)
        // A query spanning more (user, interval) pairs than the configured most is refused before rows are built.
        let small = ODataService(configuration: ODataConfiguration(signingKey: Self.key, maximumIntervalRows: 10))
        let quarters = get("TimeInStateIntervals", "interval=15m", service: small, snapshot: snapshot)
        let tooMany = try #require(try json(quarters)["error"] as? [String: Any], "\(quarters.text)")
        #expect(quarters.status == 400 && tooMany["code"] as? String == "TooManyRows", "\(quarters.text)")
        #expect((tooMany["message"] as? String)?.contains("at most 10") == true, "\(quarters.text)")
        let days = get("TimeInStateIntervals", "interval=1d", service: small, snapshot: snapshot)
        let dayRows = try rows(days)
        #expect(days.status == 200 && !dayRows.isEmpty, "\(days.text)")
        #expect(get("TimeInStateIntervals", "interval=15m", snapshot: snapshot).status == 200)
        // The same for UserStates, by the rows its Start range selects (rows that overlap it, open ones too).
        let allStates = try rows(get("UserStates", snapshot: snapshot))
        let cap = allStates.count - 1
        let few = ODataService(configuration: ODataConfiguration(signingKey: Self.key, maximumUserStateRows: cap))
        let states = get("UserStates", "$top=1", service: few, snapshot: snapshot)
        let tooManyStates = try #require(try json(states)["error"] as? [String: Any], "\(states.text)")
        #expect(states.status == 400 && tooManyStates["code"] as? String == "TooManyRows", "\(states.text)")
        #expect((tooManyStates["message"] as? String)?.contains("at most \(cap)") == true, "\(states.text)")
        let lastStart = try #require(allStates.compactMap { $0["Start"] as? String }.max())
        let narrowed = get("UserStates", "$filter=Start%20ge%20\(lastStart)", service: few, snapshot: snapshot)
        #expect(narrowed.status == 200, "\(narrowed.text)")
        let filter = try json(get("Users", "$filter=UserName%20eq%20'a'%20and%20Bogus%20eq%201", snapshot: snapshot))
        #expect(
            ((filter["error"] as? [String: Any])?["message"] as? String)?.contains(
                "unknown property 'Bogus' at position 21") == true)
        let agent = get("Users", reader: .teamMember(ServiceID(id(5))), snapshot: snapshot)
        #expect(agent.status == 403)
    }

    @Test func aPartnerSeesPlaceholdersAndOnlyItsTenants() throws {
        let snapshot = try FeedWorld.standard().snapshot()
        let partner = try rows(get("Users", reader: .partnerAdmin(FeedWorld.partner), snapshot: snapshot))
        #expect(partner.count == 5)
        #expect(partner.allSatisfy { ($0["UserName"] as? String)?.allSatisfy { $0 == "*" } == true })
        let states = get("UserStates", reader: .partnerAdmin(FeedWorld.partner), snapshot: snapshot).text
        #expect(!states.contains("Anna") && !states.contains("u0@contoso.com"))
        let other = try rows(get("Users", reader: .partnerAdmin(PartnerID(id(21))), snapshot: snapshot))
        #expect(other.isEmpty)
        let otherSupervisor = try rows(get("UserStates", reader: .userSupervisor(TenantID(id(77))), snapshot: snapshot))
        #expect(otherSupervisor.isEmpty)
    }

    @Test func metadataIsCSDL4WithAKeyOnEveryType() throws {
        let snapshot = try FeedWorld.standard().snapshot()
        let response = get("$metadata", snapshot: snapshot)
        #expect(response.status == 200)
        #expect(response.header("Content-Type")?.hasPrefix("application/xml") == true)
        let shape = CSDLShape()
        let parser = XMLParser(data: Data(response.body))
        parser.shouldProcessNamespaces = true
        parser.delegate = shape
        #expect(parser.parse(), "\(String(describing: parser.parserError))")
        #expect(shape.root == "Edmx" && shape.rootNamespace == "http://docs.oasis-open.org/odata/ns/edmx")
        #expect(shape.version == "4.0")
        #expect(shape.schemaNamespace == "Cumulus")
        #expect(shape.sawDataServices && shape.schemaInEdmNamespace)
        #expect(shape.types.count == 8)
        for (name, type) in shape.types {
            #expect(type.keys.count == 1, "\(name)")
            for key in type.keys { #expect(type.properties[key] != nil, "\(name) key \(key) is not a property") }
            #expect(type.properties.values.allSatisfy { $0.hasPrefix("Edm.") })
        }
        #expect(shape.types["UserState"]?.properties["Start"] == "Edm.DateTimeOffset")
        #expect(shape.types["UserState"]?.properties["DurationSeconds"] == "Edm.Decimal")
        #expect(shape.types["TimeInStateInterval"]?.properties["IntervalStart"] == "Edm.DateTimeOffset")
        #expect(Set(shape.sets.values) == Set(shape.types.keys.map { "Cumulus." + $0 }))
        #expect(Set(shape.sets.keys) == Set(EntitySet.allCases.map(\.rawValue)))
        // The supported $filter functions are declared, under the Capabilities vocabulary's alias.
        #expect(shape.vocabularies["Org.OData.Capabilities.V1"] == "Capabilities")
        #expect(shape.annotations["Capabilities.FilterFunctions"] == FilterFunction.allCases.map(\.rawValue))
        #expect(shape.annotations["Capabilities.FilterFunctions"]?.contains("contains") == true)
    }
}

/// Collects the CSDL 4.0 elements the test checks.
final class CSDLShape: NSObject, XMLParserDelegate {
    var root: String?
    var rootNamespace: String?
    var version: String?
    var sawDataServices = false
    var schemaNamespace: String?
    var schemaInEdmNamespace = false
    var types: [String: (keys: [String], properties: [String: String])] = [:]
    var sets: [String: String] = [:]
    /// Included vocabularies: namespace → alias.
    var vocabularies: [String: String] = [:]
    /// The container's annotations: term → the strings of its collection.
    var annotations: [String: [String]] = [:]
    private var currentType: String?
    private var currentAnnotation: String?
    private var text = ""

    func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        let edm = namespaceURI == "http://docs.oasis-open.org/odata/ns/edm"
        switch name {
        case "Edmx" where root == nil:
            root = name
            rootNamespace = namespaceURI
            version = attributes["Version"]
        case "DataServices": sawDataServices = namespaceURI == "http://docs.oasis-open.org/odata/ns/edmx"
        case "Schema":
            schemaNamespace = attributes["Namespace"]
            schemaInEdmNamespace = edm
        case "EntityType" where edm:
            currentType = attributes["Name"]
            if let currentType { types[currentType] = ([], [:]) }
        case "PropertyRef" where edm:
            if let currentType, let key = attributes["Name"] { types[currentType]?.keys.append(key) }
        case "Property" where edm:
            if let currentType, let property = attributes["Name"], let type = attributes["Type"] {
                types[currentType]?.properties[property] = type
            }
        case "EntitySet" where edm:
            if let set = attributes["Name"], let type = attributes["EntityType"] { sets[set] = type }
        case "Include" where namespaceURI == "http://docs.oasis-open.org/odata/ns/edmx":
            if let namespace = attributes["Namespace"] { vocabularies[namespace] = attributes["Alias"] ?? namespace }
        case "Annotation" where edm:
            currentAnnotation = attributes["Term"]
            if let currentAnnotation { annotations[currentAnnotation] = [] }
        case "String" where edm: text = ""
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        switch name {
        case "EntityType": currentType = nil
        case "Annotation": currentAnnotation = nil
        case "String": if let currentAnnotation { annotations[currentAnnotation]?.append(text) }
        default: break
        }
    }
}
