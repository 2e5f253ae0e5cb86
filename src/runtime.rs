//! The tokio runtime all I/O runs on: multi-threaded with named workers, so sending goes
//! on while the window is busy or minimized.

/// Builds the runtime. Blocking work (the outbox, starting programs) runs on a small pool
/// whose idle threads go after two seconds: a burst of calls leaves no crowd of threads
/// (and their stacks) behind.
pub fn build() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(16)
        .thread_keep_alive(std::time::Duration::from_secs(2))
        .thread_name("pyrus-io")
        .enable_all()
        .build()
}
