//! Calls: Baileys 6.7.21's `call` event from the engine's call signalling, and `rejectCall`.
//!
//! Each `<call>` the engine reports becomes one `call` item, shaped as Baileys' `handleCall`
//! shapes it: `{ chatId, from, id, date, offline, status }`, plus `isVideo`, `isGroup` and
//! `groupJid` from the offer (remembered per call, as Baileys' `callOfferCache` does, so a
//! later `reject` or `terminate` still says whether it was a video call). `date` goes to JS as
//! milliseconds and becomes a `Date` there.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use wacore::types::call::{CallAction, IncomingCall, MissedCall, MissedReason};

use crate::baileys_value::BValue;
use crate::error::{ErrorCode, Result, ShardError};
use crate::shard::Shard;
use crate::socket_ops::jid_arg;

/// How many calls' offer details a shard remembers.
const REMEMBERED_OFFERS: usize = 256;

#[derive(Clone, Copy)]
struct OfferInfo {
    is_video: bool,
    is_group: bool,
}

/// Offer details by call id, oldest forgotten first.
#[derive(Default)]
pub struct CallOffers {
    inner: Mutex<(HashMap<String, OfferInfo>, VecDeque<String>)>,
}

impl CallOffers {
    fn remember(&self, id: &str, info: OfferInfo) {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (map, order) = &mut *guard;
        if map.insert(id.to_owned(), info).is_none() {
            order.push_back(id.to_owned());
            if order.len() > REMEMBERED_OFFERS {
                if let Some(old) = order.pop_front() {
                    map.remove(&old);
                }
            }
        }
    }

    fn get(&self, id: &str) -> Option<OfferInfo> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).0.get(id).copied()
    }

    /// The call ended: a later stanza about it no longer says what kind of call it was (as
    /// Baileys drops its `callOfferCache` entry).
    fn forget(&self, id: &str) -> Option<OfferInfo> {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (map, order) = &mut *guard;
        let info = map.remove(id);
        if info.is_some() {
            order.retain(|known| known != id);
        }
        info
    }
}

/// Baileys' `getCallStatusFromNode`.
fn status(action: &CallAction) -> &'static str {
    match action {
        CallAction::Offer { .. } | CallAction::OfferNotice { .. } => "offer",
        CallAction::Terminate { reason, .. } if reason.as_deref() == Some("timeout") => "timeout",
        CallAction::Terminate { .. } => "terminate",
        CallAction::Reject { .. } => "reject",
        CallAction::Accept { .. } => "accept",
        _ => "ringing",
    }
}

fn item(chat: String, from: String, id: &str, date_ms: i64, offline: bool, status: &str) -> BValue {
    BValue::obj([
        ("chatId", BValue::String(chat)),
        ("from", BValue::String(from)),
        ("id", BValue::str(id)),
        ("date", BValue::Int(date_ms)),
        ("offline", BValue::Bool(offline)),
        ("status", BValue::str(status)),
    ])
}

fn with_offer(mut call: BValue, info: OfferInfo, group_jid: Option<String>) -> BValue {
    call.set("isVideo", BValue::Bool(info.is_video));
    call.set("isGroup", BValue::Bool(info.is_group));
    if let Some(group) = group_jid {
        call.set("groupJid", BValue::String(group));
    }
    call
}

/// The `call` event for one `<call>` the engine parsed.
pub fn call_event(call: &IncomingCall, offers: &CallOffers) -> (&'static str, BValue) {
    let id = call.action.call_id();
    let status = status(&call.action);
    let mut event =
        item(call.from.to_string(), call.action.call_creator().to_string(), id, call.timestamp.timestamp_millis(), call.offline, status);
    match &call.action {
        CallAction::Offer { is_video, group_jid, .. } => {
            let info = OfferInfo { is_video: *is_video, is_group: group_jid.is_some() || call.group.is_some() };
            offers.remember(id, info);
            event = with_offer(event, info, group_jid.as_ref().map(|g| g.to_string()));
        }
        CallAction::OfferNotice { is_video, is_group, .. } => {
            let info = OfferInfo { is_video: *is_video, is_group: *is_group };
            offers.remember(id, info);
            event = with_offer(event, info, None);
        }
        _ => {
            let ended = matches!(status, "reject" | "accept" | "timeout" | "terminate");
            if let Some(info) = if ended { offers.forget(id) } else { offers.get(id) } {
                event = with_offer(event, info, None);
            }
        }
    }
    ("call", BValue::Array(vec![event]))
}

/// An offer the engine did not ring for because it came from the offline queue: Baileys
/// reports such an offer as `status: 'offer'` with `offline: true`.
pub fn missed_offline_offer(missed: &MissedCall) -> Option<(&'static str, BValue)> {
    if !matches!(missed.reason, MissedReason::Offline) {
        return None;
    }
    let from = missed.from.to_string();
    Some(("call", BValue::Array(vec![item(from.clone(), from, &missed.call_id, missed.timestamp.timestamp_millis(), true, "offer")])))
}

impl Shard {
    /// Baileys' `rejectCall(callId, callFrom)`: declines an incoming call.
    pub async fn reject_call(&self, call_id: &str, call_from: &str) -> Result<()> {
        if call_id.is_empty() {
            return Err(
                ShardError::new(ErrorCode::InvalidArgument, "rejectCall: callId must be the id of a call event").for_shard(self.id())
            );
        }
        let from = jid_arg("rejectCall: callFrom", call_from).map_err(|e| e.for_shard(self.id()))?;
        let client = self.connected_client()?;
        client.voip().reject_call(call_id, &from, &from).await.map_err(|e| {
            ShardError::new(ErrorCode::NotConnected, format!("rejectCall failed on shard {}: {e}", self.id())).for_shard(self.id())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wacore_binary::Jid;

    fn caller() -> Jid {
        "15550001111@s.whatsapp.net".parse().unwrap()
    }

    fn incoming(action: CallAction) -> IncomingCall {
        IncomingCall::new_for_test(caller(), "STANZA".into(), chrono::Utc::now(), action)
    }

    fn offer(id: &str) -> CallAction {
        CallAction::Offer {
            call_id: id.into(),
            call_creator: caller(),
            caller_pn: None,
            caller_country_code: None,
            device_class: None,
            joinable: false,
            is_video: true,
            audio: Vec::new(),
            group_jid: None,
        }
    }

    fn terminate(id: &str, reason: Option<&str>) -> CallAction {
        CallAction::Terminate {
            call_id: id.into(),
            call_creator: caller(),
            reason: reason.map(str::to_owned),
            duration: None,
            audio_duration: None,
        }
    }

    #[test]
    fn the_end_of_a_call_says_what_kind_it_was_once_as_baileys_does() {
        let offers = CallOffers::default();
        let (_, offered) = call_event(&incoming(offer("C1")), &offers);
        let offered = &offered.as_array().unwrap()[0];
        assert_eq!(offered.get("status"), Some(&BValue::str("offer")));
        assert_eq!(offered.get("isVideo"), Some(&BValue::Bool(true)));

        let (_, ended) = call_event(&incoming(terminate("C1", Some("timeout"))), &offers);
        let ended = &ended.as_array().unwrap()[0];
        assert_eq!(ended.get("status"), Some(&BValue::str("timeout")));
        assert_eq!(ended.get("isVideo"), Some(&BValue::Bool(true)));
        assert_eq!(ended.get("isGroup"), Some(&BValue::Bool(false)));

        // Baileys forgot the offer when the call ended.
        let (_, again) = call_event(&incoming(terminate("C1", None)), &offers);
        let again = &again.as_array().unwrap()[0];
        assert_eq!(again.get("status"), Some(&BValue::str("terminate")));
        assert_eq!(again.get("isVideo"), None);
    }
}
