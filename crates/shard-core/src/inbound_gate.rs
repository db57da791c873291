//! At-least-once delivery of received messages to the bot's handlers.
//!
//! The engine acknowledges a message to the server once it is decrypted, unless an inbound
//! durability hook is registered: then it first writes the decrypted message to the store's
//! pending-inbound records, runs the hook, and acknowledges (and clears the record) only when
//! the hook returns `Ok`. Our hook hands the messages to the owner as `messages.upsert` and
//! returns when the owner settles them — when every handler of the bot has finished. A crash
//! before that leaves the message unacknowledged on the server and recorded in the session;
//! the next start gets it again and reports it again.
//!
//! A handler that takes longer than the handler timeout (default 10 s) no longer holds its
//! message: it is acknowledged then, so a handler that waits for the chat's next message does
//! not wait forever (the guarantee then holds for the first 10 s of a handler).
//!
//! The wait is also the backpressure: a chat's next message is only processed once the bot has
//! handled the previous one, and at most `max_pending` messages per manager wait in handlers at
//! once. Messages beyond that wait unacknowledged in the engine's per-chat queues and on the
//! server, not in JS.

use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::sync::Semaphore;
use wacore::types::events::InboundMessage;
use whatsapp_rust::types::durability_hook::InboundDurabilityHook;
use whatsapp_rust::Client;

use crate::shard::Shard;

/// How many received messages may wait in handlers at once per manager, by default.
pub const DEFAULT_MAX_PENDING_MESSAGES: usize = 1000;

/// How long a message waits for its handlers before it is acknowledged anyway, by default.
pub const DEFAULT_HANDLER_TIMEOUT: Duration = Duration::from_secs(10);

/// The permits of one manager: each message in a handler holds one.
#[derive(Clone)]
pub struct PendingMessages {
    permits: Arc<Semaphore>,
    limit: usize,
    /// Past this, a message's handlers no longer hold it (or its chat): it is acknowledged.
    /// A handler may wait for the chat's next message (a "collector"), which would otherwise
    /// never come.
    pub(crate) handler_timeout: Duration,
}

impl PendingMessages {
    /// At most `limit` (at least 1) messages in handlers at once.
    pub fn new(limit: usize) -> Self {
        let limit = limit.clamp(1, Semaphore::MAX_PERMITS);
        PendingMessages { permits: Arc::new(Semaphore::new(limit)), limit, handler_timeout: DEFAULT_HANDLER_TIMEOUT }
    }

    /// How long a message waits for its handlers (zero: not at all, as Baileys).
    pub fn with_handler_timeout(mut self, timeout: Duration) -> Self {
        self.handler_timeout = timeout;
        self
    }

    /// How many messages are in handlers now.
    pub fn in_handlers(&self) -> usize {
        self.limit - self.permits.available_permits()
    }

    pub fn limit(&self) -> usize {
        self.limit
    }
}

impl Default for PendingMessages {
    fn default() -> Self {
        PendingMessages::new(DEFAULT_MAX_PENDING_MESSAGES)
    }
}

/// The engine's durability hook for one shard.
pub(crate) struct InboundGate {
    pub(crate) shard: Weak<Shard>,
    pub(crate) pending: PendingMessages,
}

#[async_trait::async_trait]
impl InboundDurabilityHook for InboundGate {
    async fn on_messages(&self, _client: Arc<Client>, batch: &[InboundMessage]) -> anyhow::Result<()> {
        let Some(shard) = self.shard.upgrade() else {
            anyhow::bail!("the shard is gone; the server delivers these messages again");
        };
        // A drain batch larger than the whole limit takes the whole limit.
        let wanted = batch.len().clamp(1, self.pending.limit) as u32;
        let _permits = self.pending.permits.clone().acquire_many_owned(wanted).await?;
        if shard.hand_over(batch, self.pending.handler_timeout).await {
            Ok(())
        } else {
            anyhow::bail!("shard {} stopped before its handlers finished; the server delivers these messages again", shard.id())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn permits_count_messages_in_handlers() {
        let pending = PendingMessages::new(3);
        assert_eq!(pending.in_handlers(), 0);
        let held = pending.permits.clone().acquire_many_owned(2).await.unwrap();
        assert_eq!(pending.in_handlers(), 2);
        assert!(pending.permits.clone().try_acquire_many_owned(2).is_err(), "a fourth message waits");
        drop(held);
        assert_eq!(pending.in_handlers(), 0);
        assert_eq!(PendingMessages::new(0).limit(), 1);
    }
}
