import NIOCore

/// Runs a task's jobs on one NIO event loop, the one its connection's channel lives on.
///
/// The registry is synchronous: a thread waits for each statement's result. postgres-nio runs a
/// prepared statement only from an async function, so a task runs it; on this executor the task
/// needs no thread of Swift's cooperative pool, which the waiting thread may itself be (a
/// synchronous caller in async code), and it runs beside the channel it writes to.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        eventLoop.execute { job.runSynchronously(on: executor) }
    }
}
