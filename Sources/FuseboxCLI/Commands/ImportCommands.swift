import ArgumentParser
import RegistryJSON
import RegistryStore

extension Fusebox {
    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Bring another tracker's history into the store.",
            subcommands: [MLflow.self]
        )
    }
}

extension Fusebox.Import {
    struct MLflow: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "mlflow",
            abstract:
                "Import an MLflow SQLite tracking database: experiments, runs, artifacts, models, versions, aliases.",
            discussion: """
                Runs keep their MLflow ids (the MLflow API of 'fusebox serve' answers to them). A version is \
                imported when its source holds one .safetensors or .npy file; stages Production and Staging \
                become aliases. Running it again adds nothing. One transaction per experiment and per model.
                """
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The MLflow database file (the path of a sqlite:/// tracking URI).") var database: String
        @Option(help: "The folder mlflow-artifacts:/ URIs point to ('mlflow server --artifacts-destination').")
        var artifacts: String?

        func run() async throws {
            let report = try await global.openRegistry(.create).importMLflow(database: database, artifacts: artifacts)
            let rows: [(String, MLflowImportReport.Counts)] = [
                ("experiments", report.experiments), ("runs", report.runs), ("models", report.models),
                ("versions", report.versions), ("aliases", report.aliases),
            ]
            switch global.format {
            case .json: try printJSON(encoding: MLflowImportJSON(report))
            case .csv, .table:
                try Listing(
                    columns: ["kind", "imported", "present", "skipped"],
                    rows: rows.map {
                        [
                            Cell($0.0), .number(Double($0.1.imported)), .number(Double($0.1.present)),
                            .number(Double($0.1.skipped)),
                        ]
                    }
                ).render(global.format, json: [])
                if global.format == .table {
                    Terminal.out(
                        "\(report.metricValues) metric values and \(report.artifacts) artifact files imported."
                    )
                    for note in report.notes { Terminal.out("skipped: \(note)") }
                }
            }
        }
    }
}
