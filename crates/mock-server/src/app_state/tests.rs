//! The app-state server against wacore-appstate's own client-side decoding: what the mock
//! writes decodes as the clients decode it, and what a device sends is verified.

use wacore_appstate::decode::Mutation as Decoded;
use waproto::whatsapp::syncd_mutation::SyncdOperation;

use super::*;
use crate::account_seed::{SeedChat, SeedContact};

const PHONE: &str = "15550001111";

/// A server state with one account of two devices (1 and 2), neither live.
#[derive(Default)]
struct TestState {
    faults: Faults,
    directory: Mutex<Directory>,
    router: Mutex<Router>,
    seeds: Mutex<SeedBook>,
    app_state: Mutex<AppStateBook>,
}

impl AppStateState for TestState {
    fn faults(&self) -> &Faults {
        &self.faults
    }
    fn directory(&self) -> &Mutex<Directory> {
        &self.directory
    }
    fn router(&self) -> &Mutex<Router> {
        &self.router
    }
    fn seeds(&self) -> &Mutex<SeedBook> {
        &self.seeds
    }
    fn app_state(&self) -> &Mutex<AppStateBook> {
        &self.app_state
    }
}

fn state() -> TestState {
    let state = TestState::default();
    {
        let mut dir = lock(&state.directory);
        let account = dir.account_for_phone(PHONE, "alice");
        for _ in 0..2 {
            account.link_placeholder_device();
        }
    }
    state
}

fn keys(state: &TestState) -> Keys {
    keys_and_seed(state, PHONE).expect("the account exists").0
}

fn seed() -> AccountSeed {
    AccountSeed {
        push_name: Some("Alice".into()),
        contacts: vec![
            SeedContact { id: "15550002222@s.whatsapp.net".into(), name: Some("Bob Builder".into()), notify: None },
            SeedContact { id: "15550003333@s.whatsapp.net".into(), name: None, notify: Some("carol".into()) },
        ],
        chats: vec![
            SeedChat { id: "15550002222@s.whatsapp.net".into(), archived: Some(true), pinned: Some(1), ..Default::default() },
            SeedChat { id: "120363000000000001@g.us".into(), mute_end_time: Some(1_900_000_000_000), ..Default::default() },
        ],
    }
}

/// Decodes a collection from version 0 as a client does (MACs and LTHash validated).
fn client_sync(coll: &Collection, name: &str, keys: &Keys) -> (HashState, Vec<Decoded>) {
    let mut state = HashState::default();
    let mut macs: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
    let mut out = Vec::new();
    let expanded = Arc::new(keys.expanded.clone());
    for stored in coll.patches() {
        let patch = waproto::codec::syncd_patch_decode(&stored.bytes).expect("stored patches decode");
        let r = process_patch(&patch, &mut state, |_| Ok(expanded.clone()), |i| Ok(macs.get(i).cloned()), true, name)
            .expect("a client accepts the patch");
        assert!(!state.mac_mismatch_fatal, "{name} v{}: snapshot MAC diverged", stored.version);
        for i in r.removed_index_macs {
            macs.remove(&i);
        }
        for m in r.added_macs {
            macs.insert(m.index_mac, m.value_mac);
        }
        out.extend(r.mutations);
    }
    (state, out)
}

fn synced(state: &TestState, name: &str) -> Collection {
    let book = lock(&state.app_state);
    book.account(PHONE).and_then(|a| a.collection(name)).cloned().unwrap_or_default()
}

/// A device's read of every collection from version 0.
fn sync_iq(state: &TestState, device: u16) -> Node {
    let collections = COLLECTIONS.map(|c| NodeBuilder::new("collection").attr("name", c).attr("version", "0").build());
    let iq = NodeBuilder::new("iq")
        .attr("id", "1")
        .attr("xmlns", "w:sync:app:state")
        .attr("type", "set")
        .children([NodeBuilder::new("sync").children(collections).build()])
        .build();
    handle_iq(state, Some(&DeviceAddr { phone: PHONE.into(), device }), &iq)
}

fn patch_iq(name: &str, base: u64, patch: &wa::SyncdPatch) -> Node {
    let coll = NodeBuilder::new("collection")
        .attr("name", name.to_owned())
        .attr("version", base.to_string())
        .attr("return_snapshot", "false")
        .children([NodeBuilder::new("patch").bytes(waproto::codec::syncd_patch_to_vec(patch)).build()])
        .build();
    NodeBuilder::new("iq").attr("id", "2").attr("type", "set").children([NodeBuilder::new("sync").children([coll]).build()]).build()
}

/// The `<collection>` answers of a `<sync>` result.
fn answers(reply: &Node) -> Vec<Node> {
    assert_eq!(attr(reply, "type").as_deref(), Some("result"), "{reply:?}");
    kids(reply).iter().find(|n| n.tag == "sync").map(|s| kids(s).to_vec()).unwrap_or_default()
}

fn error_code(answer: &Node) -> Option<String> {
    kids(answer).iter().find(|n| n.tag == "error").and_then(|e| attr(e, "code"))
}

fn seeded() -> TestState {
    let state = state();
    lock(&state.seeds).set(PHONE, seed());
    state
}

#[test]
fn a_seeded_account_decodes_to_the_phone_s_actions() {
    let state = seeded();
    let reply = sync_iq(&state, 1);
    let answers = answers(&reply);
    assert_eq!(answers.len(), 5);
    let keys = keys(&state);

    let (_, block) = client_sync(&synced(&state, "critical_block"), "critical_block", &keys);
    assert_eq!(block[0].index, ["setting_pushName"]);
    assert_eq!(block[0].action_value.as_ref().and_then(|v| v.push_name_setting.name.clone()).as_deref(), Some("Alice"));

    let (_, contacts) = client_sync(&synced(&state, "critical_unblock_low"), "critical_unblock_low", &keys);
    assert_eq!(contacts.len(), 1, "only named contacts are in the address book");
    assert_eq!(contacts[0].index, ["contact", "15550002222@s.whatsapp.net"]);
    let action = contacts[0].action_value.as_ref().map(|v| (*v.contact_action).clone()).unwrap_or_default();
    assert_eq!((action.full_name.as_deref(), action.first_name.as_deref()), (Some("Bob Builder"), Some("Bob")));

    let (_, low) = client_sync(&synced(&state, "regular_low"), "regular_low", &keys);
    let indexes: Vec<_> = low.iter().map(|m| m.index.join(",")).collect();
    assert_eq!(indexes, ["archive,15550002222@s.whatsapp.net", "pin_v1,15550002222@s.whatsapp.net"]);
    assert_eq!(low[0].action_value.as_ref().and_then(|v| v.archive_chat_action.archived), Some(true));
    assert_eq!(low[1].action_value.as_ref().and_then(|v| v.pin_action.pinned), Some(true));

    let (_, high) = client_sync(&synced(&state, "regular_high"), "regular_high", &keys);
    assert_eq!(high[0].index, ["mute", "120363000000000001@g.us"]);
    let mute = high[0].action_value.as_ref().map(|v| (*v.mute_action).clone()).unwrap_or_default();
    assert_eq!((mute.muted, mute.mute_end_timestamp), (Some(true), Some(1_900_000_000_000)));

    // The answer carries the genesis patch and the version the client stands at after it.
    let low_answer = answers.iter().find(|a| attr(a, "name").as_deref() == Some("regular_low")).unwrap();
    assert_eq!(attr(low_answer, "version").as_deref(), Some("1"));
    assert_eq!(kids(low_answer).iter().find(|n| n.tag == "patches").map(|p| kids(p).len()), Some(1));
    let empty = answers.iter().find(|a| attr(a, "name").as_deref() == Some("regular")).unwrap();
    assert_eq!((attr(empty, "version").as_deref(), kids(empty).len()), (Some("0"), 0));
}

/// The one mutation of a phone action.
fn one(action: &serde_json::Value) -> (&'static str, Mutation) {
    let mut placed = chat_modification::parse_action(action).unwrap();
    assert_eq!(placed.len(), 1);
    placed.remove(0)
}

/// A seeded account synced once by device 1, its `regular_low` collection, and `action` (a
/// `/admin/mock-phone/app-state` action) as the mutation a device would send.
fn synced_with(action: serde_json::Value) -> (TestState, Keys, Collection, &'static str, Mutation) {
    let state = seeded();
    sync_iq(&state, 1);
    let keys = keys(&state);
    let before = synced(&state, "regular_low");
    let (name, mutation) = one(&action);
    (state, keys, before, name, mutation)
}

#[test]
fn a_device_patch_is_stored_and_the_other_devices_are_told() {
    let (state, keys, before, name, unpin) = synced_with(serde_json::json!({ "jid": "15550002222@s.whatsapp.net", "pin": false }));
    let patch = build_patch(&before, name, &keys, &[unpin]);

    let reply = handle_iq(&state, Some(&DeviceAddr { phone: PHONE.into(), device: 1 }), &patch_iq(name, 1, &patch));
    let answer = &answers(&reply)[0];
    assert_eq!((error_code(answer), attr(answer, "version").as_deref()), (None, Some("2")));

    let after = synced(&state, "regular_low");
    assert_eq!(after.version(), 2);
    // A client replaying every patch ends on the server's LTHash, with the pin now off.
    let (client, decoded) = client_sync(&after, name, &keys);
    assert_eq!(&client.hash, after.lt_hash());
    assert_eq!(decoded.last().and_then(|m| m.action_value.as_ref()).and_then(|v| v.pin_action.pinned), Some(false));
    assert_eq!(after.value_macs().len(), 2, "the pin entry was overwritten, not added");

    let router = lock(&state.router);
    assert_eq!(router.queued(&(PHONE.into(), 2)), 1, "device 2 gets a server_sync");
    assert_eq!(router.queued(&(PHONE.into(), 1)), 0, "the writer is not told");
}

#[test]
fn a_patch_with_a_bad_mac_is_refused_and_nothing_changes() {
    let (state, keys, before, name, unarchive) = synced_with(serde_json::json!({ "jid": "15550002222@s.whatsapp.net", "archive": false }));

    let mut forged = build_patch(&before, name, &keys, std::slice::from_ref(&unarchive));
    if let Some(mac) = forged.patch_mac.as_mut() {
        mac[0] ^= 1;
    }
    let mut tampered = build_patch(&before, name, &keys, &[unarchive]);
    if let Some(blob) = tampered.mutations[0].record.as_option_mut().and_then(|r| r.value.as_option_mut()).and_then(|v| v.blob.as_mut()) {
        blob[20] ^= 1;
    }
    let device = DeviceAddr { phone: PHONE.into(), device: 1 };
    for patch in [forged, tampered] {
        let reply = handle_iq(&state, Some(&device), &patch_iq(name, 1, &patch));
        assert_eq!(error_code(&answers(&reply)[0]).as_deref(), Some("400"));
    }
    let after = synced(&state, name);
    assert_eq!((after.version(), after.lt_hash(), after.patches().len()), (1, before.lt_hash(), 1));
    assert_eq!(lock(&state.router).queued(&(PHONE.into(), 2)), 0);
}

#[test]
fn a_stale_version_is_a_conflict_with_the_missed_patches() {
    let state = seeded();
    sync_iq(&state, 1);
    let keys = keys(&state);
    let (name, mute) = one(&serde_json::json!({ "jid": "120363000000000001@g.us", "mute": null }));
    // Built on an empty collection, while the server holds the seed's v1.
    let stale = build_patch(&Collection::default(), name, &keys, &[mute]);
    let reply = handle_iq(&state, Some(&DeviceAddr { phone: PHONE.into(), device: 1 }), &patch_iq(name, 0, &stale));
    let answer = &answers(&reply)[0];
    assert_eq!((error_code(answer).as_deref(), attr(answer, "version").as_deref()), (Some("409"), Some("1")));
    assert_eq!(kids(answer).iter().find(|n| n.tag == "patches").map(|p| kids(p).len()), Some(1));
    assert_eq!(synced(&state, name).version(), 1);
}

#[test]
fn an_unknown_collection_is_an_error_of_its_own() {
    let state = state();
    let iq = NodeBuilder::new("iq")
        .attr("id", "3")
        .children([NodeBuilder::new("sync").children([NodeBuilder::new("collection").attr("name", "nope").build()]).build()])
        .build();
    let reply = handle_iq(&state, Some(&DeviceAddr { phone: PHONE.into(), device: 1 }), &iq);
    assert_eq!(error_code(&answers(&reply)[0]).as_deref(), Some("404"));
}

#[test]
fn the_phone_s_actions_become_one_patch_per_collection_and_reach_every_device() {
    let state = seeded();
    let body = serde_json::json!({ "phone": PHONE, "actions": [
        { "jid": "15550002222@s.whatsapp.net", "archive": false },
        { "jid": "15550002222@s.whatsapp.net", "markRead": true },
        { "contact": { "id": "15550004444", "fullName": "Dan Dare" } },
        { "contact": { "id": "15550002222", "remove": true } },
    ]});
    let resp = phone_app_state_route(body.to_string().as_bytes(), &state);
    assert_eq!(resp.status, 200);
    let keys = keys(&state);
    let contacts = synced(&state, "critical_unblock_low");
    assert_eq!(contacts.version(), 2);
    let (client, decoded) = client_sync(&contacts, "critical_unblock_low", &keys);
    assert_eq!(&client.hash, contacts.lt_hash());
    assert_eq!(decoded.len(), 3);
    assert_eq!(contacts.value_macs().len(), 1, "Bob removed, Dan added");
    assert_eq!(synced(&state, "regular_low").version(), 2);
    // One server_sync per collection written (critical_unblock_low, regular_low).
    for device in [1, 2] {
        assert_eq!(lock(&state.router).queued(&(PHONE.into(), device)), 2);
    }
}

/// Each phone action of every kind: the index, collection and version Baileys writes, and a
/// value both clients decode.
#[test]
fn every_chat_modification_is_written_as_baileys_writes_it() {
    let jid = "15550002222@s.whatsapp.net";
    let cases = [
        (
            serde_json::json!({ "jid": jid, "star": { "messages": [{ "id": "M1", "fromMe": true }], "star": true } }),
            "regular_low",
            vec!["star", jid, "M1", "1", "0"],
            2,
        ),
        (
            serde_json::json!({ "jid": jid, "deleteForMe": { "key": { "id": "M2" }, "timestamp": 5, "deleteMedia": true } }),
            "regular_high",
            vec!["deleteMessageForMe", jid, "M2", "0", "0"],
            3,
        ),
        (serde_json::json!({ "jid": jid, "clear": true }), "regular_high", vec!["clearChat", jid, "1", "0"], 6),
        (
            serde_json::json!({ "jid": jid, "delete": true, "lastMessages": [{ "key": { "remoteJid": jid, "id": "M3" }, "messageTimestamp": 7 }] }),
            "regular_high",
            vec!["deleteChat", jid, "1"],
            6,
        ),
        (serde_json::json!({ "pushNameSetting": "New Name" }), "critical_block", vec!["setting_pushName"], 1),
        (
            serde_json::json!({ "addLabel": { "id": "4", "name": "VIP", "color": 2, "deleted": true } }),
            "regular",
            vec!["label_edit", "4"],
            3,
        ),
        (serde_json::json!({ "jid": jid, "addChatLabel": { "labelId": "4" } }), "regular", vec!["label_jid", "4", jid], 3),
        (
            serde_json::json!({ "jid": jid, "removeMessageLabel": { "labelId": "4", "messageId": "M1" } }),
            "regular",
            vec!["label_message", "4", jid, "M1", "0", "0"],
            3,
        ),
        (
            serde_json::json!({ "jid": jid, "contact": { "fullName": "Bob B", "lidJid": "1@lid" } }),
            "critical_unblock_low",
            vec!["contact", jid],
            2,
        ),
    ];
    for (action, collection, index, version) in cases {
        let (name, m) = one(&action);
        assert_eq!(
            (name, m.index.clone(), m.version),
            (collection, index.iter().map(|s| s.to_string()).collect::<Vec<_>>(), version),
            "{action}"
        );
        assert!(m.value.timestamp.is_some());
    }
    let (_, star) = one(&serde_json::json!({ "jid": jid, "star": { "messages": [{ "id": "M1" }], "star": false } }));
    assert_eq!(star.value.star_action.starred, Some(false));
    let (_, delete) = one(&cases_delete_for_me());
    assert_eq!(
        (delete.value.delete_message_for_me_action.delete_media, delete.value.delete_message_for_me_action.message_timestamp),
        (Some(true), Some(5))
    );
    let (_, removed) = one(&serde_json::json!({ "jid": jid, "contact": null }));
    assert_eq!(removed.operation, SyncdOperation::REMOVE);
    let (_, label) = one(&serde_json::json!({ "addLabel": { "id": "4", "name": "VIP", "color": 2, "predefinedId": "3" } }));
    assert_eq!(
        (label.value.label_edit_action.name.as_deref(), label.value.label_edit_action.color, label.value.label_edit_action.predefined_id),
        (Some("VIP"), Some(2), Some(3))
    );
    let (_, range) = one(
        &serde_json::json!({ "jid": jid, "archive": true, "lastMessages": [{ "key": { "remoteJid": jid, "id": "M3", "fromMe": true }, "messageTimestamp": 9 }] }),
    );
    let range = range.value.archive_chat_action.message_range.clone();
    assert_eq!((range.last_message_timestamp, range.messages.len()), (Some(9), 1));

    // Several stars at once are one mutation per message.
    let stars = chat_modification::parse_action(
        &serde_json::json!({ "jid": jid, "star": { "messages": [{ "id": "A" }, { "id": "B" }], "star": true } }),
    );
    assert_eq!(stars.map(|p| p.len()), Ok(2));
    for bad in [
        serde_json::json!({ "jid": jid }),
        serde_json::json!({ "jid": jid, "star": { "messages": [], "star": true } }),
        serde_json::json!({ "jid": jid, "clear": false }),
        serde_json::json!({ "jid": jid, "addChatLabel": {} }),
        serde_json::json!({ "addLabel": { "name": "no id" } }),
        serde_json::json!({ "jid": "not-a-jid", "pin": true }),
    ] {
        assert!(chat_modification::parse_action(&bad).is_err(), "{bad}");
    }
}

fn cases_delete_for_me() -> serde_json::Value {
    serde_json::json!({ "jid": "15550002222@s.whatsapp.net", "deleteForMe": { "key": { "id": "M2" }, "timestamp": 5, "deleteMedia": true } })
}

#[test]
fn labels_are_written_to_the_regular_collection_and_decode() {
    let state = seeded();
    let body = serde_json::json!({ "phone": PHONE, "actions": [
        { "addLabel": { "id": "1", "name": "New customer", "color": 1 } },
        { "jid": "15550002222@s.whatsapp.net", "addChatLabel": { "labelId": "1" } },
    ]});
    assert_eq!(phone_app_state_route(body.to_string().as_bytes(), &state).status, 200);
    let regular = synced(&state, "regular");
    let (client, decoded) = client_sync(&regular, "regular", &keys(&state));
    assert_eq!((regular.version(), &client.hash), (1, regular.lt_hash()));
    let indexes: Vec<String> = decoded.iter().map(|m| m.index.join(",")).collect();
    assert_eq!(indexes, ["label_edit,1", "label_jid,1,15550002222@s.whatsapp.net"]);
}

/// What a device is served once `spoil` is armed for it, decoded as a client decodes it.
fn served_after(spoil: crate::faults::AppStateSpoil) -> (Node, Result<HashState, wacore_appstate::AppStateError>) {
    use crate::faults::{AppStateFault, Fault, Target};
    let state = seeded();
    state.faults.apply(Fault::AppState(AppStateFault { spoil, target: Target::Phone(PHONE.into()), remaining: 1 }));
    let keys = keys(&state);
    let reply = sync_iq(&state, 1);
    let answer = answers(&reply).into_iter().find(|a| kids(a).iter().any(|n| n.tag == "patches")).unwrap();
    let name = attr(&answer, "name").unwrap_or_default();
    let patches = kids(&answer).iter().find(|n| n.tag == "patches").map(|p| kids(p).to_vec()).unwrap_or_default();
    let Some(NodeContent::Bytes(bytes)) = &patches[0].content else { panic!("a patch") };
    let patch = waproto::codec::syncd_patch_decode(bytes).unwrap();
    let expanded = Arc::new(keys.expanded.clone());
    let mut client = HashState::default();
    // An unknown collection's MACs are computed for the name it was asked as.
    let asked = if name == spoil::UNKNOWN_COLLECTION { "critical_block" } else { name.as_str() };
    let outcome = process_patch(&patch, &mut client, |_| Ok(expanded.clone()), |_| Ok(None), true, asked).map(|r| r.state);
    // The fault was used up: the next read is intact.
    let again = sync_iq(&state, 1);
    assert!(answers(&again).iter().all(|a| attr(a, "name").as_deref() != Some(spoil::UNKNOWN_COLLECTION)));
    (answer, outcome)
}

#[test]
fn a_spoiled_answer_fails_the_client_s_check_and_the_next_one_is_intact() {
    use crate::faults::AppStateSpoil;
    use wacore_appstate::AppStateError;
    let (_, mutation) = served_after(AppStateSpoil::MutationMac);
    assert!(matches!(mutation, Err(AppStateError::MismatchingContentMAC)), "{mutation:?}");
    let (_, patch) = served_after(AppStateSpoil::PatchMac);
    assert!(matches!(patch, Err(AppStateError::PatchMACMismatch)), "{patch:?}");
    let (_, snapshot) = served_after(AppStateSpoil::SnapshotMac);
    assert!(snapshot.expect("an authentic patch").mac_mismatch_fatal, "the LTHash MAC does not match");
    let (answer, _) = served_after(AppStateSpoil::UnknownCollection);
    assert_eq!(attr(&answer, "name").as_deref(), Some(spoil::UNKNOWN_COLLECTION));
}
