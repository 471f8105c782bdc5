import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Wall-clock time for records (Unix seconds), and the identity of this process for run liveness.
enum Clock {
    static func unixSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// ISO 8601 UTC for a Unix time (`2026-11-30T18:06:14Z`, the second truncated): the one form
/// every message, table and JSON answer gives a time in. Built from `gmtime_r`, not a
/// `DateFormatter`, whose construction cost 0.3 ms a call (a page of runs has two times a run).
public func isoDate(_ seconds: Double) -> String {
    var time = time_t(seconds.rounded(.down))
    var parts = tm()
    gmtime_r(&time, &parts)
    func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
    return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T"
        + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
}

/// Who and where this process is: the principal recorded with what it writes, and the owner of its runs.
public enum ProcessIdentity {
    static var pid: Int64 { Int64(getpid()) }

    /// The OS user running this process (its login name, else `$USER`, else `uid N`).
    public static let user: String = {
        if let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name { return String(cString: name) }
        return ProcessInfo.processInfo.environment["USER"] ?? "uid \(geteuid())"
    }()

    /// This machine's host name, so a run owned by another host is never judged by this host's processes.
    static let host: String = ProcessInfo.processInfo.hostName

    /// The kernel's boot id (Linux), so a run owned by a process of an earlier boot is known dead.
    static let bootID: String = {
        guard let f = fopen("/proc/sys/kernel/random/boot_id", "r") else { return "" }
        defer { fclose(f) }
        var buffer = [CChar](repeating: 0, count: 64)
        guard fgets(&buffer, 64, f) != nil else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()

    /// True when a process with this pid exists on this machine.
    static func isAlive(_ pid: Int64) -> Bool {
        kill(pid_t(pid), 0) == 0 || errno == EPERM
    }
}
