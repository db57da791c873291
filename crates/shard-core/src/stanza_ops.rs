//! Baileys' low-level socket members: `query` and `sendNode` (raw stanzas in Baileys'
//! `BinaryNode` shape), `sendRawMessage` (an encoded node), `requestPairingCode` and
//! `refreshMediaConn`. The engine does the work; this maps arguments, results and errors.

use std::time::Duration;

use whatsapp_rust::pair_code::PairCodeOptions;
use whatsapp_rust::IqError;

use crate::baileys_value::BValue;
use crate::binary_node::{node_from_baileys, node_to_baileys};
use crate::error::{ErrorCode, Result, ShardError};
use crate::pairing_code::PhoneNumber;
use crate::shard::Shard;

/// An IQ that failed: refused by the server (`INVALID_ARGUMENT`, naming its code) or lost
/// with the connection (`NOT_CONNECTED`).
pub(crate) fn iq_failure(shard_id: &str, what: &str, e: &IqError) -> ShardError {
    let (code, why) = match e {
        IqError::ServerError { code, text, .. } => (ErrorCode::InvalidArgument, format!("the server refused it ({code} {text})")),
        IqError::Timeout
        | IqError::NotConnected
        | IqError::Socket(_)
        | IqError::Disconnected(_)
        | IqError::InternalChannelClosed
        | IqError::ClientState(_) => (ErrorCode::NotConnected, e.to_string()),
        other => (ErrorCode::InvalidArgument, other.to_string()),
    };
    ShardError::new(code, format!("{what} failed on shard {shard_id}: {why}")).for_shard(shard_id)
}

/// `{ hosts: [{ hostname, maxContentLengthBytes }], auth, ttl, fetchDate }`, Baileys' `MediaConnInfo`.
pub fn media_conn_to_baileys(conn: &whatsapp_rust::mediaconn::MediaConn, fetch_date_ms: u64) -> BValue {
    let hosts = conn
        .hosts
        .iter()
        .map(|h| BValue::obj([("hostname", BValue::str(h.hostname.clone())), ("maxContentLengthBytes", BValue::Uint(0))]))
        .collect();
    BValue::obj([
        ("hosts", BValue::Array(hosts)),
        ("auth", BValue::str(conn.auth.clone())),
        ("ttl", BValue::Uint(conn.ttl)),
        ("fetchDate", BValue::Uint(fetch_date_ms)),
    ])
}

impl Shard {
    /// `query(node, timeoutMs)`: sends an `<iq>` (an `id` is added when it has none) and
    /// resolves to the server's reply as a `BinaryNode`; an error reply rejects.
    pub async fn query(&self, node: &BValue, timeout: Option<Duration>) -> Result<BValue> {
        let node = node_from_baileys(node, "node").map_err(|e| e.for_shard(self.id()))?;
        if node.tag != "iq" {
            return Err(ShardError::new(
                ErrorCode::InvalidArgument,
                format!("node.tag is {:?}: query sends <iq> stanzas and waits for their reply; use sendNode for others", node.tag),
            )
            .for_shard(self.id()));
        }
        let client = self.connected_client()?;
        let reply = client.send_iq_node(node, timeout).await.map_err(|e| iq_failure(self.id(), "query", &e))?;
        Ok(node_to_baileys(&reply.to_owned_node()))
    }

    /// `sendNode(node)`: sends one stanza as it is.
    pub async fn send_node(&self, node: &BValue) -> Result<()> {
        let node = node_from_baileys(node, "node").map_err(|e| e.for_shard(self.id()))?;
        self.send_engine_node(node).await
    }

    /// `sendRawMessage(bytes)`: an encoded node, as Baileys' `encodeBinaryNode` makes it
    /// (a flags byte, then the node).
    pub async fn send_raw_message(&self, bytes: &[u8]) -> Result<()> {
        // Baileys never compresses (flags byte 0).
        let Some((0, encoded)) = bytes.split_first() else {
            return Err(ShardError::new(ErrorCode::InvalidArgument, "data must start with the flags byte 0 of an uncompressed node")
                .for_shard(self.id()));
        };
        let node = wacore_binary::marshal::unmarshal_ref(encoded).map(|n| n.to_owned()).map_err(|e| {
            ShardError::new(ErrorCode::InvalidArgument, format!("data is not an encoded binary node: {e}")).for_shard(self.id())
        })?;
        self.send_engine_node(node).await
    }

    async fn send_engine_node(&self, node: wacore_binary::Node) -> Result<()> {
        let client = self.connected_client()?;
        client.send_node(node).await.map_err(|e| {
            ShardError::new(ErrorCode::NotConnected, format!("could not send the node on shard {}: {e}", self.id())).for_shard(self.id())
        })
    }

    /// `requestPairingCode(phoneNumber, customCode?)`: asks for a code to type on the phone
    /// ("Link with phone number"); also reported as `login.update` `{ type: 'pairing' }`.
    pub async fn request_pairing_code(&self, phone: &str, custom_code: Option<String>) -> Result<String> {
        let phone = PhoneNumber::parse(phone).map_err(|e| e.for_shard(self.id()))?;
        if let Some(code) = &custom_code {
            if code.len() != 8 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(ShardError::new(ErrorCode::InvalidArgument, format!("customPairingCode {code:?} must be 8 letters or digits"))
                    .for_shard(self.id()));
            }
        }
        let client = self.connected_client()?;
        if client.persistence_manager().get_device_snapshot().pn.is_some() {
            return Err(ShardError::new(ErrorCode::PairingFailed, format!("shard {} is paired already", self.id())).for_shard(self.id()));
        }
        let options = PairCodeOptions {
            phone_number: phone.as_str().to_owned(),
            custom_code: custom_code.map(|c| c.to_ascii_uppercase()),
            ..Default::default()
        };
        client
            .pair_with_code(options)
            .await
            .map_err(|e| ShardError::new(ErrorCode::PairingFailed, format!("no pairing code for {phone}: {e}")).for_shard(self.id()))
    }

    /// `refreshMediaConn(force)`: the media hosts and upload token (cached by the engine).
    pub async fn refresh_media_conn(&self, force: bool) -> Result<BValue> {
        let client = self.connected_client()?;
        let conn = client.refresh_media_conn(force).await.map_err(|e| iq_failure(self.id(), "refreshMediaConn", &e))?;
        let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
        Ok(media_conn_to_baileys(&conn, now_ms))
    }
}
