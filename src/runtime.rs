//! The tokio runtime all I/O runs on: multi-threaded with named workers, so sending goes
//! on while the window is busy or minimized.

/// Builds the runtime.
pub fn build() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("pyrus-io")
        .enable_all()
        .build()
}
