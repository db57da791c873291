//! Locking the server's shared state. A leaf: it imports nothing from the crate, so every
//! feature can lock its own state without depending on the server state that holds it.

use std::sync::{Mutex, MutexGuard};

/// Locks a mutex even if a panicking thread poisoned it: the mock must keep serving.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
