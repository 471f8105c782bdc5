import Foundation
import FuseboxTestSupport
import Testing

@testable import RegistryStore

struct ClockTests {
    /// `isoDate` writes what Foundation's ISO 8601 formatter writes, second for second.
    @Test func isoDateAgreesWithFoundationsFormatter() {
        var rng = TestRandom(seed: 11)
        let formatter = ISO8601DateFormatter()
        let samples =
            [0, 1.999, 951_782_400, 1_796_069_571.567, 4_102_444_799.5]
            + (0..<200).map { _ in Double.random(in: 0...4_102_444_800, using: &rng) }
        for seconds in samples {
            #expect(isoDate(seconds) == formatter.string(from: Date(timeIntervalSince1970: seconds.rounded(.down))))
        }
        #expect(isoDate(1_796_069_571.567) == "2026-11-30T20:12:51Z")
    }
}
