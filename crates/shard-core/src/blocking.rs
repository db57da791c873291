//! Blocking work on the engines' async worker threads.

/// Runs work that blocks for a while (fsync and syncfs, inflating and decoding a history
/// chunk). On the engines' multi-thread runtime the worker first hands its other tasks to
/// another thread (`block_in_place`), so one shard's work never stalls other shards' keepalives
/// and messages, and the caller still gets the result in order; elsewhere (no runtime, a
/// current-thread runtime, where that is not possible) it runs as it is.
pub(crate) fn off_the_workers<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => tokio::task::block_in_place(work),
        _ => work(),
    }
}
