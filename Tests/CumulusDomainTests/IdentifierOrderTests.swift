import CumulusDomain
import Foundation
import Testing

@Suite struct IdentifierOrderTests {
    /// Ids order exactly as their canonical strings do (listings and encoded states depend on it), and equal
    /// ids hash equally.
    @Test func idsOrderAsTheirCanonicalStrings() {
        let ids =
            (0..<500).map { _ in UserID(UUID()) } + [
                UserID(UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)))
            ]
        for (lhs, rhs) in zip(ids, ids.shuffled()) {
            #expect((lhs < rhs) == (lhs.description < rhs.description))
        }
        #expect(ids.sorted().map(\.description) == ids.map(\.description).sorted())
        let copy = UserID(ids[0].uuid)
        #expect(copy.hashValue == ids[0].hashValue && Set(ids + [copy]).count == ids.count)
    }
}
