/// When a `running` run counts as abandoned, so that opening a store marks it failed.
///
/// A run records its owner (host, kernel boot id, pid) and a heartbeat its owner refreshes every
/// ``heartbeatInterval`` while it works. A run is abandoned only when its owner is provably gone:
/// - same host, same boot, and no process with that pid exists;
/// - same host, another boot (the machine restarted);
/// - or, from any host, no heartbeat for ``staleAfter`` (an owner on another machine cannot be
///   asked, and a pid may have been reused by an unrelated process).
/// A live run on another host is never touched while its heartbeat is fresh.
public enum RunLiveness {
    /// How often a working owner refreshes its heartbeat, in seconds.
    public static let heartbeatInterval = 30.0
    /// How long without a heartbeat before a run counts as abandoned, in seconds (ten intervals).
    public static let staleAfter = 300.0

    /// Why the run is abandoned, or nil while its owner may be alive. Runs recorded before hosts were
    /// (no host) are judged as this host's.
    static func reasonAbandoned(pid: Int64?, bootID: String?, host: String?, heartbeat: Double, now: Double) -> String?
    {
        if host == nil || host == ProcessIdentity.host {
            if bootID != ProcessIdentity.bootID { return "the machine restarted during the run" }
            if let pid, !ProcessIdentity.isAlive(pid) {
                return "its process (pid \(pid)) ended without finishing the run"
            }
        }
        if now - heartbeat > staleAfter {
            return "no sign of life from its process (pid \(pid ?? 0) on \(host ?? "?")) for \(Int(now - heartbeat)) s"
        }
        return nil
    }
}

/// Who owns a running run, and so how its liveness is judged (``RunLiveness``).
public enum RunOwner: Sendable, Hashable {
    /// This process: its host, boot id and pid are recorded.
    case thisProcess
    /// A client of the server (e.g. `http 10.0.0.7`): no pid or boot id can be checked, so only the
    /// heartbeat (refreshed by every write to the run) tells that it is alive.
    case remote(String)

    var pid: Int64? { self == .thisProcess ? ProcessIdentity.pid : nil }
    var bootID: String? { self == .thisProcess ? ProcessIdentity.bootID : nil }
    var host: String {
        switch self {
        case .thisProcess: ProcessIdentity.host
        case .remote(let client): client
        }
    }
}
