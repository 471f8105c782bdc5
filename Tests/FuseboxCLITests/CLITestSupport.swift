import FuseboxTestSupport
import Testing

/// Runs the binary in `dir` and expects it to succeed, reporting its stderr where the call is.
func ok(
    _ arguments: [String],
    _ dir: TemporaryDirectory,
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> CLIResult {
    let r = try FuseboxBinary.run(arguments, in: dir.path)
    #expect(r.status == 0, "\(arguments): \(r.stderr)", sourceLocation: sourceLocation)
    return r
}
