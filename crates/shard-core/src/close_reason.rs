//! What a closed connection means for a shard, by Baileys' `DisconnectReason` code.
//!
//! When to reconnect is `reconnect.rs`'s job; this module is the shard's view of a close —
//! its status afterwards, what is reported, and whether the session folder is kept aside.

use crate::events::disconnect_reason as dr;
use crate::shard::ShardStatus;

/// The kinds of close a shard treats differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseKind {
    /// 515: the server asks for a new connection (always after pairing). Reconnects at once.
    RestartRequired,
    /// Dropped connection, timeouts, server trouble (428, 408, 500, 503, network errors).
    /// Reconnects with backoff.
    Transient,
    /// 440 (or a 409 conflict): another connection took this device's slot. Never fought for.
    Replaced,
    /// 401 / 403 / 406 / 516: WhatsApp ended the session. Its folder is kept aside as a backup.
    LoggedOut,
    /// No QR was scanned before the refs ran out.
    QrExpired,
    /// The server refuses this client (402 temporary ban, 405 outdated version, other
    /// refusals it does not ask to retry).
    Refused,
}

impl CloseKind {
    /// The kind of a close reported with Baileys status `code`.
    pub fn of_code(code: u16) -> CloseKind {
        match code {
            dr::RESTART_REQUIRED => CloseKind::RestartRequired,
            dr::CONNECTION_REPLACED | 409 => CloseKind::Replaced,
            dr::LOGGED_OUT | dr::FORBIDDEN | 406 | 516 => CloseKind::LoggedOut,
            402 | 405 => CloseKind::Refused,
            _ => CloseKind::Transient,
        }
    }

    /// Whether the shard goes on trying to connect.
    pub fn reconnects(self) -> bool {
        matches!(self, CloseKind::RestartRequired | CloseKind::Transient)
    }

    /// The shard's status after such a close.
    pub fn status(self) -> ShardStatus {
        match self {
            CloseKind::RestartRequired | CloseKind::Transient => ShardStatus::Disconnected,
            CloseKind::LoggedOut => ShardStatus::LoggedOut,
            CloseKind::Replaced | CloseKind::QrExpired | CloseKind::Refused => ShardStatus::Stopped,
        }
    }

    /// What a user should do about a close that ends the shard.
    pub fn advice(self) -> &'static str {
        match self {
            CloseKind::RestartRequired | CloseKind::Transient => "reconnecting",
            CloseKind::Replaced => "another connection replaced this one; not reconnecting (call connect(id) to take the slot back)",
            CloseKind::LoggedOut => {
                "WhatsApp ended the session; its folder was moved to <session>/.logged-out/ and a new login needs a QR or pairing code"
            }
            CloseKind::QrExpired => "no QR was scanned in time; call connect(id) for a new QR",
            CloseKind::Refused => "the server refuses this client; not reconnecting",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_what_baileys_users_expect() {
        assert_eq!(CloseKind::of_code(515), CloseKind::RestartRequired);
        for code in [428, 408, 500, 503, 411] {
            assert_eq!(CloseKind::of_code(code), CloseKind::Transient, "{code}");
            assert!(CloseKind::of_code(code).reconnects());
        }
        assert_eq!(CloseKind::of_code(440), CloseKind::Replaced);
        for code in [401, 403, 406, 516] {
            assert_eq!(CloseKind::of_code(code), CloseKind::LoggedOut, "{code}");
        }
        for kind in [CloseKind::Replaced, CloseKind::LoggedOut, CloseKind::QrExpired, CloseKind::Refused] {
            assert!(!kind.reconnects());
            assert!(!kind.status().is_active(), "{kind:?} must not keep the process alive");
        }
    }
}
