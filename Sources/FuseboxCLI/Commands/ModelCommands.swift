import ArgumentParser
import Foundation
import FusionCore
import RegistryJSON
import RegistryStore
import TensorCore

extension Fusebox {
    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create the store, or upgrade an older one in place.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let registry = try global.openRegistry(.create)
            let applied = try await registry.appliedMigrations()
            try printDone(
                "Store '\(registry.path)' is ready (schema \(applied.last ?? "none"), \(applied.count) migrations).",
                ["store": registry.path, "schema": applied.last ?? "", "migrations": applied.count],
                format: global.format
            )
        }
    }

    struct Register: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register an externally trained model's safetensors file as a new component version.",
            discussion: "The file is streamed (bounded memory) and exported later with the same SHA-256."
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Component model name, e.g. 'image-cnn'.") var model: String
        @Option(help: "The model's weights (.safetensors).") var weights: String
        @Option(help: "KEY=VALUE tag; repeat.") var tag: [String] = []

        func run() async throws {
            let tags = try parsePairs(tag, option: "--tag")
            let registry = try global.openRegistry(.create)
            let number = try await registry.registerComponent(model: model, safetensorsPath: weights, tags: tags)
            let version = try await registry.version(VersionReference(model: model, selector: .number(number)))
            let bytes = version.tensors.reduce(0) { $0 + $1.byteCount }
            try printDone(
                "\(model)@\(number) registered: \(version.tensors.count) tensors, \(bytes) bytes.",
                ["model": model, "version": number, "tensors": version.tensors.count, "bytes": bytes],
                format: global.format
            )
        }
    }

    struct Models: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the registered models.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let models = try await global.openRegistry(.read).models()
            try Listing(
                columns: ["model", "kind", "versions", "latest", "aliases", "created"],
                rows: models.map { m in
                    [
                        m.name, m.kind.rawValue, String(m.versionCount), m.latestVersion.map(String.init) ?? "-",
                        m.aliases.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "),
                        isoDate(m.createdAt),
                    ]
                }
            ).render(global.format, encoding: models.map(ModelJSON.init))
        }
    }

    struct Versions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a model's versions, newest first.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Model name.") var model: String

        func run() async throws {
            let versions = try await global.openRegistry(.read).versions(of: model)
            let keys = ["val_accuracy", "val_macro_f1", "val_nll"]
            try Listing(
                columns: ["version", "created", "aliases", "method"] + keys,
                rows: versions.map { v in
                    [
                        Cell(String(v.number)), Cell(isoDate(v.createdAt)), Cell(v.aliases.joined(separator: ",")),
                        Cell(v.spec?.method.rawValue ?? v.kind.rawValue),
                    ]
                        + keys.map { Cell.number(v.metrics[$0]) }
                }
            ).render(global.format, encoding: versions.map(VersionJSON.init))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one version: spec, tensors, lineage, tags and metrics."
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Reference: MODEL@N, MODEL@ALIAS, MODEL@latest or MODEL.") var reference: String

        func run() async throws {
            let v = try await global.openRegistry(.read).version(Fusebox.reference(reference))
            switch global.format {
            case .json: return try printJSON(encoding: VersionJSON(v))
            case .csv:
                var rows: [[Cell]] = [
                    ["model", "", Cell(v.model)], ["version", "", Cell(String(v.number))],
                    ["kind", "", Cell(v.kind.rawValue)],
                    ["created", "", Cell(isoDate(v.createdAt))], ["method", "", Cell(v.spec?.method.rawValue ?? "")],
                ]
                rows += v.aliases.map { ["alias", "", Cell($0)] }
                if let spec = v.spec {
                    rows += spec.modalities.map {
                        [
                            "modality", Cell($0.name),
                            Cell("\($0.kind.rawValue) \($0.width): \(VersionJSON.branchDescription($0, of: spec))"),
                        ]
                    }
                }
                rows += v.tensors.map { ["tensor", Cell($0.name), Cell($0.sha256)] }
                rows += v.trainingRun.map { [["training_run", "", Cell(String($0))]] } ?? []
                rows += v.datasets.sorted { $0.key < $1.key }.map { ["dataset", Cell($0.key), Cell($0.value)] }
                rows += v.components.sorted { $0.key < $1.key }.map { ["component", Cell($0.key), Cell($0.value)] }
                rows += v.tags.sorted { $0.key < $1.key }.map { ["tag", Cell($0.key), Cell($0.value)] }
                rows += v.metrics.sorted { $0.key < $1.key }.map { ["metric", Cell($0.key), .number($0.value)] }
                return try Listing(columns: ["field", "key", "value"], rows: rows).render(.csv, json: [])
            case .table: break
            }
            Terminal.out(Terminal.bold(v.reference) + "  \(v.kind.rawValue)  created \(isoDate(v.createdAt))")
            if let spec = v.spec {
                Terminal.out(
                    "method: \(spec.method.rawValue)  task: \(spec.task.rawValue)  classes: \(spec.classCount)  missing modalities: \(spec.missingModalities.rawValue)"
                )
                Terminal.out(
                    "modalities: "
                        + spec.modalities.map { "\($0.name) (\($0.kind.rawValue), \($0.width))" }.joined(
                            separator: ", "
                        )
                )
                let width = spec.modalities.map(\.name.count).max() ?? 0
                for m in spec.modalities {
                    Terminal.out(
                        "  branch \(m.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(VersionJSON.branchDescription(m, of: spec))"
                    )
                }
            }
            if !v.aliases.isEmpty { Terminal.out("aliases: " + v.aliases.joined(separator: ", ")) }
            if let run = v.trainingRun { Terminal.out("training run: \(run)") }
            for (role, fp) in v.datasets.sorted(by: { $0.key < $1.key }) { Terminal.out("dataset \(role): \(fp)") }
            for (m, c) in v.components.sorted(by: { $0.key < $1.key }) { Terminal.out("component \(m): \(c)") }
            for (k, value) in v.tags.sorted(by: { $0.key < $1.key }) { Terminal.out("tag \(k)=\(value)") }
            if !v.metrics.isEmpty {
                Terminal.out(
                    "metrics: "
                        + v.metrics.sorted { $0.key < $1.key }.map { "\($0.key)=\(formatNumber($0.value))" }.joined(
                            separator: " "
                        )
                )
            }
            Terminal.out(
                Listing(
                    columns: ["tensor", "dtype", "shape", "sha256"],
                    rows: v.tensors.map {
                        [$0.name, $0.dtype.rawValue, "\($0.shape)", String($0.sha256.prefix(16)) + "…"]
                    }
                ).table()
            )
        }
    }

}

extension Fusebox {
    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A model's versions and alias events, newest first.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Model name.") var model: String

        func run() async throws {
            let registry = try global.openRegistry(.read)
            let events = try await registry.aliasEvents(of: model)
            if global.format == .json { return try printJSON(encoding: events.map(AliasEventJSON.init)) }
            let versions = try await registry.versions(of: model, includingDeleted: true)
            var rows: [(Double, [String])] = versions.map {
                (
                    $0.createdAt,
                    [
                        isoDate($0.createdAt), "version", "\($0.number)", "", $0.spec?.method.rawValue ?? "",
                        $0.principal ?? "-",
                    ]
                )
            }
            rows += versions.compactMap { v in
                v.deletion.map { d in (d.at, [isoDate(d.at), "deleted", "\(v.number)", "", d.reason, d.by]) }
            }
            rows += events.map { e in
                (
                    e.createdAt,
                    [
                        isoDate(e.createdAt), e.action.rawValue + (e.forced ? " (forced)" : ""),
                        "\(e.alias): \(e.fromVersion.map(String.init) ?? "-") → \(e.toVersion.map(String.init) ?? "-")",
                        e.comparison.map { "comparison \($0)" } ?? "", e.reason, e.principal ?? "-",
                    ]
                )
            }
            try Listing(
                columns: ["time", "event", "what", "evidence", "reason", "by"],
                rows: rows.sorted { $0.0 > $1.0 }.map(\.1)
            ).render(global.format, encoding: events.map(AliasEventJSON.init))
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Delete a version: it can no longer be loaded, its number is never reused, and the deletion is recorded in the history.",
            discussion:
                "Refused while an alias points at it; --force removes those aliases too (recorded). 'fusebox gc' then reclaims its tensor bytes."
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The version, e.g. sentiment@2.") var reference: String
        @Flag(help: "Also remove aliases that point at it.") var force = false
        @Option(help: "Why (recorded).") var reason = ""

        func run() async throws {
            let deletion = try await global.openRegistry(.write).deleteVersion(
                Fusebox.reference(reference),
                force: force,
                reason: reason
            )
            let aliases = deletion.removedAliases.map(\.alias)
            if global.format == .json { return try printJSON(encoding: DeletionJSON(deletion)) }
            try printDone(
                "Deleted \(deletion.reference)\(aliases.isEmpty ? "" : " and removed alias \(aliases.joined(separator: ", "))"); 'fusebox gc' reclaims its bytes.",
                ["deleted": deletion.reference, "removed_aliases": aliases],
                format: global.format
            )
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a version as a safetensors file (a registered file comes out byte-identical)."
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Reference, e.g. image-cnn@3.") var reference: String
        @Option(name: .shortAndLong, help: "Output file (.safetensors).") var output: String
        @Flag(help: "Overwrite an existing file.") var force = false

        func run() async throws {
            let registry = try global.openRegistry(.read)
            let reference = try Fusebox.reference(reference)
            try await registry.exportSafetensors(reference, toPath: output, overwrite: force)
            let version = try await registry.version(reference)
            try printDone(
                "Wrote \(version.reference) to '\(output)'.",
                ["model": version.model, "version": version.number, "file": output],
                format: global.format
            )
        }
    }

}
