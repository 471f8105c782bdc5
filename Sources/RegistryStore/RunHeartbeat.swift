import Dispatch

/// Refreshes a run's heartbeat every ``RunLiveness/heartbeatInterval`` seconds on a background queue
/// until stopped, so a long epoch or fit is not mistaken for an abandoned run. A failed refresh is
/// retried at the next tick (the run's own writes report errors).
final class RunHeartbeat: @unchecked Sendable {
    private let timer: any DispatchSourceTimer

    init(registry: Registry, run: Int64) {
        timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "fusebox.heartbeat"))
        timer.schedule(deadline: .now() + RunLiveness.heartbeatInterval, repeating: RunLiveness.heartbeatInterval)
        timer.setEventHandler {
            do { try registry.writeBlocking { db in try Registry.touch(run: run, in: db) } } catch {}
        }
        timer.resume()
    }

    /// Stops the timer and releases the store connection it holds (a process that ends with the
    /// connection still open would leave its write-ahead log behind).
    func stop() {
        timer.setEventHandler {}
        timer.cancel()
    }
}
