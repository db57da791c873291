//! What the mock phone sends a companion once it has linked, as a real primary phone does: the
//! account's app-state sync key share, then — if the account was seeded — its history
//! (history_sync.rs). One burst, through the router like any message: `<message
//! from=PHONE@s.whatsapp.net category="peer" type="text"><enc type="pkmsg" v="2"/></message>`
//! from the phone's bare device-0 JID, no `recipient`, which both clients read as a message from
//! their own account (both accept a key share or a history notification only `fromMe`) and
//! answer with a receipt.
//!
//! Why the key share first: on its first login whatsapp-rust 0.7 waits up to 10 s
//! (`KEY_SHARE_GRACE_SECS`) for it before it reports `Connected`; a real phone sends it at once.

use wacore_binary::builder::NodeBuilder;
use wacore_binary::Node;

use std::sync::Mutex;

use crate::account_seed::SeedBook;
use crate::accounts::Directory;
use crate::clock::unix_now;
use crate::history_sync::{self, BlobFault};
use crate::jid::DeviceAddr;
use crate::locking::lock;
use crate::media::MediaStore;
use crate::phone_signal;
use crate::router::Router;

/// What the mock phone's burst needs of the server's state.
pub trait PhoneSyncState {
    fn directory(&self) -> &Mutex<Directory>;
    fn router(&self) -> &Mutex<Router>;
    fn seeds(&self) -> &Mutex<SeedBook>;
    fn media(&self) -> &MediaStore;
}

/// Sends the burst to `me` if it is due: the device is live (after `passive active` — Baileys
/// uploads its pre-keys before that, and a burst queued into its offline batch disturbs its
/// initial sync), has uploaded its pre-keys (we need its signed pre-key) and has not had it yet.
pub fn after_link(state: &impl PhoneSyncState, me: &DeviceAddr) {
    let dev_key = (me.phone.clone(), me.device);
    if me.device == 0 || !lock(state.router()).is_live(&dev_key) {
        return;
    }
    let full = {
        let dir = lock(state.directory());
        match dir.device(&me.phone, me.device) {
            Some(dev) if !dev.key_shared && dev.bundle.signed_pre_key.is_some() => dev.props.require_full_sync,
            _ => return,
        }
    };
    // The history is built outside the directory lock: a large account takes a while.
    let seeded = lock(state.seeds()).take_for_link(&me.phone);
    let history = match seeded {
        Some((seed, truncate)) => {
            let fault = if truncate { BlobFault::Truncated } else { BlobFault::None };
            match history_sync::notifications(&seed, full, state.media(), fault) {
                Ok(h) => h,
                Err(e) => {
                    log::warn!("{}:{}: mock phone could not build the history: {e}", me.phone, me.device);
                    Vec::new()
                }
            }
        }
        None => Vec::new(),
    };

    let nodes = {
        let mut dir = lock(state.directory());
        let Some(acc) = dir.account_mut(&me.phone) else { return };
        let phone_identity = acc.signing_key.clone();
        let phone_registration_id = acc.phone_registration_id;
        let mut plaintexts = vec![phone_signal::plaintext(&phone_signal::key_share_message(&acc.app_state_key))];
        plaintexts.extend(history.iter().map(phone_signal::plaintext));
        let from = acc.device_jid(0, false);
        let Some(dev) = acc.devices.get_mut(&me.device) else { return };
        if dev.key_shared {
            return; // sent meanwhile by the other trigger
        }
        // A one-time pre-key is used up, as when a peer fetches the bundle.
        let one_time = (!dev.bundle.pre_keys.is_empty()).then(|| dev.bundle.pre_keys.remove(0));
        let sealed = phone_signal::encrypt_to_companion(
            &mut acc.phone_sessions,
            &phone_identity,
            phone_registration_id,
            &me.phone,
            me.device,
            &dev.identity_pub,
            &dev.bundle,
            one_time.as_ref(),
            &plaintexts,
        );
        let sealed = match sealed {
            Ok(x) => x,
            Err(e) => {
                log::warn!("{}:{}: mock phone could not encrypt to the companion: {e}", me.phone, me.device);
                return;
            }
        };
        dev.key_shared = true;
        sealed.into_iter().map(|(enc_type, ct)| peer_message(&from, enc_type, ct)).collect::<Vec<_>>()
    };
    log::info!("{}:{}: mock phone sends the app-state sync key share and {} history chunk(s)", me.phone, me.device, history.len());
    let mut router = lock(state.router());
    for (id, node) in nodes {
        router.deliver(&dev_key, "message", &id, &me.phone, node);
    }
}

pub fn peer_message(from: &str, enc_type: &str, ct: Vec<u8>) -> (String, Node) {
    let id = format!("{:020X}", rand::random::<u128>() >> 48);
    let node = NodeBuilder::new("message")
        .attr("from", from)
        .attr("id", id.clone())
        .attr("t", unix_now().to_string())
        .attr("type", "text")
        .attr("category", "peer")
        .children([NodeBuilder::new("enc").attr("v", "2").attr("type", enc_type).bytes(ct).build()])
        .build();
    (id, node)
}
