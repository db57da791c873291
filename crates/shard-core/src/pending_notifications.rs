//! When to say `connection.update { receivedPendingNotifications: true }`.
//!
//! Baileys says it once per connection, after `open`, when the server's `<ib><offline/></ib>`
//! ends the offline queue. The engine can finish the offline queue before it reports
//! `Connected` (it answers the login's first queries first), so the end of the queue seen
//! before `open` is held and announced right after it.

use std::sync::Mutex;

#[derive(Default)]
struct State {
    open: bool,
    delivered_early: bool,
}

/// The order of `open` and the end of the offline queue on the current connection.
#[derive(Default)]
pub struct PendingNotifications {
    state: Mutex<State>,
}

impl PendingNotifications {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The connection is open. True if the offline queue was delivered already: announce it
    /// now, after `open`.
    pub fn opened(&self) -> bool {
        let mut state = self.state();
        state.open = true;
        std::mem::take(&mut state.delivered_early)
    }

    /// The offline queue was delivered. True to announce it now; false holds it until `opened`.
    pub fn delivered(&self) -> bool {
        let mut state = self.state();
        if !state.open {
            state.delivered_early = true;
        }
        state.open
    }

    /// The connection ended: the next one starts over.
    pub fn reset(&self) {
        *self.state() = State::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_end_of_the_offline_queue_is_announced_after_open_once() {
        let p = PendingNotifications::default();
        // Delivered first: held, then announced with `open`.
        assert!(!p.delivered());
        assert!(p.opened());
        // The usual order: announced when delivered.
        p.reset();
        assert!(!p.opened());
        assert!(p.delivered());
        // A connection that dropped before it opened does not leak into the next.
        p.reset();
        assert!(!p.delivered());
        p.reset();
        assert!(!p.opened());
    }
}
