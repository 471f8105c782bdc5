import Foundation
import Testing

@testable import FusionCore

/// The table of operators: names are unique, round-trip, and are the only ones a spec accepts.
struct OperatorTableTests {
    @Test func everyMethodNameRoundTripsAndNamesItsOwnType() throws {
        let names = FusionMethod.allCases.map(\.rawValue)
        #expect(Set(names).count == names.count)
        for method in FusionMethod.allCases {
            #expect(FusionMethod(rawValue: method.rawValue) == method)
            #expect(method.operatorType.method == method)
            let json = try JSONEncoder().encode([method])
            #expect(String(decoding: json, as: UTF8.self) == "[\"\(method.rawValue)\"]")
            #expect(try JSONDecoder().decode([FusionMethod].self, from: json) == [method])
        }
    }

    @Test func anUnknownMethodIsRefusedWhenDecoded() {
        #expect(FusionMethod(rawValue: "weighted-averge") == nil)
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode([FusionMethod].self, from: Data("[\"weighted-averge\"]".utf8))
        }
    }

    @Test func aMethodLearnsWhenItsOperatorOrItsHeadIsFitted() {
        #expect(!FusionMethod.mean.isLearned)
        #expect(!FusionMethod.product.isLearned)
        #expect(FusionMethod.weightedAverage.isLearned)
        #expect(FusionMethod.concatMLP.isLearned)
        #expect(FusionMethod.concat.isLearned)
    }

    @Test func everyOperatorDeclaresHowItTreatsAnAbsentModality() {
        #expect(FusionMethod.weightedAverage.absentModality == .renormalizeWeights)
        #expect(FusionMethod.concatMLP.absentModality == .refused)
        #expect(FusionMethod.max.absentModality == .presentModalitiesOnly)
        for method in FusionMethod.allCases { #expect(!method.absentModality.description.isEmpty) }
    }
}
