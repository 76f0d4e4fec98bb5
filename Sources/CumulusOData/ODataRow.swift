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

    /// A row of `set` from named values, the others `null`; `index` is `set.propertyIndex`, which a caller making
    /// many rows reads once. A name the set does not have is a programming error, caught in debug builds.
    init(_ set: EntitySet, _ named: some Sequence<(key: String, value: ODataValue)>, index: [String: Int]) {
        self.set = set
        var values = Array(repeating: ODataValue.null, count: index.count)
        for (name, value) in named {
            guard let position = index[name] else {
                assertionFailure("\(set.rawValue) has no property \(name)")
                continue
            }
            values[position] = value
        }
        self.values = values
    }

    /// A property's value by name (`null` for a name the set does not have).
    subscript(property: String) -> ODataValue {
        self.set.propertyIndex[property].map { values[$0] } ?? .null
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
