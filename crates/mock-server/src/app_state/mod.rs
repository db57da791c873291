//! The app-state server (`w:sync:app:state`): each account's five collections — contacts,
//! archive/pin/mute flags, settings — as versioned, encrypted patches, the way WhatsApp keeps
//! them for the devices of an account.
//!
//! WhatsApp's server cannot read app state: devices encrypt every mutation with the account's
//! app-state key, and a patch carries MACs (per record, over the patch, over the collection's
//! LTHash) that only key holders can compute. The mock does what the real server does — stores
//! patches, orders them by version, refuses stale ones (409) and tells the other devices
//! (`server_sync`) — and, because the mock phone holds the account's key
//! ([`crate::accounts::AppStateKey`]), it also verifies every MAC and the LTHash of what a
//! device sends (400 if wrong), and it writes patches itself: the seeded account's state
//! (actions.rs) and `POST /admin/mock-phone/app-state`.
//!
//! Collections start empty at version 0 and the first patch is version 1 (a "genesis" patch);
//! both clients accept patches alone from an empty collection, so no snapshot is ever served.

mod actions;
mod chat_modification;
mod spoil;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use wacore_appstate::hash::{generate_patch_mac, HashState};
use wacore_appstate::processor::process_patch;
use wacore_appstate::{encode_record, expand_app_state_keys, AppStateError, ExpandedAppStateKeys};
use wacore_binary::builder::NodeBuilder;
use wacore_binary::{Node, NodeContent};
use waproto::buffa;
use waproto::whatsapp as wa;

pub use actions::{phone_app_state_route, seed_mutations, Mutation};

use crate::account_seed::{AccountSeed, SeedBook};
use crate::accounts::{AppStateKey, Directory};
use crate::faults::Faults;
use crate::jid::DeviceAddr;
use crate::locking::lock;
use crate::router::Router;
use crate::stanza::{attr, error, kids, result, SERVER};

/// The collections WhatsApp syncs, in the order clients ask for them.
pub const COLLECTIONS: [&str; 5] = ["critical_block", "critical_unblock_low", "regular_high", "regular_low", "regular"];

/// Patches per collection in one answer; more sets `has_more_patches` and the client asks again.
const PAGE: usize = 100;

/// What the app-state server needs of the server's state. Lock order: `directory`, `seeds`,
/// `app_state`, `router` (each released before the next is taken, except `app_state` and
/// `router`).
pub trait AppStateState {
    fn faults(&self) -> &Faults;
    fn directory(&self) -> &Mutex<Directory>;
    fn router(&self) -> &Mutex<Router>;
    fn seeds(&self) -> &Mutex<SeedBook>;
    fn app_state(&self) -> &Mutex<AppStateBook>;
}

/// One stored patch: its version and the `SyncdPatch` bytes as served.
#[derive(Clone, Debug)]
pub struct StoredPatch {
    pub version: u64,
    pub bytes: Vec<u8>,
}

/// One collection of one account.
#[derive(Clone, Debug, Default)]
pub struct Collection {
    /// Version and LTHash after the last patch (`index_value_map` unused: see `value_macs`).
    state: HashState,
    /// Index MAC → value MAC of every entry currently set: what a REMOVE or an overwriting SET
    /// subtracts from the LTHash.
    value_macs: HashMap<Vec<u8>, Vec<u8>>,
    patches: Vec<StoredPatch>,
}

impl Collection {
    pub fn version(&self) -> u64 {
        self.state.version
    }

    pub fn lt_hash(&self) -> &[u8; 128] {
        &self.state.hash
    }

    pub fn patches(&self) -> &[StoredPatch] {
        &self.patches
    }

    /// Entries currently set (index MAC → value MAC).
    pub fn value_macs(&self) -> &HashMap<Vec<u8>, Vec<u8>> {
        &self.value_macs
    }
}

/// An account's collections, and the seed they were built from (a re-seed rebuilds them).
#[derive(Default)]
pub struct AccountAppState {
    built_from: Option<Arc<AccountSeed>>,
    collections: HashMap<&'static str, Collection>,
}

impl AccountAppState {
    pub fn collection(&self, name: &str) -> Option<&Collection> {
        self.collections.get(name)
    }
}

/// App state by phone number.
#[derive(Default)]
pub struct AppStateBook {
    accounts: HashMap<String, AccountAppState>,
}

impl AppStateBook {
    pub fn account(&self, phone: &str) -> Option<&AccountAppState> {
        self.accounts.get(phone)
    }
}

/// The account's app-state key, expanded, with its id (the `keyId` of every patch and record).
#[derive(Clone)]
pub struct Keys {
    pub id: Vec<u8>,
    pub expanded: ExpandedAppStateKeys,
}

impl Keys {
    pub fn new(key: &AppStateKey) -> Keys {
        Keys { id: key.key_id.to_vec(), expanded: expand_app_state_keys(&key.key_data) }
    }
}

/// Why a patch was not stored, as the answer's `<error code>`.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// 409: the patch was built on a version that is no longer the collection's.
    Conflict,
    /// 400: malformed, or a MAC or the LTHash does not verify.
    Bad(String),
}

impl Refusal {
    fn code_text(&self) -> (u16, &'static str) {
        match self {
            Refusal::Conflict => (409, "conflict"),
            Refusal::Bad(_) => (400, "bad-request"),
        }
    }
}

/// Validates `patch` against `coll` (built on `base_version`) and stores it: the version must
/// follow the collection's, the key must be the account's, the patch MAC, every value and
/// index MAC and the snapshot MAC over the new LTHash must verify. Returns the new version; on
/// refusal the collection is unchanged.
pub fn apply_patch(coll: &mut Collection, name: &str, keys: &Keys, base_version: u64, mut patch: wa::SyncdPatch) -> Result<u64, Refusal> {
    if base_version != coll.state.version {
        return Err(Refusal::Conflict);
    }
    let version = base_version + 1;
    // Baileys leaves `version` out of the patch it sends (the iq's `version` is its base);
    // its patch MAC covers base + 1, which is what is filled in.
    match patch.version.as_option().and_then(|v| v.version) {
        None => patch.version = buffa::MessageField::some(wa::SyncdVersion { version: Some(version) }),
        Some(v) if v != version => return Err(Refusal::Bad(format!("patch version {v} does not follow {base_version}"))),
        Some(_) => {}
    }
    // `process_patch` only checks MACs when the patch names a key, and the snapshot MAC only
    // when present: a patch without them is refused here.
    if patch.key_id.as_option().and_then(|k| k.id.as_deref()) != Some(keys.id.as_slice()) {
        return Err(Refusal::Bad("the patch is not encrypted with the account's app-state key".into()));
    }
    if patch.patch_mac.is_none() || patch.snapshot_mac.is_none() {
        return Err(Refusal::Bad("the patch lacks its patch MAC or snapshot MAC".into()));
    }
    if patch.external_mutations.is_set() {
        return Err(Refusal::Bad("external mutations are not supported by the mock".into()));
    }
    let mut state = coll.state.clone();
    let expanded = Arc::new(keys.expanded.clone());
    let processed = process_patch(
        &patch,
        &mut state,
        |id| if id == keys.id.as_slice() { Ok(expanded.clone()) } else { Err(AppStateError::KeyNotFound) },
        |index_mac| Ok(coll.value_macs.get(index_mac).cloned()),
        true,
        name,
    )
    .map_err(|e| Refusal::Bad(format!("{e}")))?;
    // A client tolerates a diverged snapshot MAC (its own state may be off); the server holds
    // the reference LTHash, so a mismatch means the patch is wrong.
    if state.mac_mismatch_fatal {
        return Err(Refusal::Bad("the snapshot MAC does not match the collection's LTHash".into()));
    }
    for index_mac in &processed.removed_index_macs {
        coll.value_macs.remove(index_mac);
    }
    for m in processed.added_macs {
        coll.value_macs.insert(m.index_mac, m.value_mac);
    }
    coll.state = state;
    coll.patches.push(StoredPatch { version, bytes: waproto::codec::syncd_patch_to_vec(&patch) });
    Ok(version)
}

/// Encrypts `mutations` into the next patch of `coll`, as a device of the account would
/// (fresh IVs, MACs over the LTHash after them). At most one mutation per index.
pub fn build_patch(coll: &Collection, name: &str, keys: &Keys, mutations: &[Mutation]) -> wa::SyncdPatch {
    let records: Vec<wa::SyncdMutation> = mutations
        .iter()
        .map(|m| {
            // Index JSON exactly as JS's JSON.stringify writes it (no spaces).
            let index = serde_json::to_vec(&m.index).unwrap_or_default();
            let iv: [u8; 16] = rand::random();
            encode_record(m.operation, &index, &m.value, &keys.expanded, &keys.id, &iv, m.version).0
        })
        .collect();
    let mut state = coll.state.clone();
    // Only known operations are built here, so the LTHash update cannot fail.
    let _ = state.update_hash(&records, |index_mac, _| Ok(coll.value_macs.get(index_mac).cloned()));
    state.version += 1;
    let mut patch = wa::SyncdPatch {
        version: buffa::MessageField::some(wa::SyncdVersion { version: Some(state.version) }),
        mutations: records,
        snapshot_mac: Some(state.generate_snapshot_mac(name, &keys.expanded.snapshot_mac)),
        key_id: buffa::MessageField::some(wa::KeyId { id: Some(keys.id.clone()) }),
        ..Default::default()
    };
    patch.patch_mac = Some(generate_patch_mac(&patch, name, &keys.expanded.patch_mac, state.version));
    patch
}

/// The account's app state, (re)built from its seed if it was seeded since it was last built.
pub fn account_state<'a>(book: &'a mut AppStateBook, phone: &str, keys: &Keys, seed: Option<Arc<AccountSeed>>) -> &'a mut AccountAppState {
    let account = book.accounts.entry(phone.to_owned()).or_default();
    let reseeded = match (&seed, &account.built_from) {
        (Some(seed), Some(built)) => !Arc::ptr_eq(seed, built),
        (Some(_), None) => true,
        (None, _) => false,
    };
    if let (true, Some(seed)) = (reseeded, seed) {
        // A re-seed replaces the account's state: the phone "was" that account all along.
        *account = AccountAppState { built_from: Some(seed.clone()), collections: HashMap::new() };
        for (name, mutations) in seed_mutations(&seed) {
            let coll = account.collections.entry(name).or_default();
            let patch = build_patch(coll, name, keys, &mutations);
            if let Err(e) = apply_patch(coll, name, keys, 0, patch) {
                log::error!("seeded {name} of {phone} does not verify: {e:?}");
            }
        }
    }
    account
}

/// The account's key and seed, read under their own locks (taken and released in order).
pub fn keys_and_seed(state: &impl AppStateState, phone: &str) -> Option<(Keys, Option<Arc<AccountSeed>>)> {
    let keys = Keys::new(&lock(state.directory()).account(phone)?.app_state_key);
    let seed = lock(state.seeds()).get(phone);
    Some((keys, seed))
}

/// `<iq xmlns="w:sync:app:state" type="set"><sync><collection …/>…</sync></iq>` from a device:
/// each collection with a `<patch>` is a write, any other a read from its `version`.
pub fn handle_iq(state: &impl AppStateState, me: Option<&DeviceAddr>, iq: &Node) -> Node {
    let Some(me) = me else { return error(iq, 401, "not-authorized") };
    let Some((keys, seed)) = keys_and_seed(state, &me.phone) else { return error(iq, 404, "item-not-found") };
    let Some(sync) = kids(iq).iter().find(|n| n.tag == "sync") else { return error(iq, 400, "bad-request") };
    let mut book = lock(state.app_state());
    let account = account_state(&mut book, &me.phone, &keys, seed);
    let mut answers = Vec::new();
    let mut changed = Vec::new();
    for req in kids(sync).iter().filter(|n| n.tag == "collection") {
        let name = attr(req, "name").unwrap_or_default();
        let Some(name) = COLLECTIONS.iter().copied().find(|c| *c == name) else {
            answers.push(collection_error(&name, 404, "item-not-found", None));
            continue;
        };
        let coll = account.collections.entry(name).or_default();
        let base = attr(req, "version").and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        let Some(patch_node) = kids(req).iter().find(|n| n.tag == "patch") else {
            answers.push(read_collection(name, coll, base));
            continue;
        };
        let outcome = match &patch_node.content {
            Some(NodeContent::Bytes(b)) => {
                waproto::codec::syncd_patch_decode(b).map_err(|e| Refusal::Bad(format!("undecodable patch: {e}")))
            }
            _ => Err(Refusal::Bad("empty <patch>".into())),
        }
        .and_then(|patch| apply_patch(coll, name, &keys, base, patch));
        match outcome {
            Ok(version) => {
                log::info!("{}:{} patched {name} to v{version}", me.phone, me.device);
                answers.push(NodeBuilder::new("collection").attr("name", name).attr("version", version.to_string()).build());
                changed.push((name, version));
            }
            Err(refusal) => {
                log::info!("{}:{} patch to {name} refused: {refusal:?}", me.phone, me.device);
                let (code, text) = refusal.code_text();
                // A conflict carries the patches the device missed, as WhatsApp's does.
                let missed = (refusal == Refusal::Conflict).then(|| patches_after(coll, base));
                answers.push(collection_error(name, code, text, missed.map(|(nodes, _)| (nodes, coll.version()))));
            }
        }
    }
    drop(book);
    notify(state, &me.phone, Some(me.device), &changed);
    if spoil::carries_patches(&answers) {
        if let Some(kind) = state.faults().app_state_spoil_for(&(me.phone.clone(), me.device)) {
            spoil::spoil(&mut answers, kind, &keys);
        }
    }
    result(iq, vec![NodeBuilder::new("sync").children(answers).build()])
}

/// `<collection name version [has_more_patches]><patches>…</patches></collection>`: the
/// patches after `base`, a page at a time; `version` is where the client stands after them.
fn read_collection(name: &str, coll: &Collection, base: u64) -> Node {
    let (patches, more) = patches_after(coll, base);
    let version = coll.patches.iter().filter(|p| p.version > base).take(PAGE).last().map_or(coll.version().max(base), |p| p.version);
    let mut b = NodeBuilder::new("collection").attr("name", name).attr("version", version.to_string());
    if more {
        b = b.attr("has_more_patches", "true");
    }
    if !patches.is_empty() {
        b = b.children([NodeBuilder::new("patches").children(patches).build()]);
    }
    b.build()
}

/// A page of `<patch>` nodes after `base`, and whether more follow.
fn patches_after(coll: &Collection, base: u64) -> (Vec<Node>, bool) {
    let after: Vec<&StoredPatch> = coll.patches.iter().filter(|p| p.version > base).collect();
    let nodes = after.iter().take(PAGE).map(|p| NodeBuilder::new("patch").bytes(p.bytes.clone()).build()).collect();
    (nodes, after.len() > PAGE)
}

/// `<collection name type="error" [version]><error code text/>[<patches>]</collection>`, inside
/// a successful iq, as WhatsApp answers one collection it refuses.
fn collection_error(name: &str, code: u16, text: &str, missed: Option<(Vec<Node>, u64)>) -> Node {
    let mut b = NodeBuilder::new("collection").attr("name", name.to_owned()).attr("type", "error");
    let mut children = vec![NodeBuilder::new("error").attr("code", code.to_string()).attr("text", text.to_owned()).build()];
    if let Some((patches, version)) = missed {
        b = b.attr("version", version.to_string());
        if !patches.is_empty() {
            children.push(NodeBuilder::new("patches").children(patches).build());
        }
    }
    b.children(children).build()
}

/// Tells the account's devices (all but `except`, the one that wrote) that collections moved:
/// one `<notification type="server_sync"><collection name version/></notification>` per
/// collection (Baileys 6.7 reads only the first `<collection>` of one). Queued for devices
/// that are offline, as WhatsApp does.
pub fn notify(state: &impl AppStateState, phone: &str, except: Option<u16>, changed: &[(&str, u64)]) {
    if changed.is_empty() {
        return;
    }
    let devices: Vec<u16> = lock(state.directory()).account(phone).map(|a| a.devices.keys().copied().collect()).unwrap_or_default();
    let mut router = lock(state.router());
    for (name, version) in changed {
        let id = format!("{:016X}", rand::random::<u64>());
        let node = NodeBuilder::new("notification")
            .attr("from", SERVER)
            .attr("type", "server_sync")
            .attr("id", id.clone())
            .attr("t", crate::clock::unix_now().to_string())
            .children([NodeBuilder::new("collection").attr("name", *name).attr("version", version.to_string()).build()])
            .build();
        for device in devices.iter().copied().filter(|d| Some(*d) != except) {
            router.deliver(&(phone.to_owned(), device), "notification", &id, phone, node.clone());
        }
    }
}

#[cfg(test)]
mod tests;
