//! The one error channel from the addon to JS: every `ShardError` becomes a JS `Error` whose
//! `code` is the ShardError's code (`INVALID_ARGUMENT`, `NOT_CONNECTED`, …), created by
//! N-API itself (`napi_create_error(code, message)`), so JS reads `err.code` and parses nothing.
//!
//! Synchronous calls return [`Result`]; asynchronous ones return [`settle`]'s promise, which
//! rejects with the same kind of error.

use std::future::Future;

use napi::bindgen_prelude::{PromiseRaw, ToNapiValue, Unknown};
use napi::{Env, JsError};
use napi_derive::napi;
use shard_core::{ErrorCode, ShardError};

/// A `ShardError` code as the JS error's `code`.
pub struct Code(ErrorCode);

impl AsRef<str> for Code {
    fn as_ref(&self) -> &str {
        self.0.as_str()
    }
}

/// What a binding call returns (`errors::Result`, imported as `js::Result`): its error is
/// thrown with the ShardError's `code`. napi-rs recognises results by the name `Result`.
pub type Result<T> = std::result::Result<T, napi::Error<Code>>;

pub fn js_error(error: ShardError) -> napi::Error<Code> {
    napi::Error::new(Code(error.code), error.message)
}

pub fn invalid_argument(message: impl Into<String>) -> ShardError {
    ShardError::new(ErrorCode::InvalidArgument, message)
}

/// A JS argument the addon cannot read (while N-API converts it, before the call runs): JS
/// sees N-API's own `InvalidArg` code, which `lib/errors.js` reports as `INVALID_ARGUMENT`.
pub fn unreadable_argument(message: impl Into<String>) -> napi::Error {
    napi::Error::new(napi::Status::InvalidArg, message.into())
}

/// A failure of N-API itself (not of the shard) inside a call, e.g. a JS value it could not build.
fn napi_failure(error: napi::Error) -> napi::Error<Code> {
    js_error(ShardError::new(ErrorCode::InvalidArgument, error.reason))
}

/// Runs `work` on the addon's async runtime: the promise resolves to its value, or rejects with
/// the JS error of its `ShardError` (built on the JS thread, where the value is settled).
pub fn settle<'env, T, F>(env: &'env Env, work: F) -> Result<PromiseRaw<'env, T>>
where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = std::result::Result<T, ShardError>> + Send + 'static,
{
    // A panic in `work` rejects the promise instead of leaving it pending forever.
    let work =
        async move { futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(work)).await.unwrap_or_else(|p| Err(panicked(p))) };
    env.spawn_future_with_callback(async move { Ok(work.await) }, |env, outcome| match outcome {
        Ok(value) => Ok(value),
        Err(error) => Err(rejection(env, error)),
    })
    .map_err(napi_failure)
}

/// `INTERNAL`: what a caught panic becomes (synchronous calls get napi's own error for it,
/// `#[napi(catch_unwind)]`).
pub fn panicked(payload: Box<dyn std::any::Any + Send>) -> ShardError {
    let what = shard_core::error::panic_message(&*payload);
    ShardError::new(
        ErrorCode::Internal,
        format!("internal error in baileys-shard ({what}); please report it with the steps that led to it"),
    )
}

/// Test builds only: panics inside a synchronous call (`sync`) or inside an asynchronous one,
/// so tests can see a panic become an error instead of ending the process.
#[cfg(feature = "insecure-test-server")]
#[napi(catch_unwind)]
pub fn panic_for_test<'env>(env: &'env Env, sync: bool) -> Result<PromiseRaw<'env, ()>> {
    if sync {
        panic!("test panic (synchronous)");
    }
    settle(env, async { panic!("test panic (asynchronous)") })
}

/// napi rejects with the very JS object a `napi::Error` holds a reference to: here, the
/// `Error` with our `code`.
fn rejection(env: &Env, error: ShardError) -> napi::Error {
    // SAFETY: `env` is the live environment of the JS thread this callback runs on, and the
    // value passed to `from_raw_unchecked` is the error object just created in it.
    unsafe {
        let value = JsError::from(js_error(error)).into_value(env.raw());
        napi::Error::from(Unknown::from_raw_unchecked(env.raw(), value))
    }
}

/// Every `code` a ShardError can carry, so JS can tell ours from N-API's own (`InvalidArg`, …).
#[napi(catch_unwind)]
pub fn error_codes() -> Vec<&'static str> {
    ErrorCode::ALL.iter().map(|c| c.as_str()).collect()
}
