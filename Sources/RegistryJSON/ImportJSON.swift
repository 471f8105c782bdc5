import RegistryStore

/// `fusebox import mlflow --format json`: counts by kind and every note on what was skipped.
public struct MLflowImportJSON: Encodable, Sendable {
    public struct Counts: Encodable, Sendable {
        public let imported: Int
        public let present: Int
        public let skipped: Int

        init(_ c: MLflowImportReport.Counts) {
            imported = c.imported
            present = c.present
            skipped = c.skipped
        }
    }

    public let experiments: Counts
    public let runs: Counts
    public let metric_values: Int
    public let artifacts: Int
    public let models: Counts
    public let versions: Counts
    public let aliases: Counts
    public let notes: [String]

    public init(_ r: MLflowImportReport) {
        experiments = Counts(r.experiments)
        runs = Counts(r.runs)
        metric_values = r.metricValues
        artifacts = r.artifacts
        models = Counts(r.models)
        versions = Counts(r.versions)
        aliases = Counts(r.aliases)
        notes = r.notes
    }
}
