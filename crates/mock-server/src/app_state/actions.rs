//! The mutations the mock phone writes: the seeded account's state as a real phone would have
//! synced it, and the actions a test makes the phone take (`POST /admin/mock-phone/app-state`,
//! parsed by chat_modification.rs, which lists every index, collection and version).

use std::collections::BTreeMap;

use serde_json::Value;
use waproto::buffa;
use waproto::whatsapp as wa;
use waproto::whatsapp::sync_action_value as sav;
use waproto::whatsapp::syncd_mutation::SyncdOperation;

use super::chat_modification::parse_action;
use super::{account_state, apply_patch, build_patch, keys_and_seed, notify, AppStateState, COLLECTIONS};
use crate::account_seed::AccountSeed;
use crate::http_response::Response;
use crate::locking::lock;

/// One plaintext mutation: what a device encrypts into a record.
#[derive(Clone, Debug)]
pub struct Mutation {
    pub operation: SyncdOperation,
    pub index: Vec<String>,
    pub value: wa::SyncActionValue,
    /// The action's schema version (`SyncActionData.version`).
    pub version: i32,
}

/// A mutation with its collection.
pub(super) type Placed = (&'static str, Mutation);

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

pub(super) fn set(collection: &'static str, index: &[&str], version: i32, value: wa::SyncActionValue) -> Placed {
    let value = wa::SyncActionValue { timestamp: Some(now_ms()), ..value };
    let index = index.iter().map(|s| (*s).to_owned()).collect();
    (collection, Mutation { operation: SyncdOperation::SET, index, value, version })
}

pub(super) fn contact(jid: &str, full_name: Option<String>, first_name: Option<String>) -> Placed {
    let action = sav::ContactAction { full_name, first_name, ..Default::default() };
    set(
        "critical_unblock_low",
        &["contact", jid],
        2,
        wa::SyncActionValue { contact_action: buffa::MessageField::some(action), ..Default::default() },
    )
}

pub(super) fn archive(jid: &str, archived: bool) -> Placed {
    let action = sav::ArchiveChatAction { archived: Some(archived), ..Default::default() };
    set(
        "regular_low",
        &["archive", jid],
        3,
        wa::SyncActionValue { archive_chat_action: buffa::MessageField::some(action), ..Default::default() },
    )
}

pub(super) fn pin(jid: &str, pinned: bool) -> Placed {
    let action = sav::PinAction { pinned: Some(pinned) };
    set("regular_low", &["pin_v1", jid], 5, wa::SyncActionValue { pin_action: buffa::MessageField::some(action), ..Default::default() })
}

/// `until`: when the mute ends (as the seed or the test gives it), `None` to unmute.
pub(super) fn mute(jid: &str, until: Option<i64>) -> Placed {
    let action = sav::MuteAction { muted: Some(until.is_some()), mute_end_timestamp: until, ..Default::default() };
    set("regular_high", &["mute", jid], 2, wa::SyncActionValue { mute_action: buffa::MessageField::some(action), ..Default::default() })
}

/// The seed's state as mutations, by collection: the phone's push name, every named contact,
/// every archived, pinned or muted chat.
pub fn seed_mutations(seed: &AccountSeed) -> Vec<(&'static str, Vec<Mutation>)> {
    let mut placed = Vec::new();
    if let Some(name) = &seed.push_name {
        let action = sav::PushNameSetting { name: Some(name.clone()) };
        let value = wa::SyncActionValue { push_name_setting: buffa::MessageField::some(action), ..Default::default() };
        placed.push(set("critical_block", &["setting_pushName"], 1, value));
    }
    for c in &seed.contacts {
        if let Some(name) = &c.name {
            placed.push(contact(&c.id, Some(name.clone()), name.split(' ').next().map(str::to_owned)));
        }
    }
    for chat in &seed.chats {
        if chat.archived == Some(true) {
            placed.push(archive(&chat.id, true));
        }
        if let Some(pinned) = chat.pinned.filter(|p| *p > 0) {
            // Baileys reports a pin's time as the action's timestamp, the history's as
            // `Conversation.pinned`: the seed's one value for both, so they agree.
            let (name, mut m) = pin(&chat.id, true);
            m.value.timestamp = Some(i64::from(pinned));
            placed.push((name, m));
        }
        if let Some(t) = chat.mute_end_time.filter(|t| *t > 0) {
            placed.push(mute(&chat.id, Some(t.min(i64::MAX as u64) as i64)));
        }
    }
    by_collection(placed)
}

/// Groups mutations by collection (in [`COLLECTIONS`] order); a later mutation of an index
/// replaces an earlier one, since a patch may not name an index twice.
fn by_collection(placed: Vec<Placed>) -> Vec<(&'static str, Vec<Mutation>)> {
    let mut groups: BTreeMap<usize, Vec<Mutation>> = BTreeMap::new();
    for (name, m) in placed {
        let order = COLLECTIONS.iter().position(|c| *c == name).unwrap_or(COLLECTIONS.len());
        let list = groups.entry(order).or_default();
        list.retain(|prev| prev.index != m.index);
        list.push(m);
    }
    groups.into_iter().filter_map(|(i, list)| Some((*COLLECTIONS.get(i)?, list))).collect()
}

/// `POST /admin/mock-phone/app-state` `{ phone, actions }`: the mock phone encrypts the
/// actions into one patch per collection, stores them and sends `server_sync` to every device
/// of the account. Answers `{ collections: { name: version } }` (every collection).
pub fn phone_app_state_route(body: &[u8], state: &impl AppStateState) -> Response {
    let value: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return Response::text(400, format!("body is not JSON: {e}\n")),
    };
    let Some(phone) = value.get("phone").and_then(Value::as_str).map(|p| p.trim_start_matches('+').to_owned()) else {
        return Response::text(400, "`phone` must be a string\n");
    };
    let Some(list) = value.get("actions").and_then(Value::as_array) else {
        return Response::text(400, "`actions` must be an array\n");
    };
    let mut placed = Vec::new();
    for (i, a) in list.iter().enumerate() {
        match parse_action(a) {
            Ok(p) => placed.extend(p),
            Err(e) => return Response::text(400, format!("actions[{i}]: {e}\n")),
        }
    }
    let Some((keys, seed)) = keys_and_seed(state, &phone) else {
        return Response::text(404, format!("no account {phone}: link a device to it first\n"));
    };
    let mut book = lock(state.app_state());
    let account = account_state(&mut book, &phone, &keys, seed);
    let mut changed = Vec::new();
    for (name, mutations) in by_collection(placed) {
        let coll = account.collections.entry(name).or_default();
        let patch = build_patch(coll, name, &keys, &mutations);
        let base = coll.version();
        match apply_patch(coll, name, &keys, base, patch) {
            Ok(version) => changed.push((name, version)),
            Err(e) => return Response::text(500, format!("the phone's own {name} patch does not verify: {e:?}\n")),
        }
    }
    let versions: serde_json::Map<String, Value> =
        COLLECTIONS.iter().map(|c| ((*c).to_owned(), account.collections.get(c).map_or(0, |c| c.version()).into())).collect();
    drop(book);
    log::info!("mock phone {phone} wrote app state: {changed:?}");
    notify(state, &phone, None, &changed);
    Response::json(200, &serde_json::json!({ "collections": versions }))
}
