//! Exactly-once delivery to the handler: a message the server delivers again (the connection
//! dropped before our delivery receipt reached it, or a sender retried with the same id) is
//! not reported a second time. Keys are remembered in a bounded window, oldest forgotten first.

use std::collections::{HashSet, VecDeque};

/// How many recent message keys a shard remembers.
pub const WINDOW: usize = 4096;

/// A message's identity: chat, sender (in groups) and id — Baileys' `WAMessageKey` without
/// `fromMe`, which the id already implies.
pub type MessageKey = (String, String, String);

pub struct RecentKeys {
    order: VecDeque<MessageKey>,
    seen: HashSet<MessageKey>,
    capacity: usize,
}

impl RecentKeys {
    pub fn new(capacity: usize) -> Self {
        RecentKeys { order: VecDeque::new(), seen: HashSet::new(), capacity: capacity.max(1) }
    }

    /// True the first time `key` is offered (and remembers it); false for a repeat.
    pub fn first_time(&mut self, key: MessageKey) -> bool {
        if self.seen.contains(&key) {
            return false;
        }
        if self.order.len() == self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
        self.seen.insert(key.clone());
        self.order.push_back(key);
        true
    }
}

impl Default for RecentKeys {
    fn default() -> Self {
        RecentKeys::new(WINDOW)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str) -> MessageKey {
        ("1@s.whatsapp.net".into(), String::new(), id.into())
    }

    #[test]
    fn repeats_are_refused_within_the_window_and_old_keys_are_forgotten() {
        let mut recent = RecentKeys::new(2);
        assert!(recent.first_time(key("a")));
        assert!(!recent.first_time(key("a")));
        assert!(recent.first_time(key("b")));
        assert!(recent.first_time(key("c"))); // forgets "a"
        assert!(!recent.first_time(key("c")));
        assert!(recent.first_time(key("a")));
        assert_eq!(recent.seen.len(), 2);
    }
}
