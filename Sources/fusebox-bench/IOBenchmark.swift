import Foundation
import TensorCore
import TensorIO

/// Writes and reads a large safetensors file with Fusebox, Python's `safetensors.numpy`, and
/// `cp`, in the same run on the same file size. Each phase is a child process so its peak RSS is
/// its own. Page cache is warm for every contender alike (the file was just written).
struct IOBenchmark {
    let options: BenchOptions

    func run() throws {
        let sizeMiB = options.int("size-mib", 1024)
        let repeats = options.int("repeats", 3)
        let dir = options.string("dir", NSTemporaryDirectory() + "fusebox-io-bench")
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let me = CommandLine.arguments[0]
        let swiftFile = dir + "/swift.safetensors"
        let pyFile = dir + "/python.safetensors"
        let mb = Double(sizeMiB) * 1.048576
        var rows: [(String, [Double], [Double])] = []  // name, MB/s, peak RSS MiB

        func measure(_ name: String, _ body: () throws -> Child.Result) rethrows {
            var speeds: [Double] = []
            var rss: [Double] = []
            for _ in 0..<repeats {
                let r = try body()
                // A child that reports its own timing prints "seconds=X"; otherwise use the wall time.
                let inner = r.output.split(separator: "\n").first { $0.hasPrefix("seconds=") }.flatMap {
                    Double($0.dropFirst(8))
                }
                speeds.append(mb / (inner ?? r.seconds))
                rss.append(r.peakRSSMiB)
            }
            rows.append((name, speeds, rss))
            FileHandle.standardError.write(Data("\(name): \(Measure.summary(speeds, "%.0f")) MB/s\n".utf8))
        }

        try measure("fusebox write") { try Child.run(me, ["io-phase", "write", swiftFile, String(sizeMiB)]) }
        try measure("fusebox read (all tensors)") { try Child.run(me, ["io-phase", "read", swiftFile]) }
        try measure("fusebox streamed read (4 MiB chunks, one buffer)") {
            try Child.run(me, ["io-phase", "stream", swiftFile])
        }
        try measure("fusebox header only") { try Child.run(me, ["io-phase", "header", swiftFile]) }
        try measure("cp") { try Child.run("cp", [swiftFile, dir + "/copy.safetensors"]) }
        let python = ProcessInfo.processInfo.environment["PYTHON"] ?? "python3"
        let pyWrite = """
            import sys, time, numpy as np
            from safetensors.numpy import save_file
            n = int(sys.argv[2]) * (1 << 20) // 4 // 8
            t = {f"t{i}": np.full(n, i, dtype=np.float32) for i in range(8)}
            s = time.perf_counter(); save_file(t, sys.argv[1]); print(f"seconds={time.perf_counter() - s}")
            """
        let pyRead = """
            import sys, time
            from safetensors.numpy import load_file
            s = time.perf_counter(); d = load_file(sys.argv[1]); print(f"seconds={time.perf_counter() - s}")
            """
        do {
            try measure("python safetensors save_file") {
                try Child.run(python, ["-c", pyWrite, pyFile, String(sizeMiB)])
            }
            try measure("python safetensors load_file") { try Child.run(python, ["-c", pyRead, pyFile]) }
        } catch {
            FileHandle.standardError.write(Data("python side skipped: \(error.localizedDescription)\n".utf8))
        }

        print("| step (\(sizeMiB) MiB, 8 tensors, warm cache) | MB/s median (range) | peak RSS MiB |")
        print("|---|---|---|")
        for (name, speeds, rss) in rows {
            // Reading only the header moves no data: report the whole child process's time.
            let figure =
                name.hasSuffix("header only")
                ? Measure.summary(speeds.map { mb / $0 * 1000 }, "%.1f") + " ms" : Measure.summary(speeds, "%.0f")
            print("| \(name) | \(figure) | \(String(format: "%.0f", Measure.median(rss))) |")
        }
        let cp = rows.first { $0.0 == "cp" }.map { Measure.median($0.1) } ?? .nan
        let read = rows.first { $0.0.hasPrefix("fusebox read") }.map { Measure.median($0.1) } ?? .nan
        let pyLoad = rows.first { $0.0.hasSuffix("load_file") }.map { Measure.median($0.1) } ?? .nan
        print(
            String(
                format: "\nfusebox read / cp = %.2f; fusebox read / python load_file = %.2f",
                read / cp,
                read / pyLoad
            )
        )
    }

    /// One phase, run in a child process: `write PATH MIB`, `read PATH`, `stream PATH`, `header PATH`.
    static func phase(_ arguments: [String]) throws {
        let path = arguments[1]
        switch arguments[0] {
        case "write":
            let n = Int(arguments[2])! * (1 << 20) / 4 / 8
            let tensors = (0..<8).map { i in
                ("t\(i)", Tensor(floats: [Float](repeating: Float(i), count: n), shape: [n]))
            }
            let s = try Measure.seconds { try SafetensorsWriter.write(tensors, toPath: path) }
            print("seconds=\(s)")
        case "read":
            var total = 0
            let s = try Measure.seconds {
                let file = try SafetensorsFile(path: path)
                for e in file.header.entries { total += try file.tensor(e).bytes.count }
            }
            print("seconds=\(s)\nbytes=\(total)")
        case "stream":
            let s = try Measure.seconds {
                let file = try SafetensorsFile(path: path)
                for e in file.header.entries {
                    var bytes = 0
                    try file.forEachChunk(of: e) { bytes += $0.count }
                    precondition(bytes == e.dataRange.count)
                }
            }
            print("seconds=\(s)")
        case "header":
            let file = try SafetensorsFile(path: path)
            print("tensors=\(file.header.entries.count)")
        default: fatalError("unknown phase")
        }
    }
}
