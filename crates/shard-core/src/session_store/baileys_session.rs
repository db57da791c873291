//! `session-<user>.<device>.json`: libsignal-node's `SessionRecord` v1 as Baileys 6.7.21
//! writes it (`SessionRecord#serialize()`: plain base64 strings, public keys 0x05-prefixed)
//! ⇄ the engine's session record bytes, through wacore-libsignal's typed v1 model.
//!
//! The engine is the source of truth while a shard runs; what v1 keeps and the engine does
//! not (timestamps, who created the base key) is carried over from the file as it was.

use std::collections::HashMap;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use wacore_libsignal::protocol::{
    IdentityKey, LegacyIndexedSessionV1, LegacySessionBaseKeyRoleV1, LegacySessionChainCounterV1, LegacySessionChainKeyV1,
    LegacySessionChainRoleV1, LegacySessionChainV1, LegacySessionDispositionV1, LegacySessionIndexV1, LegacySessionKeyPairV1,
    LegacySessionLocalContext, LegacySessionMessageKeyV1, LegacySessionPendingPreKeyV1, LegacySessionRatchetV1, LegacySessionRecordV1,
    LegacySessionV1, SessionRecord,
};

use super::ordered_json::OrderedMap;

const RECORD_VERSION: &str = "v1";

/// What the engine does not keep of each session of a file, by base key (base64).
pub type PreviousIndex = HashMap<String, Previous>;

#[derive(Debug, Clone, PartialEq)]
pub struct Previous {
    pub index_info: IndexInfo,
    /// Before the peer's first reply this is their signed pre-key, which the engine drops
    /// (v1 only uses it to find the previous receiving chain, and there is none yet).
    pub last_remote_ephemeral_key: String,
}

/// The whole file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionFile {
    #[serde(rename = "_sessions")]
    pub sessions: OrderedMap<SessionEntry>,
    #[serde(default)]
    pub version: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionEntry {
    pub registration_id: u32,
    pub current_ratchet: Ratchet,
    pub index_info: IndexInfo,
    #[serde(rename = "_chains")]
    pub chains: OrderedMap<Chain>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_pre_key: Option<PendingPreKey>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ratchet {
    pub ephemeral_key_pair: RatchetKeyPair,
    pub last_remote_ephemeral_key: String,
    pub previous_counter: i64,
    pub root_key: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RatchetKeyPair {
    pub pub_key: String,
    pub priv_key: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexInfo {
    pub base_key: String,
    /// 1: we created the base key (initiator); 2: the peer did.
    pub base_key_type: u32,
    /// -1 while open, else when it was closed (ms).
    pub closed: i64,
    #[serde(default)]
    pub used: Option<u64>,
    #[serde(default)]
    pub created: Option<u64>,
    pub remote_identity_key: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Chain {
    pub chain_key: ChainKey,
    /// 1: sending, 2: receiving.
    pub chain_type: u32,
    pub message_keys: OrderedMap<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainKey {
    pub counter: i64,
    /// Absent on a receiving chain that was closed by a ratchet step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingPreKey {
    pub signed_key_id: u32,
    pub base_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_key_id: Option<u32>,
}

fn b64(field: &str, s: &str) -> Result<Bytes, String> {
    B64.decode(s).map(Bytes::from).map_err(|e| format!("{field} is not base64: {e}"))
}

fn enc(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

impl SessionFile {
    pub fn parse(text: &[u8]) -> Result<Self, String> {
        let file: SessionFile = serde_json::from_slice(text).map_err(|e| format!("not a libsignal SessionRecord: {e}"))?;
        match file.version.as_deref() {
            Some(RECORD_VERSION) => Ok(file),
            other => Err(format!("unsupported SessionRecord version {other:?} (expected \"v1\")")),
        }
    }

    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a session file always serializes")
    }

    /// The typed v1 model (validated by wacore-libsignal on import).
    pub fn to_legacy(&self) -> Result<LegacySessionRecordV1, String> {
        let mut sessions = Vec::with_capacity(self.sessions.0.len());
        for (key, entry) in &self.sessions.0 {
            sessions.push(LegacyIndexedSessionV1 { index_key: b64("session key", key)?, session: entry.to_legacy()? });
        }
        LegacySessionRecordV1::from_indexed_sessions(sessions).map_err(|e| e.to_string())
    }

    /// What v1 knows and the engine does not, per base key (see [`Self::from_legacy`]).
    pub fn index_infos(&self) -> PreviousIndex {
        self.sessions
            .0
            .iter()
            .map(|(k, e)| {
                let previous = Previous {
                    index_info: e.index_info.clone(),
                    last_remote_ephemeral_key: e.current_ratchet.last_remote_ephemeral_key.clone(),
                };
                (k.clone(), previous)
            })
            .collect()
    }

    /// Builds the file from the v1 model. `before` is the file as it was: entries with the
    /// same base key keep their creation and closing time and base-key owner.
    pub fn from_legacy(record: LegacySessionRecordV1, before: &PreviousIndex, now_ms: u64) -> Self {
        let sessions = record.into_indexed_sessions();
        // The projection ranks use and closing with small integers (larger = more recent);
        // turn them into times just before now, keeping their order.
        let top = sessions.iter().map(|s| s.session.index.used_at_ms).max().unwrap_or(0);
        let as_time = |rank: u64| now_ms.saturating_sub(top.saturating_sub(rank));
        let mut out = Vec::with_capacity(sessions.len());
        for indexed in sessions {
            let s = indexed.session;
            let key = enc(&indexed.index_key);
            let previous = before.get(key.as_str());
            let old = previous.map(|p| &p.index_info);
            let has_receiving_chain = s.chains.iter().any(|c| c.role == LegacySessionChainRoleV1::Receiving);
            let last_remote_ephemeral_key = match previous {
                Some(p) if !has_receiving_chain => p.last_remote_ephemeral_key.clone(),
                _ => enc(&s.ratchet.last_remote_ephemeral_key),
            };
            let base_key_type = match (&s.pending_pre_key, old) {
                (Some(_), _) => LegacySessionBaseKeyRoleV1::Local.code() as u32,
                (None, Some(old)) => old.base_key_type,
                (None, None) => s.index.base_key_role.code() as u32,
            };
            let closed = match s.index.disposition {
                LegacySessionDispositionV1::Current => -1,
                LegacySessionDispositionV1::Archived { closed_at_ms } => {
                    old.map(|o| o.closed).filter(|c| *c >= 0).unwrap_or(as_time(closed_at_ms as u64) as i64)
                }
            };
            let chains = s
                .chains
                .into_iter()
                .map(|c| {
                    let chain = Chain {
                        chain_key: ChainKey { counter: c.chain_key.counter.value(), key: c.chain_key.key.as_deref().map(enc) },
                        chain_type: c.role.code() as u32,
                        message_keys: OrderedMap(c.message_keys.iter().map(|k| (k.index.to_string(), enc(&k.seed))).collect()),
                    };
                    (enc(&c.ratchet_key), chain)
                })
                .collect();
            let entry = SessionEntry {
                registration_id: s.registration_id,
                current_ratchet: Ratchet {
                    ephemeral_key_pair: RatchetKeyPair {
                        pub_key: enc(&s.ratchet.key_pair.public),
                        priv_key: enc(&s.ratchet.key_pair.private),
                    },
                    last_remote_ephemeral_key,
                    previous_counter: s.ratchet.previous_counter,
                    root_key: enc(&s.ratchet.root_key),
                },
                index_info: IndexInfo {
                    base_key: enc(&s.index.base_key),
                    base_key_type,
                    closed,
                    used: Some(as_time(s.index.used_at_ms)),
                    created: Some(old.and_then(|o| o.created).unwrap_or(now_ms)),
                    remote_identity_key: enc(&s.index.remote_identity_key),
                },
                chains: OrderedMap(chains),
                pending_pre_key: s.pending_pre_key.map(|p| PendingPreKey {
                    signed_key_id: p.signed_pre_key_id,
                    base_key: enc(&p.base_key),
                    pre_key_id: p.pre_key_id,
                }),
            };
            out.push((key, entry));
        }
        // libsignal-node finds the open session by scanning in order: put it first.
        out.sort_by_key(|(_, e)| e.index_info.closed != -1);
        SessionFile { sessions: OrderedMap(out), version: Some(RECORD_VERSION.to_owned()) }
    }
}

impl SessionEntry {
    fn to_legacy(&self) -> Result<LegacySessionV1, String> {
        let r = &self.current_ratchet;
        let i = &self.index_info;
        let mut chains = Vec::with_capacity(self.chains.0.len());
        for (ratchet_key, chain) in &self.chains.0 {
            let mut message_keys = Vec::with_capacity(chain.message_keys.0.len());
            for (index, seed) in &chain.message_keys.0 {
                let index = index.parse().map_err(|_| format!("bad message key index {index:?}"))?;
                message_keys.push(LegacySessionMessageKeyV1 { index, seed: b64("message key", seed)? });
            }
            chains.push(LegacySessionChainV1 {
                ratchet_key: b64("chain ratchet key", ratchet_key)?,
                role: LegacySessionChainRoleV1::try_from(chain.chain_type).map_err(|e| e.to_string())?,
                chain_key: LegacySessionChainKeyV1 {
                    counter: LegacySessionChainCounterV1::new(chain.chain_key.counter).map_err(|e| e.to_string())?,
                    key: chain.chain_key.key.as_deref().map(|k| b64("chain key", k)).transpose()?,
                },
                message_keys,
            });
        }
        Ok(LegacySessionV1 {
            registration_id: self.registration_id,
            ratchet: LegacySessionRatchetV1 {
                key_pair: LegacySessionKeyPairV1 {
                    public: b64("ratchet public key", &r.ephemeral_key_pair.pub_key)?,
                    private: b64("ratchet private key", &r.ephemeral_key_pair.priv_key)?,
                },
                last_remote_ephemeral_key: b64("last remote ephemeral key", &r.last_remote_ephemeral_key)?,
                previous_counter: r.previous_counter,
                root_key: b64("root key", &r.root_key)?,
            },
            index: LegacySessionIndexV1 {
                base_key: b64("base key", &i.base_key)?,
                base_key_role: LegacySessionBaseKeyRoleV1::try_from(i.base_key_type).map_err(|e| e.to_string())?,
                disposition: LegacySessionDispositionV1::from_closed_timestamp(i.closed).map_err(|e| e.to_string())?,
                used_at_ms: i.used.unwrap_or(0),
                created_at_ms: i.created.unwrap_or(0),
                remote_identity_key: b64("remote identity key", &i.remote_identity_key)?,
            },
            chains,
            pending_pre_key: self
                .pending_pre_key
                .as_ref()
                .map(|p| {
                    Ok::<_, String>(LegacySessionPendingPreKeyV1 {
                        pre_key_id: p.pre_key_id,
                        signed_pre_key_id: p.signed_key_id,
                        base_key: b64("pending pre-key base key", &p.base_key)?,
                    })
                })
                .transpose()?,
        })
    }

    /// The peer's identity key as the file has it (0x05 + 32 bytes).
    pub fn remote_identity_key(&self) -> Option<Vec<u8>> {
        B64.decode(&self.index_info.remote_identity_key).ok()
    }
}

/// What v1 does not store about our side of a session: our identity and registration id.
pub fn local_context(identity_public: &[u8], registration_id: u32) -> Result<LegacySessionLocalContext, String> {
    let mut prefixed = Vec::with_capacity(33);
    if identity_public.len() == 32 {
        prefixed.push(5);
    }
    prefixed.extend_from_slice(identity_public);
    let identity_key = IdentityKey::decode(&prefixed).map_err(|e| format!("our identity key: {e}"))?;
    Ok(LegacySessionLocalContext { identity_key, registration_id })
}

/// Baileys' session file → the engine's record bytes.
pub fn to_engine(file: &SessionFile, context: LegacySessionLocalContext) -> Result<Vec<u8>, String> {
    let record = file.to_legacy()?.into_session_record(context).map_err(|e| e.to_string())?;
    record.serialize().map_err(|e| e.to_string())
}

/// The engine's record bytes → Baileys' session file. A sender counter the engine reserved
/// but may not have used is skipped past (the peer tolerates the gap; reusing a counter
/// would reuse a message key).
pub fn from_engine(bytes: &[u8], before: &PreviousIndex, now_ms: u64) -> Result<SessionFile, String> {
    let record = SessionRecord::deserialize(bytes).map_err(|e| e.to_string())?;
    let legacy = record.into_legacy_session_v1_operational().map_err(|e| e.to_string())?;
    Ok(SessionFile::from_legacy(legacy, before, now_ms))
}
