//! The fault model: what the admin API can ask the mock to do wrong (one [`Fault`] per
//! request), whom it targets, and the exact stanzas and frames it produces. Plain data, with
//! no state: the runtime applies it.

use std::time::Duration;

use serde_json::{json, Value};
use wacore_binary::builder::NodeBuilder;
use wacore_binary::Node;

use crate::http_response::Response;
use crate::noise_server::FrameCrypto;
use crate::router::DevKey;

/// Which connections a fault applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Every connection, including ones still pairing or in their handshake where that makes sense.
    All,
    /// Every logged-in device of this phone number.
    Phone(String),
    /// One logged-in device.
    Device(DevKey),
}

impl Target {
    pub(super) fn matches(&self, device: Option<&DevKey>) -> bool {
        match (self, device) {
            (Target::All, _) => true,
            (Target::Phone(p), Some((phone, _))) => p == phone,
            (Target::Device(want), Some(have)) => want == have,
            _ => false,
        }
    }

    pub(super) fn describe(&self) -> Value {
        match self {
            Target::All => json!("all"),
            Target::Phone(p) => json!({ "phone": p }),
            Target::Device((p, d)) => json!({ "phone": p, "device": d }),
        }
    }
}

/// A `<stream:error>` as WhatsApp sends it, and how clients classify it:
/// Baileys reads `code`, else maps a `<conflict>` child to 440 (`connectionReplaced`);
/// whatsapp-rust looks at a `<conflict type>` child first, then at `code`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamErrorKind {
    /// `code="515"`: restart required (Baileys `restartRequired`; whatsapp-rust reconnects at once).
    RestartRequired,
    /// `<conflict type="replaced"/>` without a code: another connection took the device's slot
    /// (Baileys 440 `connectionReplaced`; whatsapp-rust `StreamReplaced`, no reconnect).
    Replaced,
    /// `code="401"` with `<conflict type="device_removed"/>`: the device was unlinked
    /// (Baileys 401 `loggedOut`; whatsapp-rust `LoggedOut`, no reconnect).
    LoggedOut,
    /// `code="503"`: service unavailable (Baileys 503 `unavailableService`; whatsapp-rust reconnects
    /// with backoff). The mock closes the socket after it, as the real server does.
    ServiceUnavailable,
    /// Any other code (400..=599), sent as a bare `code` attribute.
    Other(u16),
}

impl StreamErrorKind {
    pub fn from_code(code: u16) -> Result<Self, String> {
        Ok(match code {
            515 => Self::RestartRequired,
            440 => Self::Replaced,
            401 => Self::LoggedOut,
            503 => Self::ServiceUnavailable,
            400..=599 => Self::Other(code),
            _ => return Err(format!("stream error code {code} is outside 400..=599")),
        })
    }

    /// The status code Baileys reports for it.
    pub fn code(self) -> u16 {
        match self {
            Self::RestartRequired => 515,
            Self::Replaced => 440,
            Self::LoggedOut => 401,
            Self::ServiceUnavailable => 503,
            Self::Other(c) => c,
        }
    }

    pub fn node(self) -> Node {
        let conflict = |kind: &str| NodeBuilder::new("conflict").attr("type", kind.to_owned()).build();
        match self {
            Self::Replaced => NodeBuilder::new("stream:error").children([conflict("replaced")]).build(),
            Self::LoggedOut => NodeBuilder::new("stream:error").attr("code", "401").children([conflict("device_removed")]).build(),
            other => NodeBuilder::new("stream:error").attr("code", other.code().to_string()).build(),
        }
    }
}

/// What is wrong with a malformed frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MalformedKind {
    /// Encrypted correctly, but the plaintext is not a binary node.
    BadNode,
    /// Fails Noise (AES-GCM) authentication. The mock's send counter still advances, as if a
    /// real frame had been corrupted in transit: whatsapp-rust advances its read counter on a
    /// failed frame too, so its stream stays in step (Baileys does not, and loses the stream).
    BadCipher,
}

impl MalformedKind {
    pub(super) fn name(self) -> &'static str {
        match self {
            Self::BadNode => "node",
            Self::BadCipher => "cipher",
        }
    }
}

/// One malformed frame for one connection's writer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MalformedFrame {
    pub kind: MalformedKind,
    /// Close the socket abruptly right after the frame (default), as a server whose stream is
    /// corrupt would; `false` leaves it to the client to decide what to do.
    pub then_close: bool,
}

/// Uncompressed-flag byte, then a list header whose first item announces 127 bytes of binary
/// data that never come: no decoder can make a node of it.
const NOT_A_NODE: [u8; 5] = [0x00, 0xF8, 0x03, 0xFC, 0x7F];

impl MalformedFrame {
    /// The encrypted frame payload to put on the wire (before the 3-byte length framing).
    pub fn payload(&self, crypto: &mut FrameCrypto) -> Result<Vec<u8>, String> {
        match self.kind {
            MalformedKind::BadNode => crypto.encrypt(&NOT_A_NODE).map_err(|e| e.to_string()),
            MalformedKind::BadCipher => {
                let plain = wacore_binary::marshal(&NodeBuilder::new("ib").build()).map_err(|e| e.to_string())?;
                let mut ct = crypto.encrypt(&plain).map_err(|e| e.to_string())?;
                if let Some(last) = ct.last_mut() {
                    *last ^= 0xFF; // break the GCM tag
                }
                Ok(ct)
            }
        }
    }
}

/// Which outbound frames a random drop is drawn on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropOn {
    /// Live `<message>` stanzas only (not the `offline="1"` redelivery burst after a login, so
    /// every reconnect drains the queue and the test makes progress).
    Message,
    /// Every frame to a logged-in device.
    Frame,
    /// Not per frame: every `interval`, each logged-in connection is dropped with the
    /// probability, at whatever point its traffic is (the socket just dies).
    Interval(Duration),
}

/// Whether the frame the drop was drawn on reaches the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropPoint {
    /// Lost: the connection dies before the frame is written (the server must redeliver it).
    Before,
    /// Written, then the connection dies (the client's receipt/ack is likely lost: the server
    /// redelivers and the client must deduplicate).
    After,
    /// Before or after, 50/50 per drop.
    Random,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DropRate {
    pub probability: f64,
    pub on: DropOn,
    pub at: DropPoint,
    /// Stop after this many random drops (None: unlimited).
    pub max_drops: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DelayScope {
    /// Every frame to every client (order kept).
    All,
    /// Only `<iq type="result|error">`: other frames overtake them.
    IqResponses,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delay {
    pub by: Duration,
    pub scope: DelayScope,
}

impl Delay {
    pub(super) fn applies_to(&self, node: &Node) -> bool {
        match self.scope {
            DelayScope::All => true,
            DelayScope::IqResponses => {
                node.tag == "iq" && node.attrs.get("type").is_some_and(|t| t.as_str() == "result" || t.as_str() == "error")
            }
        }
    }
}

/// How a refused WebSocket connection is turned away (the admin API keeps working).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefuseHow {
    /// Read the upgrade request, then close the TCP connection without a response.
    Close,
    /// Answer the upgrade with `HTTP 503` and close.
    Http503,
}

impl RefuseHow {
    /// What to write before closing, if anything.
    pub fn response(self) -> Option<Response> {
        match self {
            Self::Close => None,
            Self::Http503 => Some(Response::text(503, "mock server is refusing connections (fault injection)\n")),
        }
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            Self::Close => "close",
            Self::Http503 => "http503",
        }
    }
}

/// `<failure reason=..>` for the next `remaining` logins (of `phone`, or of anyone).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginFailure {
    pub reason: u16,
    pub remaining: u32,
    pub phone: Option<String>,
}

/// An `<iq type="error">` for the next `remaining` pairing-code requests (`companion_hello`)
/// of `phone`, or of any number, as WhatsApp refuses them when it throttles a number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PairingCodeRefusal {
    pub code: u16,
    pub remaining: u32,
    pub phone: Option<String>,
}

/// The `code`s WhatsApp answers a refused `companion_hello` with, and the `text` it pairs with
/// each (WA Web rejects a response whose two disagree; whatsapp-rust classifies both).
pub(super) const PAIRING_CODE_REFUSALS: [(u16, &str); 5] =
    [(400, "bad-request"), (403, "forbidden"), (429, "rate-overlimit"), (452, "feature-not-available"), (500, "internal-server-error")];

/// What is wrong with a spoiled app-state answer (`w:sync:app:state`). The patches the server
/// stores stay intact: only what the targeted devices are served is spoiled, as by a server
/// bug or corruption in transit, so the next answer (once the fault is used up) is good again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppStateSpoil {
    /// One mutation's content no longer matches its value MAC.
    MutationMac,
    /// The patch MAC does not match the patch.
    PatchMac,
    /// The snapshot MAC (the collection's LTHash after the patch) is wrong; the patch MAC is
    /// recomputed over it, so the patch itself is authentic.
    SnapshotMac,
    /// The answer names a collection that does not exist in place of the one asked for.
    UnknownCollection,
}

impl AppStateSpoil {
    pub const ALL: [(AppStateSpoil, &'static str); 4] = [
        (AppStateSpoil::MutationMac, "mutationMac"),
        (AppStateSpoil::PatchMac, "patchMac"),
        (AppStateSpoil::SnapshotMac, "snapshotMac"),
        (AppStateSpoil::UnknownCollection, "unknownCollection"),
    ];

    pub fn name(self) -> &'static str {
        Self::ALL.iter().find(|(k, _)| *k == self).map_or("?", |(_, n)| n)
    }
}

/// Spoils the next `remaining` app-state answers carrying patches to the targeted devices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppStateFault {
    pub spoil: AppStateSpoil,
    pub target: Target,
    pub remaining: u32,
}

/// One admin request, parsed.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    Drop(Target),
    /// `None` clears it.
    DropRate(Option<DropRate>),
    StreamError(Target, StreamErrorKind),
    FailLogins(LoginFailure),
    RefusePairingCodes(PairingCodeRefusal),
    AppState(AppStateFault),
    /// `None` clears it.
    Delay(Option<Delay>),
    Malformed(Target, MalformedFrame),
    Refuse(Duration, RefuseHow),
    Restart(Duration),
    Clear,
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn stream_errors_are_shaped_as_whatsapp_sends_them() {
        let n = StreamErrorKind::from_code(440).unwrap().node();
        assert!(n.attrs.get("code").is_none(), "Baileys must map the conflict child, whatsapp-rust the type");
        let c = n.get_optional_child("conflict").unwrap();
        assert_eq!(c.attrs.get("type").unwrap().as_str(), "replaced");

        let n = StreamErrorKind::from_code(401).unwrap().node();
        assert_eq!(n.attrs.get("code").unwrap().as_str(), "401");
        assert_eq!(n.get_optional_child("conflict").unwrap().attrs.get("type").unwrap().as_str(), "device_removed");
        for code in [515u16, 503, 500] {
            let n = StreamErrorKind::from_code(code).unwrap().node();
            assert_eq!(n.attrs.get("code").unwrap().as_str(), code.to_string());
            assert!(n.children().is_none_or(|c| c.is_empty()));
        }
        assert!(StreamErrorKind::from_code(200).is_err());
        assert!(StreamErrorKind::from_code(600).is_err());
    }

    #[test]
    fn the_bad_node_payload_does_not_decode() {
        let unpacked = wacore_binary::util::unpack(&NOT_A_NODE).expect("flag byte says uncompressed");
        assert!(wacore_binary::marshal::unmarshal_ref(&unpacked).is_err());
    }
}
