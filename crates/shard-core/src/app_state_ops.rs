//! Baileys' `appPatch` (every `chatModify`, `star`, label and contact call goes through it) and
//! `resyncAppState`.
//!
//! A patch arrives in Baileys' `WAPatchCreate` shape — `{ syncAction, index, type, apiVersion,
//! operation }` — and is sent through the engine's app-state sender, which encrypts it with the
//! account's latest app-state key, builds it on the collection's current version and LTHash,
//! retries on a version conflict, and syncs the collection afterwards. That sync brings our own
//! change back as a mutation, so it is emitted (`chats.update`, …) as Baileys emits its own
//! changes when `emitOwnEvents` is on.
//!
//! The engine's sender takes an index as a registry schema; any index is written here as a
//! schema of plain string parts, so the index, collection and version sent are exactly
//! Baileys'. It sends only `SET` mutations: a `REMOVE` (Baileys' `removeContact`) is refused
//! with `NOT_SUPPORTED`.

use wacore::appstate::patch_decode::WAPatchName;
use wacore::appstate::schemas::{Collection, IndexPart, Schema, Scope};
use whatsapp_rust::features::AppStateError;
use whatsapp_rust::sync_task::MajorSyncTask;

use crate::baileys_to_proto;
use crate::baileys_value::BValue;
use crate::error::{ErrorCode, Result, ShardError};
use crate::shard::Shard;

const SYNC_ACTION_VALUE: &str = "whatsapp.SyncActionValue";

/// The longest index WhatsApp uses (a message label: type, label, chat, message, fromMe,
/// participant) with room to spare.
const MAX_INDEX_PARTS: usize = 8;

/// Index parts the engine copies as they are, in order.
static PLAIN_INDEX: [IndexPart; MAX_INDEX_PARTS] = [IndexPart::StringPart { name: "index" }; MAX_INDEX_PARTS];

/// The collections, by the names Baileys uses as a patch's `type`.
const COLLECTIONS: [(&str, Collection); 5] = [
    ("regular", Collection::Regular),
    ("regular_low", Collection::RegularLow),
    ("regular_high", Collection::RegularHigh),
    ("critical_block", Collection::CriticalBlock),
    ("critical_unblock_low", Collection::CriticalUnblockLow),
];

/// `proto.SyncdMutation.SyncdOperation`.
const OPERATION_SET: i64 = 0;
const OPERATION_REMOVE: i64 = 1;

fn invalid(message: impl Into<String>) -> ShardError {
    ShardError::new(ErrorCode::InvalidArgument, message)
}

/// A checked `WAPatchCreate`.
#[derive(Debug)]
pub struct AppPatch {
    collection: Collection,
    index: Vec<String>,
    version: u32,
    value: waproto::whatsapp::SyncActionValue,
}

impl AppPatch {
    /// Reads Baileys' `{ syncAction, index, type, apiVersion, operation }`. A `syncAction` with
    /// no `timestamp` is stamped now, as Baileys' `chatModificationToAppPatch` stamps it.
    pub fn from_baileys(patch: &BValue, now_ms: i64) -> Result<AppPatch> {
        if !matches!(patch, BValue::Object(_)) {
            return Err(invalid("appPatch: the patch must be an object { syncAction, index, type, apiVersion, operation }"));
        }
        let type_name = patch.get("type").and_then(BValue::as_str).unwrap_or_default();
        let collection = COLLECTIONS.iter().find(|(name, _)| *name == type_name).map(|(_, c)| *c).ok_or_else(|| {
            invalid(format!(
                "appPatch: type must name an app-state collection ({}), got {type_name:?}",
                COLLECTIONS.map(|(n, _)| n).join(", ")
            ))
        })?;
        let index = patch
            .get("index")
            .and_then(BValue::as_array)
            .filter(|parts| !parts.is_empty() && parts.len() <= MAX_INDEX_PARTS)
            .and_then(|parts| parts.iter().map(|p| p.as_str().map(str::to_owned)).collect::<Option<Vec<_>>>())
            .ok_or_else(|| invalid(format!("appPatch: index must be an array of 1 to {MAX_INDEX_PARTS} strings, e.g. ['archive', jid]")))?;
        let version = match patch.get("apiVersion") {
            Some(BValue::Int(v)) => u32::try_from(*v).ok(),
            Some(BValue::Uint(v)) => u32::try_from(*v).ok(),
            _ => None,
        }
        .filter(|v| *v > 0)
        .ok_or_else(|| invalid("appPatch: apiVersion must be a positive whole number (the action's version, e.g. 3 for archive)"))?;
        match patch.get("operation") {
            None | Some(BValue::Null) => {}
            Some(BValue::Int(OPERATION_SET)) | Some(BValue::Uint(0)) => {}
            Some(BValue::Int(OPERATION_REMOVE)) | Some(BValue::Uint(1)) => {
                return Err(ShardError::new(
                    ErrorCode::NotSupported,
                    format!(
                        "appPatch: a REMOVE mutation ({}) cannot be sent: the protocol engine sends only SET mutations",
                        index.join(",")
                    ),
                ))
            }
            Some(other) => return Err(invalid(format!("appPatch: operation must be 0 (SET) or 1 (REMOVE), got {other:?}"))),
        }
        let mut action = patch.get("syncAction").filter(|a| matches!(a, BValue::Object(_))).cloned().ok_or_else(|| {
            invalid("appPatch: syncAction must be an object (proto.ISyncActionValue, e.g. { archiveChatAction: { archived: true } })")
        })?;
        if matches!(action.get("timestamp"), None | Some(BValue::Null)) {
            action.set("timestamp", BValue::Int(now_ms));
        }
        let value = sync_action_value(&action).map_err(|e| invalid(format!("appPatch: syncAction: {e}")))?;
        Ok(AppPatch { collection, index, version, value })
    }

    /// An engine schema whose index is this patch's parts, taken as they are.
    fn schema(&self) -> Schema {
        Schema {
            key: "appPatch",
            name: "appPatch",
            module: "baileys-shard",
            collection: self.collection,
            version: self.version,
            scope: Scope::Account,
            value_field: None,
            value_proto_type: None,
            value_enum_fields: &[],
            chat_jid_index: None,
            index_parts: &PLAIN_INDEX[..self.index.len()],
        }
    }
}

fn sync_action_value(action: &BValue) -> std::result::Result<waproto::whatsapp::SyncActionValue, String> {
    use buffa::Message as _;
    let bytes = baileys_to_proto::encode(SYNC_ACTION_VALUE, action).map_err(|e| e.to_string())?;
    waproto::whatsapp::SyncActionValue::decode_from_slice(&bytes).map_err(|e| e.to_string())
}

/// The collections `resyncAppState` names, checked.
pub fn collections_named(names: &[String]) -> Result<Vec<WAPatchName>> {
    names
        .iter()
        .map(|name| {
            COLLECTIONS
                .iter()
                .find(|(n, _)| n == name)
                .map(|(n, _)| n.parse::<WAPatchName>().unwrap_or(WAPatchName::Unknown))
                .filter(|p| *p != WAPatchName::Unknown)
                .ok_or_else(|| invalid(format!("resyncAppState: {name:?} is not an app-state collection")))
        })
        .collect()
}

impl Shard {
    /// `appPatch(patch)`: sends one app-state mutation to the account's other devices.
    pub async fn app_patch(&self, patch: &BValue) -> Result<()> {
        let patch = AppPatch::from_baileys(patch, wacore::time::now_millis()).map_err(|e| e.for_shard(self.id()))?;
        let client = self.connected_client()?;
        let args: Vec<&str> = patch.index.iter().map(String::as_str).collect();
        client.send_app_state_action(&patch.schema(), &args, &patch.value).await.map_err(|e| {
            let (code, why) = match &e {
                AppStateError::InvalidRequest(why) => (ErrorCode::InvalidArgument, why.clone()),
                other => (ErrorCode::AppStateFailed, format!("{other:#}")),
            };
            ShardError::new(code, format!("appPatch ({}) failed on shard {}: {why}", patch.index.join(","), self.id())).for_shard(self.id())
        })
    }

    /// `resyncAppState(collections, isInitialSync)`: syncs the collections from the server now
    /// (from scratch when `full`), emitting what changed. Resolves when they are synced.
    pub async fn resync_app_state(&self, names: &[String], full: bool) -> Result<()> {
        let collections = collections_named(names).map_err(|e| e.for_shard(self.id()))?;
        let client = self.connected_client()?;
        for name in collections {
            client.process_sync_task(MajorSyncTask::AppStateSync { name, full_sync: full }).await;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive_patch() -> BValue {
        BValue::obj([
            ("syncAction", BValue::obj([("archiveChatAction", BValue::obj([("archived", BValue::Bool(true))]))])),
            ("index", BValue::Array(vec!["archive".into(), "1555@s.whatsapp.net".into()])),
            ("type", "regular_low".into()),
            ("apiVersion", BValue::Int(3)),
            ("operation", BValue::Int(0)),
        ])
    }

    #[test]
    fn reads_baileys_patch_and_stamps_the_time() {
        let patch = AppPatch::from_baileys(&archive_patch(), 1_700_000_000_000).unwrap();
        assert_eq!(patch.collection, Collection::RegularLow);
        assert_eq!(patch.index, ["archive", "1555@s.whatsapp.net"]);
        assert_eq!(patch.version, 3);
        assert_eq!(patch.value.timestamp, Some(1_700_000_000_000));
        assert_eq!(patch.value.archive_chat_action.as_option().and_then(|a| a.archived), Some(true));
        let schema = patch.schema();
        assert_eq!(schema.index_parts.len(), 2);
        assert_eq!(schema.collection.as_str(), "regular_low");
    }

    #[test]
    fn keeps_a_given_timestamp() {
        let mut value = archive_patch();
        value.get_mut("syncAction").unwrap().set("timestamp", BValue::Int(42));
        assert_eq!(AppPatch::from_baileys(&value, 1).unwrap().value.timestamp, Some(42));
    }

    #[test]
    fn refuses_bad_patches_with_a_reason() {
        let with = |key: &str, v: BValue| archive_patch().with(key, v);
        let code = |v: &BValue| AppPatch::from_baileys(v, 0).unwrap_err();
        assert!(code(&with("type", "regular_medium".into())).message.contains("collection"));
        assert!(code(&with("index", BValue::Array(vec![]))).message.contains("index"));
        assert!(code(&with("index", BValue::Array(vec![BValue::Int(1)]))).message.contains("index"));
        assert!(code(&with("apiVersion", BValue::Int(0))).message.contains("apiVersion"));
        assert!(code(&with("syncAction", BValue::Null)).message.contains("syncAction"));
        assert!(code(&with("syncAction", BValue::obj([("archiveChatAction", BValue::Int(3))]))).message.contains("syncAction"));
        assert_eq!(code(&with("operation", BValue::Int(1))).code, ErrorCode::NotSupported);
        assert_eq!(code(&BValue::Null).code, ErrorCode::InvalidArgument);
    }

    #[test]
    fn names_collections() {
        let names = ["regular".to_owned(), "critical_block".to_owned()];
        assert_eq!(collections_named(&names).unwrap(), [WAPatchName::Regular, WAPatchName::CriticalBlock]);
        assert!(collections_named(&["nope".to_owned()]).is_err());
    }
}
