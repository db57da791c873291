//! Baileys' Signal-session members that bots call directly: `assertSessions(jids, force)`
//! (make sure we can encrypt for those devices) and `getUSyncDevices(jids, useCache,
//! ignoreZeroDevices)` (a user's devices), and the pre-key uploads `uploadPreKeys(count)` /
//! `uploadPreKeysToServerIfRequired()`. The engine's Signal feature does the work.

use wacore_binary::Jid;

use crate::error::{ErrorCode, Result, ShardError};
use crate::shard::Shard;
use crate::socket_ops::jid_arg;

impl Shard {
    fn signal_failed(&self, what: &str, e: impl std::fmt::Display) -> ShardError {
        ShardError::new(ErrorCode::NotConnected, format!("{what} failed on shard {}: {e}", self.id())).for_shard(self.id())
    }

    fn jid_list(&self, what: &str, jids: &[String]) -> Result<Vec<Jid>> {
        jids.iter()
            .enumerate()
            .map(|(i, j)| jid_arg(&format!("{what}: jids[{i}]"), j))
            .collect::<Result<_>>()
            .map_err(|e| e.for_shard(self.id()))
    }

    /// `assertSessions(jids, force)`: opens a Signal session with every device in `jids` that has
    /// none (all of them with `force`); true when a session had to be fetched, as in Baileys.
    pub async fn assert_sessions(&self, jids: &[String], force: bool) -> Result<bool> {
        let jids = self.jid_list("assertSessions", jids)?;
        let client = self.connected_client()?;
        let signal = client.signal();
        let mut missing = Vec::new();
        for jid in &jids {
            if force || !signal.validate_session(jid).await.map_err(|e| self.signal_failed("assertSessions", e))? {
                missing.push(jid.clone());
            }
        }
        if missing.is_empty() {
            return Ok(false);
        }
        if force {
            signal.delete_sessions(&missing).await.map_err(|e| self.signal_failed("assertSessions", e))?;
        }
        signal.assert_sessions(&missing).await.map_err(|e| self.signal_failed("assertSessions", e))?;
        Ok(true)
    }

    /// `getUSyncDevices(jids, useCache, ignoreZeroDevices)`: `(user, device)` of every device of
    /// those users, without this device itself (and without each user's device 0 when asked).
    pub async fn usync_devices(&self, jids: &[String], ignore_zero_devices: bool) -> Result<Vec<(String, u16)>> {
        let jids = self.jid_list("getUSyncDevices", jids)?;
        let users: Vec<Jid> = jids.iter().map(Jid::to_non_ad).collect();
        let client = self.connected_client()?;
        let me = client.persistence_manager().get_device_snapshot().pn.clone();
        let devices = client.signal().get_user_devices(&users).await.map_err(|e| self.signal_failed("getUSyncDevices", e))?;
        Ok(devices
            .into_iter()
            .filter(|d| !(ignore_zero_devices && d.device == 0))
            .filter(|d| !me.as_ref().is_some_and(|m| m.user == d.user && m.device == d.device))
            .map(|d| (d.user.to_string(), d.device))
            .collect())
    }
}

impl Shard {
    /// `uploadPreKeys(count)` with a count, `uploadPreKeysToServerIfRequired()` without one (the
    /// engine uploads only when the server's pool is low).
    pub async fn upload_pre_keys(&self, count: Option<usize>) -> Result<()> {
        let client = self.connected_client()?;
        let uploaded = match count {
            Some(count) => client.refresh_pre_keys_with_count(count).await,
            None => client.ensure_pre_keys().await,
        };
        uploaded.map_err(|e| self.signal_failed("uploadPreKeys", e))
    }
}
