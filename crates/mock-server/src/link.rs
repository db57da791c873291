//! Linking a companion as a new device of an account — the part a QR scan and a confirmed
//! pairing code share: reserve the device, sign its identity, send `<pair-success>`, and record
//! the link that the companion's `pair-device-sign` must confirm.

use std::collections::HashMap;
use std::sync::Mutex;

use wacore_binary::builder::NodeBuilder;

use crate::accounts::{Directory, Outbound};
use crate::clock::unix_now;
use crate::locking::lock;
use crate::pairing::{self, WaitingClient};
use crate::stanza::SERVER;

/// What linking needs of the server: its accounts, and the links waiting for their
/// `pair-device-sign`.
pub trait LinkState {
    fn directory(&self) -> &Mutex<Directory>;
    fn awaiting_sign(&self) -> &Mutex<HashMap<u64, PendingLink>>;
}

/// A device that has been sent `<pair-success>` and owes us its `pair-device-sign`.
pub struct PendingLink {
    pub iq_id: String,
    pub phone: String,
    pub device: u16,
    pub key_index: u32,
    pub noise_pub: [u8; 32],
    pub identity_pub: [u8; 32],
    pub props: crate::accounts::CompanionProps,
}

/// Which account the new device joins.
pub enum AccountChoice<'a> {
    /// The account of this name (push name → deterministic number), as a QR scan does.
    Named(&'a str),
    /// The account of this phone number (created under `name` if new), as a pairing code does.
    Phone { phone: &'a str, name: &'a str },
}

/// An HTTP status and a message, for the admin endpoint to answer with.
pub type Refusal = (u16, String);

/// Links `waiting` and returns `{ jid, lid, phone, device, account }`.
pub fn link_companion(
    state: &impl LinkState,
    waiting: &WaitingClient,
    choice: AccountChoice<'_>,
    adv_secret: &[u8],
) -> Result<serde_json::Value, Refusal> {
    let mut dir = lock(state.directory());
    let account = match choice {
        AccountChoice::Named(name) => dir.account_for_name(name),
        AccountChoice::Phone { phone, name } => dir.account_for_phone(phone, name),
    };
    let (device, key_index) = account.reserve_device();
    let identity =
        pairing::build_device_identity(&account.signing_key, account.adv_raw_id, key_index, &waiting.identity_pub, adv_secret, unix_now())
            .map_err(|e| (500, format!("could not build the device identity: {e}")))?;
    let jid = account.pn_jid(device);
    let lid = account.lid_jid(device);
    let phone = account.phone.clone();
    let account_name = account.name.clone();
    drop(dir);

    let iq_id = format!("pair-success-{}", waiting.conn_id);
    let node = NodeBuilder::new("iq")
        .attr("from", SERVER)
        .attr("type", "set")
        .attr("id", iq_id.clone())
        .attr("xmlns", "md")
        .attr("t", unix_now().to_string())
        .children([NodeBuilder::new("pair-success")
            .children([
                NodeBuilder::new("device-identity").bytes(identity).build(),
                NodeBuilder::new("platform").attr("name", "android").build(),
                NodeBuilder::new("device").attr("jid", jid.clone()).attr("lid", lid.clone()).build(),
            ])
            .build()])
        .build();
    lock(state.awaiting_sign()).insert(
        waiting.conn_id,
        PendingLink {
            iq_id,
            phone: phone.clone(),
            device,
            key_index,
            noise_pub: waiting.noise_pub,
            identity_pub: waiting.identity_pub,
            props: waiting.props.clone(),
        },
    );
    if waiting.sender.send(Outbound::Node(node)).is_err() {
        lock(state.awaiting_sign()).remove(&waiting.conn_id);
        return Err((410, "the connection closed before pair-success could be sent".into()));
    }
    log::info!("mock phone linking conn {} as {jid} (account {account_name})", waiting.conn_id);
    Ok(serde_json::json!({ "jid": jid, "lid": lid, "phone": phone, "device": device, "account": account_name }))
}
