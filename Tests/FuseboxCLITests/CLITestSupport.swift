import FuseboxTestSupport
import Testing

/// Runs the binary in `dir` (with `environment`, e.g. the store as `FUSEBOX_DB`) and expects it to
/// succeed, reporting its stderr where the call is.
func ok(
    _ arguments: [String],
    _ dir: TemporaryDirectory,
    environment: [String: String] = [:],
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> CLIResult {
    let r = try FuseboxBinary.run(arguments, in: dir.path, environment: environment)
    #expect(r.status == 0, "\(arguments): \(r.stderr)", sourceLocation: sourceLocation)
    return r
}
