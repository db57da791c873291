//! Which shard the engine is working for, on any of its tasks.
//!
//! Some of what goes wrong inside whatsapp-rust is only logged, never reported as an event: a
//! history chunk that could not be downloaded or inflated, for one. A log record does not say
//! which client wrote it, and many shards share the process. So every engine task runs inside
//! its shard's [`EngineScope`]: the engine spawns its tasks through our [`ScopedRuntime`] (its
//! `Runtime` extension point), which carries the scope into each task (a tokio task-local) and
//! each blocking job (a thread-local), and the shard's own run loop is wrapped with
//! [`in_scope`]. The process' logger hands each engine warning and error to [`observe`], which
//! gives it to the scope it was written in, if any.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use wacore::runtime::{AbortHandle, Runtime};

/// An engine warning or error, written while working for a shard.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineLog {
    pub level: log::Level,
    /// The module that wrote it, e.g. `whatsapp_rust::history_sync`.
    pub target: String,
    pub message: String,
}

/// What a shard does with the engine's warnings and errors.
pub type EngineLogHook = Box<dyn Fn(EngineLog) + Send + Sync>;

pub struct EngineScope {
    hook: EngineLogHook,
}

impl EngineScope {
    pub fn new(hook: EngineLogHook) -> Arc<EngineScope> {
        Arc::new(EngineScope { hook })
    }
}

tokio::task_local! {
    static CURRENT: Arc<EngineScope>;
}

thread_local! {
    /// The scope of the blocking job running on this thread, if any.
    static BLOCKING: RefCell<Option<Arc<EngineScope>>> = const { RefCell::new(None) };
}

/// `future`, run inside `scope` (the shard's run loop, which the engine does not spawn itself).
pub fn in_scope<F: Future>(scope: Arc<EngineScope>, future: F) -> impl Future<Output = F::Output> {
    CURRENT.scope(scope, future)
}

/// The scope the calling task works in, if any: for a task a shard spawns on the engine's behalf.
pub fn current() -> Option<Arc<EngineScope>> {
    CURRENT.try_with(Arc::clone).ok()
}

/// Targets of the engine's crates: their module paths, and the names some of its records give
/// instead (`Client/AppState`, `AppState`, `Bot/PairCode`, ...).
fn is_engine(target: &str) -> bool {
    target.starts_with("whatsapp_rust")
        || target.starts_with("wacore")
        || target.starts_with("Bot/")
        || target.starts_with("Client/")
        || target == "AppState"
}

/// Called by the process' logger for every record it is given: an engine warning or error
/// written inside a shard's scope goes to that shard.
pub fn observe(record: &log::Record) {
    if record.level() > log::Level::Warn || !is_engine(record.target()) {
        return;
    }
    let deliver = |scope: &Arc<EngineScope>| {
        (scope.hook)(EngineLog { level: record.level(), target: record.target().to_owned(), message: record.args().to_string() })
    };
    if CURRENT.try_with(deliver).is_err() {
        BLOCKING.with(|b| {
            if let Some(scope) = b.borrow().as_ref() {
                deliver(scope);
            }
        });
    }
}

/// The engine's runtime for one shard: tokio's, with the shard's scope carried into every task.
pub struct ScopedRuntime {
    scope: Arc<EngineScope>,
}

impl ScopedRuntime {
    pub fn new(scope: Arc<EngineScope>) -> ScopedRuntime {
        ScopedRuntime { scope }
    }
}

type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

impl Runtime for ScopedRuntime {
    fn spawn(&self, future: BoxFuture) -> AbortHandle {
        let handle = tokio::spawn(CURRENT.scope(self.scope.clone(), future));
        AbortHandle::new(move || handle.abort())
    }

    fn spawn_detached(&self, future: BoxFuture) {
        tokio::spawn(CURRENT.scope(self.scope.clone(), future));
    }

    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(tokio::time::sleep(duration))
    }

    fn spawn_blocking(&self, f: Box<dyn FnOnce() + Send + 'static>) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        let scope = self.scope.clone();
        let job = tokio::task::spawn_blocking(move || {
            let previous = BLOCKING.with(|b| b.replace(Some(scope)));
            f();
            BLOCKING.with(|b| *b.borrow_mut() = previous);
        });
        Box::pin(async move {
            let _ = job.await;
        })
    }

    fn yield_now(&self) -> Option<Pin<Box<dyn Future<Output = ()> + Send>>> {
        // A multi-thread runtime: other tasks run on other threads meanwhile.
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn record_into(seen: Arc<Mutex<Vec<String>>>) -> Arc<EngineScope> {
        EngineScope::new(Box::new(move |log: EngineLog| seen.lock().unwrap().push(format!("{}: {}", log.target, log.message))))
    }

    fn observe_error(target: &str, message: &str) {
        observe(&log::Record::builder().level(log::Level::Error).target(target).args(format_args!("{message}")).build());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn engine_records_reach_the_scope_of_the_task_or_job_that_wrote_them() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let runtime = ScopedRuntime::new(record_into(seen.clone()));
        let (tx, rx) = tokio::sync::oneshot::channel();
        runtime.spawn_detached(Box::pin(async move {
            observe_error("whatsapp_rust::history_sync", "in a task");
            observe_error("hyper::client", "not the engine's");
            let _ = tx.send(());
        }));
        rx.await.unwrap();
        runtime.spawn_blocking(Box::new(|| observe_error("wacore::download", "in a blocking job"))).await;
        in_scope(record_into(seen.clone()), async { observe_error("whatsapp_rust::client", "in the run loop") }).await;
        observe_error("whatsapp_rust::client", "outside any shard");
        assert_eq!(
            *seen.lock().unwrap(),
            ["whatsapp_rust::history_sync: in a task", "wacore::download: in a blocking job", "whatsapp_rust::client: in the run loop"]
        );
    }
}
