//! Socket options, named as Baileys names them (`SocketConfig`), and what each maps to.

use std::time::Duration;

use crate::proxy::Proxy;

/// Baileys 6.7.21's default web version.
pub const DEFAULT_VERSION: [u32; 3] = [2, 3000, 1_023_223_821];
pub const DEFAULT_WS_URL: &str = "wss://web.whatsapp.com/ws/chat";

/// The Baileys socket options this package honours. Options Baileys has and we do not
/// model are ignored, as Baileys ignores unknown keys.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SocketConfig {
    /// `waWebSocketUrl`: the server to connect to.
    pub wa_web_socket_url: Option<String>,
    /// `version`: the WhatsApp Web version announced at login. Always set, so the engine
    /// never fetches it over the network.
    pub version: Option<[u32; 3]>,
    /// `browser`: `[os, browser, osVersion]`, shown on the phone's linked-devices list.
    pub browser: Option<[String; 3]>,
    /// `qrTimeout`: how long each QR stays valid before the next one is shown.
    pub qr_timeout: Option<Duration>,
    /// `connectTimeoutMs`.
    pub connect_timeout: Option<Duration>,
    /// `keepAliveIntervalMs`.
    pub keep_alive_interval: Option<Duration>,
    /// `markOnlineOnConnect` (Baileys' default: true).
    pub mark_online_on_connect: Option<bool>,
    /// `syncFullHistory` (Baileys' default: false): ask the phone for the full history at
    /// pairing, and report every history chunk.
    pub sync_full_history: Option<bool>,
    /// A `shouldSyncHistoryMessage` function is set (the JS layer calls it): history chunks are
    /// downloaded and reported, for it to choose from.
    pub history_filter: Option<bool>,
    /// `emitOwnEvents` (Baileys' default: true): `sendMessage` echoes what it sent as
    /// `messages.upsert` `append`.
    pub emit_own_events: Option<bool>,
    /// The proxy of the chat WebSocket (`proxy`, or Baileys' `agent`).
    pub proxy: Option<Proxy>,
    /// The proxy of media uploads and downloads (`proxy`, or Baileys' `fetchAgent`).
    pub media_proxy: Option<Proxy>,
}

impl SocketConfig {
    /// `self` with every option `over` sets replacing ours (`{ ...socketConfig, ...socket }`).
    pub fn merged_with(&self, over: &SocketConfig) -> SocketConfig {
        SocketConfig {
            wa_web_socket_url: over.wa_web_socket_url.clone().or_else(|| self.wa_web_socket_url.clone()),
            version: over.version.or(self.version),
            browser: over.browser.clone().or_else(|| self.browser.clone()),
            qr_timeout: over.qr_timeout.or(self.qr_timeout),
            connect_timeout: over.connect_timeout.or(self.connect_timeout),
            keep_alive_interval: over.keep_alive_interval.or(self.keep_alive_interval),
            mark_online_on_connect: over.mark_online_on_connect.or(self.mark_online_on_connect),
            sync_full_history: over.sync_full_history.or(self.sync_full_history),
            history_filter: over.history_filter.or(self.history_filter),
            emit_own_events: over.emit_own_events.or(self.emit_own_events),
            proxy: over.proxy.clone().or_else(|| self.proxy.clone()),
            media_proxy: over.media_proxy.clone().or_else(|| self.media_proxy.clone()),
        }
    }

    pub fn url(&self) -> &str {
        self.wa_web_socket_url.as_deref().unwrap_or(DEFAULT_WS_URL)
    }

    /// Whether history chunks are downloaded and reported. Baileys 6.7.21 processes history only
    /// with `syncFullHistory` or its own `shouldSyncHistoryMessage` (its default is
    /// `() => !!syncFullHistory`).
    pub fn processes_history(&self) -> bool {
        self.sync_full_history == Some(true) || self.history_filter == Some(true)
    }

    pub fn version(&self) -> [u32; 3] {
        self.version.unwrap_or(DEFAULT_VERSION)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_options_override_manager_options() {
        let base = SocketConfig { wa_web_socket_url: Some("ws://a".into()), version: Some([2, 3000, 1]), ..Default::default() };
        let over = SocketConfig { version: Some([2, 3000, 2]), ..Default::default() };
        let merged = base.merged_with(&over);
        assert_eq!(merged.url(), "ws://a");
        assert_eq!(merged.version(), [2, 3000, 2]);
        assert_eq!(SocketConfig::default().url(), DEFAULT_WS_URL);
    }
}
