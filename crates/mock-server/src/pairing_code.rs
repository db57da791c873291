//! Pairing-code login ("link with phone number instead"): the server's and the mock phone's side.
//!
//! 1. A registering companion sends `<iq xmlns="md"><link_code_companion_reg stage="companion_hello"
//!    jid="PHONE@s.whatsapp.net">` with its ephemeral key wrapped under the code it displays
//!    (PBKDF2-SHA256 of the code, AES-256-CTR). We answer with a fresh pairing ref and remember
//!    the request under the phone number (or, when the `refuse-pairing-code` fault is armed,
//!    with `<iq type="error"><error code="429" text="rate-overlimit"/>` and remember nothing).
//! 2. The phone's user types the code (`POST /admin/mock-phone/pair-code`). The mock phone unwraps
//!    the companion's ephemeral key with the typed code, wraps its own ephemeral key the same way
//!    and sends the companion a `primary_hello` notification (with its identity key and the ref).
//! 3. The companion answers `companion_finish`: a key bundle sealed (AES-256-GCM) under a key
//!    derived from the ephemeral agreement. Only the right code gives both sides the same
//!    agreement, so a bundle that does not open means the typed code was wrong: the phone
//!    refuses and nothing is linked (the companion may be given the right code afterwards).
//! 4. The bundle opened: the adv secret is derived from both agreements and the bundle's random
//!    bytes, and the device is linked as a QR scan links it (`<pair-success>` with an ADV
//!    identity HMAC'd with that secret, then `pair-device-sign`, then the 515 restart).
//!
//! The crypto is written here from the primitives on purpose: the mock must not share the
//! client's pairing code, or a bug there could hide itself.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::prelude::BASE64_STANDARD;
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use tokio::sync::oneshot;
use wacore_binary::builder::NodeBuilder;
use wacore_binary::{Node, NodeContent};
use wacore_libsignal::crypto::{aes_256_cbc_encrypt_into, aes_256_gcm_decrypt};
use wacore_libsignal::protocol::{KeyPair, PublicKey};

use crate::accounts::{account_name_for, ConnSender, Outbound};
use crate::clock::unix_now;
use crate::faults::Faults;
use crate::http_response::Response;
use crate::link::LinkState;
use crate::locking::lock;
use crate::pairing::PairingDesk;
use crate::stanza::{self, attr, SERVER};

/// What pairing-code login needs of the server besides what linking needs: the companions
/// waiting for a code, the QR pairing desk they registered at, and the faults (refusals).
pub trait PairingCodeState: LinkState {
    fn pair_codes(&self) -> &Mutex<CodeDesk>;
    fn pairing(&self) -> &Mutex<PairingDesk>;
    fn faults(&self) -> &Faults;
}

/// How long a code can be typed after the companion asked for it (WhatsApp: about 3 minutes).
pub const CODE_VALIDITY: Duration = Duration::from_secs(180);
/// Wrong entries a code survives; the phone gives up on it after that (as WA Web does).
pub const MAX_ATTEMPTS: u32 = 3;
/// How long the phone waits for the companion's `companion_finish` after its `primary_hello`.
const FINISH_TIMEOUT: Duration = Duration::from_secs(30);

const PBKDF2_ROUNDS: u32 = 1 << 17;
const CROCKFORD: &str = "123456789ABCDEFGHJKLMNPQRSTVWXYZ";
const BUNDLE_KEY_INFO: &[u8] = b"link_code_pairing_key_bundle_encryption_key";
const ADV_SECRET_INFO: &[u8] = b"adv_secret";

/// What the companion sent in `companion_finish`.
#[derive(Debug)]
pub struct CompanionFinish {
    pub wrapped_key_bundle: Vec<u8>,
    pub companion_identity_pub: [u8; 32],
}

/// A companion waiting for its code to be typed on the phone.
struct CodeRequest {
    conn_id: u64,
    sender: ConnSender,
    pairing_ref: Vec<u8>,
    /// `salt(32) ‖ iv(16) ‖ AES-CTR(ephemeral pub)` under the code's key.
    wrapped_companion_ephemeral: Vec<u8>,
    /// The companion's Noise static key, as it claims it in `companion_server_auth_key_pub`.
    noise_pub: [u8; 32],
    requested_at: Instant,
    wrong_attempts: u32,
    /// Set while the phone waits for this companion's `companion_finish`.
    awaiting_finish: Option<oneshot::Sender<CompanionFinish>>,
}

/// Pending pairing-code requests, one per phone number (a new request replaces the old one,
/// as WhatsApp routes `primary_hello` by number).
#[derive(Default)]
pub struct CodeDesk {
    by_phone: HashMap<String, CodeRequest>,
}

impl CodeDesk {
    /// Whether a companion is waiting for a code for `phone` (for tests and diagnostics).
    pub fn is_waiting(&self, phone: &str) -> bool {
        self.by_phone.get(phone).is_some_and(|r| !r.sender.is_closed())
    }
}

// ---- the server side: the companion's iqs -------------------------------------------------

/// Handles an `<iq>` whose child is `link_code_companion_reg` from a registering connection.
/// Returns false when the connection must end.
pub fn companion_reg(state: &impl PairingCodeState, conn_id: u64, tx: &ConnSender, iq: &Node) -> bool {
    let reply = match iq.get_optional_child("link_code_companion_reg") {
        Some(reg) => match attr(reg, "stage").as_deref() {
            Some("companion_hello") => companion_hello(state, conn_id, tx, iq, reg),
            Some("companion_finish") => companion_finish(state, conn_id, iq, reg),
            other => {
                log::warn!("conn {conn_id}: link_code_companion_reg with unknown stage {other:?}");
                stanza::error(iq, 400, "bad-request")
            }
        },
        None => stanza::error(iq, 400, "bad-request"),
    };
    tx.send(Outbound::Node(reply)).is_ok()
}

fn child_bytes<'a>(node: &'a Node, tag: &str) -> Option<&'a [u8]> {
    match &node.get_optional_child(tag)?.content {
        Some(NodeContent::Bytes(b)) => Some(b),
        Some(NodeContent::String(s)) => Some(s.as_bytes()),
        _ => None,
    }
}

fn key32(node: &Node, tag: &str) -> Option<[u8; 32]> {
    child_bytes(node, tag)?.try_into().ok()
}

/// `PHONE@s.whatsapp.net` → `PHONE` (digits only).
fn phone_of_jid(jid: &str) -> Option<String> {
    let user = jid.strip_suffix("@s.whatsapp.net")?;
    let user = user.split(':').next()?;
    (!user.is_empty() && user.bytes().all(|b| b.is_ascii_digit())).then(|| user.to_owned())
}

fn companion_hello(state: &impl PairingCodeState, conn_id: u64, tx: &ConnSender, iq: &Node, reg: &Node) -> Node {
    let phone = attr(reg, "jid").as_deref().and_then(phone_of_jid);
    let wrapped = child_bytes(reg, "link_code_pairing_wrapped_companion_ephemeral_pub");
    let noise_pub = key32(reg, "companion_server_auth_key_pub");
    let (Some(phone), Some(wrapped), Some(noise_pub)) = (phone, wrapped, noise_pub) else {
        log::warn!("conn {conn_id}: malformed companion_hello");
        return stanza::error(iq, 400, "bad-request");
    };
    if wrapped.len() != 80 {
        log::warn!("conn {conn_id}: companion_hello wrapped key is {} bytes, not 80", wrapped.len());
        return stanza::error(iq, 400, "bad-request");
    }
    // Fault injection: refused as WhatsApp refuses a throttled number. Nothing is remembered,
    // so the phone cannot confirm a code for this request.
    if let Some((code, text)) = state.faults().pairing_code_refusal_for(&phone) {
        log::info!("conn {conn_id}: pairing-code request for {phone} refused with {code} {text}");
        return stanza::error(iq, code, text);
    }
    let pairing_ref = format!("2@{}", BASE64_STANDARD.encode(rand::random::<[u8; 18]>())).into_bytes();
    let request = CodeRequest {
        conn_id,
        sender: tx.clone(),
        pairing_ref: pairing_ref.clone(),
        wrapped_companion_ephemeral: wrapped.to_vec(),
        noise_pub,
        requested_at: Instant::now(),
        wrong_attempts: 0,
        awaiting_finish: None,
    };
    if let Some(old) = lock(state.pair_codes()).by_phone.insert(phone.clone(), request) {
        log::info!("conn {conn_id}: new pairing-code request for {phone} replaces conn {}'s", old.conn_id);
    }
    log::info!("conn {conn_id}: companion waits for a pairing code on phone {phone}");
    stanza::result(
        iq,
        vec![NodeBuilder::new("link_code_companion_reg")
            .children([NodeBuilder::new("link_code_pairing_ref").bytes(pairing_ref).build()])
            .build()],
    )
}

fn companion_finish(state: &impl PairingCodeState, conn_id: u64, iq: &Node, reg: &Node) -> Node {
    let pairing_ref = child_bytes(reg, "link_code_pairing_ref");
    let bundle = child_bytes(reg, "link_code_pairing_wrapped_key_bundle");
    let identity = key32(reg, "companion_identity_public");
    let (Some(pairing_ref), Some(bundle), Some(identity)) = (pairing_ref, bundle, identity) else {
        log::warn!("conn {conn_id}: malformed companion_finish");
        return stanza::error(iq, 400, "bad-request");
    };
    let waiter = lock(state.pair_codes())
        .by_phone
        .values_mut()
        .find(|r| r.conn_id == conn_id && r.pairing_ref == pairing_ref)
        .and_then(|r| r.awaiting_finish.take());
    let Some(waiter) = waiter else {
        log::warn!("conn {conn_id}: companion_finish for a ref no phone is confirming");
        return stanza::error(iq, 400, "bad-request");
    };
    let finish = CompanionFinish { wrapped_key_bundle: bundle.to_vec(), companion_identity_pub: identity };
    if waiter.send(finish).is_err() {
        log::warn!("conn {conn_id}: companion_finish arrived after the phone gave up waiting");
    }
    // The server accepts the bundle; whether it opens is the phone's business.
    stanza::result(iq, vec![])
}

// ---- the phone side: the admin endpoint ---------------------------------------------------

/// `POST /admin/mock-phone/pair-code` with `{ "phone": "15551234567", "code": "ABCD1234" }`.
pub async fn enter_code(body: &[u8], state: &impl PairingCodeState) -> Response {
    let (phone, code) = match parse_entry(body) {
        Ok(entry) => entry,
        Err(why) => return Response::text(400, format!("{why}\n")),
    };
    match confirm(state, &phone, &code).await {
        Ok(linked) => Response::json(200, &linked),
        Err((status, why)) => Response::text(status, format!("{why}\n")),
    }
}

fn parse_entry(body: &[u8]) -> Result<(String, String), String> {
    let json: serde_json::Value = serde_json::from_slice(body).map_err(|e| format!("body must be JSON {{\"phone\",\"code\"}}: {e}"))?;
    let field =
        |name: &str| json.get(name).and_then(|v| v.as_str()).map(str::to_owned).ok_or_else(|| format!("missing string field {name:?}"));
    let phone: String = field("phone")?.chars().filter(|c| !matches!(c, '+' | ' ' | '-')).collect();
    if !(7..=15).contains(&phone.len()) || !phone.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("phone must be 7 to 15 digits (country code first), got {phone:?}"));
    }
    let code: String = field("code")?.chars().filter(|c| !matches!(c, '-' | ' ')).map(|c| c.to_ascii_uppercase()).collect();
    if code.len() != 8 || !code.chars().all(|c| CROCKFORD.contains(c)) {
        return Err(format!("code must be the 8 characters the companion shows (alphabet {CROCKFORD}), got {code:?}"));
    }
    Ok((phone, code))
}

type Refusal = (u16, String);

/// Everything the phone needs from a waiting request, copied out so no lock is held across
/// the crypto and the wait.
struct Confirming {
    conn_id: u64,
    sender: ConnSender,
    pairing_ref: Vec<u8>,
    wrapped_companion_ephemeral: Vec<u8>,
    noise_pub: [u8; 32],
    finished: oneshot::Receiver<CompanionFinish>,
}

fn start_confirming(state: &impl PairingCodeState, phone: &str) -> Result<Confirming, Refusal> {
    let mut desk = lock(state.pair_codes());
    let no_companion = || (404, format!("no companion is waiting for a pairing code for phone {phone}"));
    let Some(request) = desk.by_phone.get_mut(phone) else {
        return Err(no_companion());
    };
    if request.sender.is_closed() {
        desk.by_phone.remove(phone);
        return Err(no_companion());
    }
    if request.requested_at.elapsed() > CODE_VALIDITY {
        desk.by_phone.remove(phone);
        return Err((410, format!("the pairing code for phone {phone} has expired; the companion must request a new one")));
    }
    if request.awaiting_finish.is_some() {
        return Err((409, format!("the phone is already confirming a code for {phone}; try again when it is done")));
    }
    let (tx, rx) = oneshot::channel();
    request.awaiting_finish = Some(tx);
    Ok(Confirming {
        conn_id: request.conn_id,
        sender: request.sender.clone(),
        pairing_ref: request.pairing_ref.clone(),
        wrapped_companion_ephemeral: request.wrapped_companion_ephemeral.clone(),
        noise_pub: request.noise_pub,
        finished: rx,
    })
}

/// Counts a wrong entry; the code is dropped after [`MAX_ATTEMPTS`].
fn wrong_code(state: &impl PairingCodeState, phone: &str, conn_id: u64) -> Refusal {
    let mut desk = lock(state.pair_codes());
    let attempts = match desk.by_phone.get_mut(phone).filter(|r| r.conn_id == conn_id) {
        Some(r) => {
            r.wrong_attempts += 1;
            r.awaiting_finish = None;
            r.wrong_attempts
        }
        None => MAX_ATTEMPTS,
    };
    if attempts >= MAX_ATTEMPTS {
        desk.by_phone.remove(phone);
    }
    (
        400,
        format!(
            "wrong pairing code for phone {phone}: the companion's key bundle does not open with it \
             (attempt {attempts} of {MAX_ATTEMPTS}); the device was not linked"
        ),
    )
}

async fn confirm(state: &impl PairingCodeState, phone: &str, code: &str) -> Result<serde_json::Value, Refusal> {
    let confirming = start_confirming(state, phone)?;
    let conn_id = confirming.conn_id;
    let outcome = confirm_with_companion(state, phone, code, confirming).await;
    if outcome.is_err() {
        // Whatever went wrong, this entry no longer waits for a companion_finish.
        if let Some(r) = lock(state.pair_codes()).by_phone.get_mut(phone).filter(|r| r.conn_id == conn_id) {
            r.awaiting_finish = None;
        }
    }
    outcome
}

async fn confirm_with_companion(
    state: &impl PairingCodeState,
    phone: &str,
    code: &str,
    confirming: Confirming,
) -> Result<serde_json::Value, Refusal> {
    let Confirming { conn_id, sender, pairing_ref, wrapped_companion_ephemeral, noise_pub, finished } = confirming;
    let internal = |e: String| (500, format!("mock phone: {e}"));

    // The phone's identity is its account key (as on a real phone); the account is the number's.
    let primary_identity = {
        let mut dir = lock(state.directory());
        dir.account_for_phone(phone, phone).signing_key.clone()
    };
    let primary_identity_pub = primary_identity.public_key.public_key_bytes().to_vec();

    // Two PBKDF2 derivations: off the async threads.
    let code_owned = code.to_owned();
    let (companion_ephemeral, primary_ephemeral, wrapped_primary) = tokio::task::spawn_blocking(move || {
        let companion_ephemeral = unwrap_with_code(&code_owned, &wrapped_companion_ephemeral);
        let primary_ephemeral = KeyPair::generate(&mut rand::rng());
        let mut pub_bytes = [0u8; 32];
        pub_bytes.copy_from_slice(primary_ephemeral.public_key.public_key_bytes());
        let wrapped_primary = wrap_with_code(&code_owned, &pub_bytes);
        (companion_ephemeral, primary_ephemeral, wrapped_primary)
    })
    .await
    .map_err(|e| internal(e.to_string()))?;
    let companion_ephemeral = companion_ephemeral.map_err(internal)?;

    let hello = NodeBuilder::new("notification")
        .attr("from", SERVER)
        .attr("type", "link_code_companion_reg")
        .attr("id", format!("pair-code-{conn_id}-{}", rand::random::<u32>()))
        .attr("t", unix_now().to_string())
        .children([NodeBuilder::new("link_code_companion_reg")
            .attr("stage", "primary_hello")
            .children([
                NodeBuilder::new("link_code_pairing_ref").bytes(pairing_ref).build(),
                NodeBuilder::new("link_code_pairing_wrapped_primary_ephemeral_pub").bytes(wrapped_primary.to_vec()).build(),
                NodeBuilder::new("primary_identity_pub").bytes(primary_identity_pub.clone()).build(),
            ])
            .build()])
        .build();
    if sender.send(Outbound::Node(hello)).is_err() {
        return Err((404, format!("no companion is waiting for a pairing code for phone {phone} (its connection closed)")));
    }

    let finish = match tokio::time::timeout(FINISH_TIMEOUT, finished).await {
        Ok(Ok(finish)) => finish,
        Ok(Err(_)) => return Err((410, "the companion's request was replaced while the phone was confirming".into())),
        Err(_) => return Err((408, format!("the companion did not answer primary_hello with companion_finish within {FINISH_TIMEOUT:?}"))),
    };

    let Some(bundle) = open_key_bundle(&primary_ephemeral, &companion_ephemeral, &finish.wrapped_key_bundle) else {
        return Err(wrong_code(state, phone, conn_id));
    };
    let [companion_identity, bundled_primary_identity, random] = bundle;
    if companion_identity != finish.companion_identity_pub || bundled_primary_identity[..] != primary_identity_pub[..] {
        return Err((400, "the companion's key bundle names other identity keys than the pairing".into()));
    }
    let adv_secret =
        derive_adv_secret(&primary_ephemeral, &companion_ephemeral, &primary_identity, &companion_identity, &random).map_err(internal)?;

    // The code was right: this connection stops waiting for a QR scan or a code, and is linked.
    lock(state.pair_codes()).by_phone.remove(phone);
    let Some(waiting) = lock(state.pairing()).remove(conn_id) else {
        return Err((410, "the companion's connection closed or paired before the link".into()));
    };
    if waiting.identity_pub != companion_identity || waiting.noise_pub != noise_pub {
        return Err((400, "the companion's keys are not those of the connection that asked for the code".into()));
    }
    let name = account_name_for(waiting.push_name.as_deref(), &waiting.identity_pub);
    crate::link::link_companion(state, &waiting, crate::link::AccountChoice::Phone { phone, name: &name }, &adv_secret)
}

// ---- crypto, from the primitives ----------------------------------------------------------

fn pbkdf2_sha256(password: &[u8], salt: &[u8]) -> [u8; 32] {
    let keyed = <Hmac<Sha256> as KeyInit>::new_from_slice(password).expect("HMAC takes any key");
    let mut mac = keyed.clone();
    mac.update(salt);
    mac.update(&1u32.to_be_bytes());
    let mut u: [u8; 32] = mac.finalize().into_bytes().into();
    let mut out = u;
    for _ in 1..PBKDF2_ROUNDS {
        let mut mac = keyed.clone();
        mac.update(&u);
        u = mac.finalize().into_bytes().into();
        out.iter_mut().zip(u.iter()).for_each(|(o, x)| *o ^= x);
    }
    out
}

/// RFC 5869 HKDF-SHA256 for one 32-byte output block; no salt means 32 zero bytes.
fn hkdf_sha256(ikm: &[u8], salt: Option<&[u8]>, info: &[u8]) -> [u8; 32] {
    let mut extract = <Hmac<Sha256> as KeyInit>::new_from_slice(salt.unwrap_or(&[0u8; 32])).expect("any key");
    extract.update(ikm);
    let prk = extract.finalize().into_bytes();
    let mut expand = <Hmac<Sha256> as KeyInit>::new_from_slice(&prk).expect("any key");
    expand.update(info);
    expand.update(&[1]);
    expand.finalize().into_bytes().into()
}

/// One AES-256 block: the first block of CBC under a zero IV is exactly `E(key, block)`.
fn aes_block(key: &[u8; 32], block: &[u8; 16]) -> [u8; 16] {
    let mut out = Vec::with_capacity(32);
    aes_256_cbc_encrypt_into(block, key, &[0u8; 16], &mut out).expect("32-byte key, 16-byte iv");
    out[..16].try_into().expect("a full block")
}

/// AES-256-CTR with a full 128-bit big-endian counter starting at `iv` (what both clients use).
fn aes_ctr(key: &[u8; 32], iv: &[u8; 16], data: &mut [u8]) {
    let start = u128::from_be_bytes(*iv);
    for (i, chunk) in data.chunks_mut(16).enumerate() {
        let keystream = aes_block(key, &start.wrapping_add(i as u128).to_be_bytes());
        chunk.iter_mut().zip(keystream).for_each(|(b, k)| *b ^= k);
    }
}

/// `salt(32) ‖ iv(16) ‖ AES-CTR(PBKDF2(code, salt), iv, key)`.
fn wrap_with_code(code: &str, key: &[u8; 32]) -> [u8; 80] {
    let salt: [u8; 32] = rand::random();
    let iv: [u8; 16] = rand::random();
    let mut ct = *key;
    aes_ctr(&pbkdf2_sha256(code.as_bytes(), &salt), &iv, &mut ct);
    let mut out = [0u8; 80];
    out[..32].copy_from_slice(&salt);
    out[32..48].copy_from_slice(&iv);
    out[48..].copy_from_slice(&ct);
    out
}

/// The inverse of [`wrap_with_code`]. With a wrong code this yields 32 unrelated bytes, not an
/// error: only the key bundle later tells.
fn unwrap_with_code(code: &str, wrapped: &[u8]) -> Result<[u8; 32], String> {
    if wrapped.len() != 80 {
        return Err(format!("wrapped key is {} bytes, not 80", wrapped.len()));
    }
    let salt = &wrapped[..32];
    let iv: [u8; 16] = wrapped[32..48].try_into().expect("16 bytes");
    let mut key: [u8; 32] = wrapped[48..].try_into().expect("32 bytes");
    aes_ctr(&pbkdf2_sha256(code.as_bytes(), salt), &iv, &mut key);
    Ok(key)
}

fn agree(ours: &KeyPair, theirs: &[u8; 32]) -> Option<[u8; 32]> {
    let theirs = PublicKey::from_djb_public_key_bytes(theirs).ok()?;
    ours.calculate_agreement(&theirs).ok()
}

/// Opens `salt(32) ‖ iv(12) ‖ AES-GCM(companionIdentity ‖ primaryIdentity ‖ random)`; `None`
/// when it does not open (a wrong code) or is malformed.
fn open_key_bundle(primary_ephemeral: &KeyPair, companion_ephemeral: &[u8; 32], wrapped: &[u8]) -> Option<[[u8; 32]; 3]> {
    if wrapped.len() < 32 + 12 + 16 {
        return None;
    }
    let shared = agree(primary_ephemeral, companion_ephemeral)?;
    let key = hkdf_sha256(&shared, Some(&wrapped[..32]), BUNDLE_KEY_INFO);
    let iv: [u8; 12] = wrapped[32..44].try_into().ok()?;
    let mut plain = Vec::new();
    aes_256_gcm_decrypt(&key, &iv, b"", &wrapped[44..], &mut plain).ok()?;
    if plain.len() != 96 {
        return None;
    }
    let part = |i: usize| -> [u8; 32] { plain[i * 32..(i + 1) * 32].try_into().expect("32 bytes") };
    Some([part(0), part(1), part(2)])
}

/// `HKDF(ephemeralAgreement ‖ identityAgreement ‖ random, info "adv_secret")`.
fn derive_adv_secret(
    primary_ephemeral: &KeyPair,
    companion_ephemeral: &[u8; 32],
    primary_identity: &KeyPair,
    companion_identity: &[u8; 32],
    random: &[u8; 32],
) -> Result<[u8; 32], String> {
    let ephemeral = agree(primary_ephemeral, companion_ephemeral).ok_or("ephemeral agreement failed")?;
    let identity = agree(primary_identity, companion_identity).ok_or("companion identity key is not a curve key")?;
    let mut ikm = Vec::with_capacity(96);
    ikm.extend_from_slice(&ephemeral);
    ikm.extend_from_slice(&identity);
    ikm.extend_from_slice(random);
    Ok(hkdf_sha256(&ikm, None, ADV_SECRET_INFO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctr_carries_across_the_full_128_bit_counter() {
        let key = [7u8; 32];
        // A counter whose low 32 bits overflow on the second block.
        let mut iv = [0u8; 16];
        iv[12..].copy_from_slice(&[0xff; 4]);
        let mut data = [0u8; 32];
        aes_ctr(&key, &iv, &mut data);
        // Block 2's keystream is AES(iv + 1), which carries into byte 11.
        let mut next = [0u8; 16];
        next[11] = 1;
        let mut second = [0u8; 16];
        aes_ctr(&key, &next, &mut second);
        assert_eq!(&data[16..], &second[..]);
    }

    #[test]
    fn a_code_wrapped_key_unwraps_only_with_that_code() {
        let key: [u8; 32] = rand::random();
        let wrapped = wrap_with_code("ABCD1234", &key);
        assert_eq!(unwrap_with_code("ABCD1234", &wrapped).unwrap(), key);
        assert_ne!(unwrap_with_code("ABCD1235", &wrapped).unwrap(), key);
        assert!(unwrap_with_code("ABCD1234", &wrapped[..79]).is_err());
    }

    #[test]
    fn hkdf_matches_rfc5869_case_1() {
        // RFC 5869 A.1, first 32 bytes of OKM.
        let ikm = [0x0bu8; 22];
        let salt: Vec<u8> = (0x00..=0x0c).collect();
        let info: Vec<u8> = (0xf0..=0xf9).collect();
        let okm = hkdf_sha256(&ikm, Some(&salt), &info);
        assert_eq!(
            okm[..],
            [
                0x3c, 0xb2, 0x5f, 0x25, 0xfa, 0xac, 0xd5, 0x7a, 0x90, 0x43, 0x4f, 0x64, 0xd0, 0x36, 0x2f, 0x2a, 0x2d, 0x2d, 0x0a, 0x90,
                0xcf, 0x1a, 0x5a, 0x4c, 0x5d, 0xb0, 0x2d, 0x56, 0xec, 0xc4, 0xc5, 0xbf
            ]
        );
    }

    #[test]
    fn entries_are_normalised_and_checked() {
        let ok = parse_entry(br#"{"phone":"+1 555-123-4567","code":"abcd-1234"}"#).unwrap();
        assert_eq!(ok, ("15551234567".to_owned(), "ABCD1234".to_owned()));
        assert!(parse_entry(br#"{"phone":"123","code":"ABCD1234"}"#).is_err());
        assert!(parse_entry(br#"{"phone":"15551234567","code":"ABCD123O"}"#).is_err()); // no O in Crockford
        assert!(parse_entry(b"not json").is_err());
        assert_eq!(phone_of_jid("15551234567@s.whatsapp.net").as_deref(), Some("15551234567"));
        assert_eq!(phone_of_jid("x@g.us"), None);
    }
}
