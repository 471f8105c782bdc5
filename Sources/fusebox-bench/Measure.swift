import Foundation

/// Timing helpers: wall-clock seconds, medians and ranges.
enum Measure {
    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    static func asyncSeconds(_ body: () async throws -> Void) async rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try await body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// `median (min–max)` with the given format.
    static func summary(_ xs: [Double], _ format: String = "%.3f") -> String {
        "\(String(format: format, median(xs))) (\(String(format: format, xs.min()!))–\(String(format: format, xs.max()!)))"
    }
}

/// Runs a program as a child and reports its wall time and peak resident set.
enum Child {
    struct Result {
        var seconds: Double
        var peakRSSMiB: Double
        var output: String
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> Result {
        var pid: pid_t = 0
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let outputPath = NSTemporaryDirectory() + "bench-child-\(getpid())-\(UUID().uuidString)"
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let start = DispatchTime.now().uptimeNanoseconds
        guard posix_spawnp(&pid, executable, &actions, nil, argv, environ) == 0 else {
            throw NSError(domain: "bench", code: 1, userInfo: [NSLocalizedDescriptionKey: "cannot start \(executable)"])
        }
        var status: Int32 = 0
        var usage = rusage()
        // The child's own peak, read from /proc while it runs: `ru_maxrss` of a spawned child
        // starts from the parent's high-water mark (Linux folds the old address space's peak in at
        // exec), so a bench that held 1 GiB would report 1 GiB for every child.
        var peakKiB = 0
        while wait4(pid, &status, WNOHANG, &usage) == 0 {
            peakKiB = max(peakKiB, highWaterMarkKiB(of: pid) ?? 0)
            usleep(2_000)
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: outputPath)
        guard status == 0 else {
            throw NSError(
                domain: "bench",
                code: 1,
                userInfo: [NSLocalizedDescriptionKey: "\(executable) \(arguments) failed (\(status)): \(output)"]
            )
        }
        return Result(
            seconds: seconds,
            peakRSSMiB: Double(peakKiB > 0 ? peakKiB : usage.ru_maxrss) / 1024,
            output: output
        )
    }

    /// `VmHWM` of a running process, in KiB (nil where /proc has no such line).
    static func highWaterMarkKiB(of pid: pid_t) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
        else { return nil }
        return Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "")
    }
}
