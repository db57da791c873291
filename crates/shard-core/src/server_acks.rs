//! `sendMessage` resolves once the server acknowledged the message, not when it was written
//! to a socket: a message written into a connection that dies before the server reads it is
//! never acked and never delivered. Waiting for the `<ack>` turns that silent loss into an
//! error the caller can act on — resend with the same `messageId` (the receiver reports a
//! repeated id once).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;
use wacore::types::events::{Event, EventHandler, EventInterest, EventKind};

/// How long a sent message may wait for its ack before the send is reported as failed.
pub const ACK_TIMEOUT: Duration = Duration::from_secs(20);

/// Why a sent message was not acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotAcked {
    /// The connection ended first: the server may or may not have it.
    ConnectionLost,
    /// No ack within [`ACK_TIMEOUT`].
    TimedOut,
    /// The server refused it with this code (a nack).
    Refused(String),
}

/// Message ids waiting for their ack.
#[derive(Default)]
pub struct PendingAcks {
    waiting: Mutex<HashMap<String, oneshot::Sender<Result<(), NotAcked>>>>,
}

impl PendingAcks {
    pub fn interest() -> EventInterest {
        EventInterest::of(&[EventKind::ServerAck, EventKind::Disconnected, EventKind::LoggedOut, EventKind::StreamReplaced])
    }

    fn waiting(&self) -> std::sync::MutexGuard<'_, HashMap<String, oneshot::Sender<Result<(), NotAcked>>>> {
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers `id` before it is sent (an ack can arrive before `send` returns).
    pub fn expect(&self, id: &str) -> AckWaiter<'_> {
        let (tx, rx) = oneshot::channel();
        // A resend with the same id replaces the earlier waiter, which then fails as lost.
        self.waiting().insert(id.to_owned(), tx);
        AckWaiter { acks: self, id: id.to_owned(), rx }
    }

    /// Every message still waiting is lost with the connection that carried it.
    pub fn fail_all(&self) {
        for (_, tx) in self.waiting().drain() {
            let _ = tx.send(Err(NotAcked::ConnectionLost));
        }
    }
}

impl EventHandler for PendingAcks {
    fn handle_event(&self, event: Arc<Event>) {
        match &*event {
            Event::ServerAck(ack) if ack.class.as_deref().is_none_or(|c| c == "message") => {
                if let Some(tx) = self.waiting().remove(&ack.id) {
                    let _ = tx.send(match &ack.error {
                        Some(code) => Err(NotAcked::Refused(code.clone())),
                        None => Ok(()),
                    });
                }
            }
            Event::Disconnected(_) | Event::LoggedOut(_) | Event::StreamReplaced(_) => self.fail_all(),
            _ => {}
        }
    }

    fn interest(&self) -> EventInterest {
        PendingAcks::interest()
    }
}

/// One message's wait for its ack; dropping it forgets the id.
pub struct AckWaiter<'a> {
    acks: &'a PendingAcks,
    id: String,
    rx: oneshot::Receiver<Result<(), NotAcked>>,
}

impl AckWaiter<'_> {
    pub async fn wait(mut self) -> Result<(), NotAcked> {
        match tokio::time::timeout(ACK_TIMEOUT, &mut self.rx).await {
            Ok(Ok(result)) => result,
            // The sender was dropped: replaced by a resend, or the shard went away.
            Ok(Err(_)) => Err(NotAcked::ConnectionLost),
            Err(_) => Err(NotAcked::TimedOut),
        }
    }
}

impl Drop for AckWaiter<'_> {
    fn drop(&mut self) {
        // Closed first: the receiver field is only dropped after this function, and until then
        // our own sender would not look closed.
        self.rx.close();
        let mut waiting = self.acks.waiting();
        // Only our own entry: a resend may have put a newer waiter under the same id.
        if waiting.get(&self.id).is_some_and(|tx| tx.is_closed()) {
            waiting.remove(&self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wacore::types::events::ServerAck;

    fn ack(id: &str, error: Option<&str>) -> Arc<Event> {
        Arc::new(Event::ServerAck(
            ServerAck::builder().id(id.to_owned()).maybe_class(Some("message".to_owned())).maybe_error(error.map(str::to_owned)).build(),
        ))
    }

    #[tokio::test]
    async fn an_ack_resolves_its_own_message_only() {
        let acks = PendingAcks::default();
        let a = acks.expect("A");
        let b = acks.expect("B");
        acks.handle_event(ack("A", None));
        acks.handle_event(ack("B", Some("479")));
        assert_eq!(a.wait().await, Ok(()));
        assert_eq!(b.wait().await, Err(NotAcked::Refused("479".into())));
        assert!(acks.waiting().is_empty());
    }

    #[tokio::test]
    async fn a_waiter_given_up_leaves_no_entry_but_a_newer_one_under_its_id_stays() {
        let acks = PendingAcks::default();
        // Given up (a timeout, a send that failed): the id is forgotten.
        drop(acks.expect("A"));
        assert!(acks.waiting().is_empty(), "the entry of a dropped waiter is removed");
        // A resend registered the id again: dropping the older waiter keeps the newer one.
        let older = acks.expect("B");
        let newer = acks.expect("B");
        drop(older);
        assert!(acks.waiting().contains_key("B"));
        acks.handle_event(ack("B", None));
        assert_eq!(newer.wait().await, Ok(()));
        assert!(acks.waiting().is_empty());
    }

    #[tokio::test]
    async fn a_lost_connection_fails_every_waiting_message() {
        let acks = PendingAcks::default();
        let a = acks.expect("A");
        acks.fail_all();
        assert_eq!(a.wait().await, Err(NotAcked::ConnectionLost));
    }
}
