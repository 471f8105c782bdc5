import FusionCore
import TensorCore
import Testing

/// Prediction computes rows in cache-sized chunks on several cores; rows are independent at
/// inference, so neither the batch size asked for nor the chunking may change a single bit.
struct PredictionChunkTests {
    @Test(arguments: [FusionMethod.concatMLP, .weightedAverage, .gated])
    func probabilitiesDoNotDependOnTheBatchSize(method: FusionMethod) throws {
        // Given a trained model and more rows than one chunk holds
        let (train, test) = try SyntheticData.imageText(samples: 3_000, seed: 5)
        let spec = FusionSpec.standard(for: train, method: method)
        var configuration = TrainingConfiguration()
        configuration.epochs = 2
        let model = try Trainer.train(spec: spec, data: train, configuration: configuration).model
        let rows = try SyntheticData.imageText(samples: 3_000, seed: 6).train
        // When it predicts in one call, in batches of 7 rows, and row by row
        let oneCall = try model.predictProbabilities(rows, batchSize: rows.count)
        let sevens = try model.predictProbabilities(rows, batchSize: 7)
        let single = try model.predictProbabilities(rows, batchSize: 1)
        // Then the probabilities are bit-identical
        #expect(oneCall.rows == rows.count && oneCall.columns == 10)
        #expect(oneCall.values == sevens.values)
        #expect(oneCall.values == single.values)
        #expect(try model.predictProbabilities(test).rows == test.count)
    }
}
