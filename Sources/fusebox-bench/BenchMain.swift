import Foundation

/// `fusebox-bench SUITE [--json] [options]`: release-mode benchmarks that print figures.
/// Suites: `io` (safetensors vs Python and cp), `fusion` (training and prediction speed and
/// quality), `registry` (store operations). Figures are medians over repeats with the range.
@main
enum BenchMain {
    static func main() async throws {
        var arguments = Array(CommandLine.arguments.dropFirst())
        guard let suite = arguments.first else {
            FileHandle.standardError.write(
                Data(
                    "usage: fusebox-bench io|fusion|registry [--json] [--size-mib N] [--repeats N] [--only limits,metrics,versions,aliases,search,files] [--db postgres://…] [--search-store URL]\n"
                        .utf8
                )
            )
            exit(64)
        }
        arguments.removeFirst()
        let options = BenchOptions(arguments)
        switch suite {
        case "io": try IOBenchmark(options: options).run()
        case "io-phase": try IOBenchmark.phase(arguments)
        case "fusion": try FusionBenchmark(options: options).run()
        case "registry": try await RegistryBenchmark(options: options).run()
        default:
            FileHandle.standardError.write(Data("fusebox-bench: unknown suite '\(suite)'\n".utf8))
            exit(64)
        }
    }
}

/// `--name value` and `--flag` options.
struct BenchOptions {
    var values: [String: String] = [:]
    init(_ arguments: [String]) {
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            if a.hasPrefix("--") {
                if i + 1 < arguments.count, !arguments[i + 1].hasPrefix("--") {
                    values[String(a.dropFirst(2))] = arguments[i + 1]
                    i += 2
                    continue
                }
                values[String(a.dropFirst(2))] = ""
            }
            i += 1
        }
    }
    func int(_ key: String, _ fallback: Int) -> Int { values[key].flatMap(Int.init) ?? fallback }
    func string(_ key: String, _ fallback: String) -> String { values[key] ?? fallback }
    var json: Bool { values["json"] != nil }
}
