/// One row of an entity set: its values in the order of the set's ``EntitySet/properties``.
///
/// Why not a `[String: ODataValue]`: a query keeps all of its rows from the first page to the last (page links cut
/// their pages from them), and a dictionary of fourteen entries cost about 1.8 KB a row; an array of values in the
/// properties' order costs a quarter of that, and reading a property is one index instead of a hash lookup.
struct ODataRow: Sendable {
    /// The set whose properties the values follow.
    let set: EntitySet
    /// The values, parallel to the set's properties; `null` until set.
    private(set) var values: [ODataValue]

    /// A row of `set` with every property `null`.
    init(_ set: EntitySet) {
        self.set = set
        values = Array(repeating: .null, count: set.propertyIndex.count)
    }

    /// A property's value by name (`null` for a name the set does not have); setting a name the set does not
    /// have is a programming error, caught in debug builds.
    subscript(property: String) -> ODataValue {
        get { set.propertyIndex[property].map { values[$0] } ?? .null }
        set {
            guard let index = set.propertyIndex[property] else {
                assertionFailure("\(set.rawValue) has no property \(property)")
                return
            }
            values[index] = newValue
        }
    }

    /// A property's value by its index in the set's properties.
    subscript(index index: Int) -> ODataValue { values[index] }
}

/// What a `$filter` reads a row's properties through: a feed row, or a plain dictionary in tests.
protocol ODataPropertyLookup {
    /// The property's value, `null` when the row has none of that name.
    func value(of property: String) -> ODataValue
}

extension ODataRow: ODataPropertyLookup {
    func value(of property: String) -> ODataValue { self[property] }
}

extension Dictionary: ODataPropertyLookup where Key == String, Value == ODataValue {
    func value(of property: String) -> ODataValue { self[property] ?? .null }
}

extension EntitySet {
    /// Each property's index in ``properties``.
    var propertyIndex: [String: Int] { Self.propertyIndexes[self] ?? [:] }

    private static let propertyIndexes: [EntitySet: [String: Int]] = Dictionary(
        uniqueKeysWithValues: allCases.map { set in
            (set, Dictionary(uniqueKeysWithValues: set.properties.enumerated().map { ($0.element.name, $0.offset) }))
        })
}
