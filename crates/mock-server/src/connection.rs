//! One client connection: intro header and framing, the Noise handshake, login, then the
//! stanza loop. Any malformed input ends this connection only.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio_websockets::{Message, WebSocketStream};
use wacore_binary::builder::NodeBuilder;
use wacore_binary::consts::WA_CONN_HEADER;
use wacore_binary::Node;
use wacore_noise::framing::{encode_frame, FrameDecoder};
use waproto::buffa::Message as _;
use waproto::whatsapp as wa;

use crate::accounts::{ConnSender, DeviceRecord, OnlineDevice, Outbound};
use crate::clock::unix_now;
use crate::faults::{LoginOutcome, WriteStep, WriterFaults};
use crate::iq_handlers;
use crate::jid::DeviceAddr;
use crate::locking::lock;
use crate::noise_server::{respond_to_client_hello, AfterClientHello, Established, FrameCrypto};
use crate::pairing::{self, WaitingClient};
use crate::relay;
use crate::stanza::{attr, SERVER};
use crate::state::ServerState;

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(20);
/// How long the writer may take to flush a final `<stream:error>` before we drop the socket.
const CLOSE_GRACE: Duration = Duration::from_secs(2);
/// Pause between the end of the handshake and our first encrypted stanza. Baileys 6.7 derives
/// its transport keys in `finishInit()` (async WebCrypto HKDF) *without awaiting it* after
/// sending its ClientFinish; a frame that arrives before that promise settles is taken for a
/// handshake frame and silently dropped, and the client then waits forever for `<success>`.
/// Real servers are always a network round trip away; on localhost we add the gap ourselves.
const FIRST_STANZA_DELAY: Duration = Duration::from_millis(50);

/// Splits the client's byte stream into Noise frames, after stripping the one-time intro
/// (`WA 06 03`, optionally preceded by the edge-routing pre-intro `ED 00 01 len[3] data`).
struct Inbound {
    pending: Vec<u8>,
    intro_done: bool,
    frames: FrameDecoder,
}

impl Inbound {
    fn new() -> Self {
        Self { pending: Vec::new(), intro_done: false, frames: FrameDecoder::new() }
    }

    fn push(&mut self, data: &[u8]) -> Result<(), String> {
        if self.intro_done {
            self.frames.feed(data);
            return Ok(());
        }
        self.pending.extend_from_slice(data);
        let buf = &self.pending;
        let mut offset = 0;
        if buf.len() >= 2 && &buf[..2] == b"ED" {
            if buf.len() < 7 {
                return Ok(());
            }
            if buf[2..4] != [0, 1] {
                return Err("bad edge-routing pre-intro".into());
            }
            let len = (usize::from(buf[4]) << 16) | (usize::from(buf[5]) << 8) | usize::from(buf[6]);
            offset = 7 + len;
        } else if buf.len() < 2 {
            return Ok(());
        }
        if buf.len() < offset + 4 {
            return Ok(());
        }
        if buf[offset..offset + 4] != WA_CONN_HEADER {
            return Err(format!("bad intro header {:02x?} (expected {:02x?})", &buf[offset..offset + 4], WA_CONN_HEADER));
        }
        if offset > 0 {
            log::debug!("client sent {} bytes of edge-routing info", offset - 7);
        }
        self.frames.feed(&buf[offset + 4..]);
        self.pending = Vec::new();
        self.intro_done = true;
        Ok(())
    }

    fn next_frame(&mut self) -> Option<Vec<u8>> {
        self.frames.decode_frame().map(|f| f.to_vec())
    }
}

struct Reader<S> {
    stream: SplitStream<WebSocketStream<S>>,
    inbound: Inbound,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Reader<S> {
    /// The next complete frame, `Ok(None)` when the client closed.
    async fn next_frame(&mut self) -> Result<Option<Vec<u8>>, String> {
        loop {
            if let Some(f) = self.inbound.next_frame() {
                return Ok(Some(f));
            }
            match self.stream.next().await {
                None => return Ok(None),
                Some(Err(e)) => return Err(format!("websocket: {e}")),
                Some(Ok(msg)) if msg.is_close() => return Ok(None),
                Some(Ok(msg)) if msg.is_binary() => self.inbound.push(msg.as_payload())?,
                // Pings are answered by tokio-websockets; text frames are not part of the protocol.
                Some(Ok(_)) => {}
            }
        }
    }
}

type Sink<S> = SplitSink<WebSocketStream<S>, Message>;

async fn send_raw_frame<S: AsyncRead + AsyncWrite + Unpin>(sink: &mut Sink<S>, payload: &[u8]) -> Result<(), String> {
    let frame = encode_frame(payload, None).map_err(|e| e.to_string())?;
    sink.send(Message::binary(frame)).await.map_err(|e| e.to_string())
}

/// Owns the send half: encrypts and frames every outbound node, in order.
async fn write_loop<S: AsyncRead + AsyncWrite + Unpin>(
    mut sink: Sink<S>,
    mut crypto: FrameCrypto,
    mut rx: mpsc::UnboundedReceiver<Outbound>,
    conn_id: u64,
    mut faults: WriterFaults,
) {
    tokio::time::sleep(FIRST_STANZA_DELAY).await;
    // Frames pass through the fault hooks (delays, random drops, malformed frames).
    while let Some(step) = faults.next(&mut rx).await {
        let (out, drop_after) = match step {
            // Abrupt: return without a close frame; the socket closes with the reader half.
            WriteStep::Drop => return,
            WriteStep::Malformed(frame) => {
                let sent = match frame.payload(&mut crypto) {
                    Ok(ct) => send_raw_frame(&mut sink, &ct).await,
                    Err(e) => Err(e),
                };
                if sent.is_err() || frame.then_close {
                    return;
                }
                continue;
            }
            WriteStep::Send { out, then_drop } => (out, then_drop),
        };
        let (node, close) = match out {
            Outbound::Node(n) => (n, false),
            Outbound::CloseAfter(n) => (n, true),
        };
        log::trace!("conn {conn_id} --> {node:?}");
        let sent = async {
            let plain = wacore_binary::marshal(&node).map_err(|e| format!("marshal: {e}"))?;
            let ct = crypto.encrypt(&plain).map_err(|e| e.to_string())?;
            send_raw_frame(&mut sink, &ct).await
        }
        .await;
        if let Err(e) = sent {
            log::debug!("conn {conn_id}: send failed: {e}");
            break;
        }
        if drop_after {
            return;
        }
        if close {
            let _ = sink.send(Message::close(None, "")).await;
            break;
        }
    }
    let _ = sink.close().await;
}

/// What this connection is, once the login payload has been read.
enum Role {
    /// Registering: waiting for the mock phone to scan one of its refs.
    Pairing,
    /// Logged in as a known device.
    Device(DeviceAddr),
}

/// Serves one WebSocket until either side closes it or the server shuts down.
pub async fn serve<S>(ws: WebSocketStream<S>, state: Arc<ServerState>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let conn_id = state.next_conn_id();
    let (mut conn_faults, writer_faults) = state.faults.register(conn_id);
    let (mut sink, stream) = ws.split();
    let mut reader = Reader { stream, inbound: Inbound::new() };

    let handshaken = tokio::select! {
        r = tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake(&state, &mut reader, &mut sink)) => r,
        _ = conn_faults.killed() => {
            log::debug!("conn {conn_id}: dropped during handshake (fault injection)");
            return;
        }
    };
    let established = match handshaken {
        Ok(Ok(Some(e))) => e,
        Ok(Ok(None)) => {
            log::debug!("conn {conn_id}: closed during handshake");
            return;
        }
        Ok(Err(e)) => {
            log::warn!("conn {conn_id}: handshake failed: {e}");
            return;
        }
        Err(_) => {
            log::warn!("conn {conn_id}: handshake timed out");
            return;
        }
    };
    log::debug!("conn {conn_id}: Noise {} handshake complete", established.pattern);

    let (tx, rx) = mpsc::unbounded_channel();
    // Login first (it only queues its stanza), then hand the ciphers to their owners.
    let role = login(&state, conn_id, &tx, &established);
    conn_faults.login_done(
        &tx,
        match &role {
            Some(Role::Device(a)) => LoginOutcome::Device((a.phone.clone(), a.device)),
            Some(Role::Pairing) => LoginOutcome::Registering,
            None => LoginOutcome::Refused,
        },
    );
    let mut writer = tokio::spawn(write_loop(sink, FrameCrypto::new(established.ciphers.send), rx, conn_id, writer_faults));
    let mut recv_crypto = FrameCrypto::new(established.ciphers.recv);
    if let Some(mut role) = role {
        let mut shutdown = state.shutdown.clone();
        loop {
            let frame = tokio::select! {
                _ = shutdown.changed() => {
                    let _ = tx.send(Outbound::CloseAfter(NodeBuilder::new("xmlstreamend").build()));
                    break;
                }
                _ = conn_faults.killed() => {
                    log::debug!("conn {conn_id}: dropped (fault injection)");
                    break;
                }
                f = reader.next_frame() => f,
            };
            let frame = match frame {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => {
                    log::warn!("conn {conn_id}: {e}");
                    break;
                }
            };
            let node = match decode_node(&mut recv_crypto, &frame) {
                Ok(n) => n,
                Err(e) => {
                    log::warn!("conn {conn_id}: bad frame, closing: {e}");
                    break;
                }
            };
            log::trace!("conn {conn_id} <-- {node:?}");
            if !handle_node(&state, conn_id, &tx, &mut role, &node) {
                break;
            }
        }
        cleanup(&state, conn_id, &role);
    }
    drop(tx);
    if tokio::time::timeout(CLOSE_GRACE, &mut writer).await.is_err() {
        writer.abort();
    }
    log::debug!("conn {conn_id}: closed");
}

async fn handshake<S: AsyncRead + AsyncWrite + Unpin>(
    state: &ServerState,
    reader: &mut Reader<S>,
    sink: &mut Sink<S>,
) -> Result<Option<Established>, String> {
    let Some(hello) = reader.next_frame().await? else {
        return Ok(None);
    };
    match respond_to_client_hello(&state.identity, &hello).map_err(|e| e.to_string())? {
        AfterClientHello::Done { server_hello, established } => {
            send_raw_frame(sink, &server_hello).await?;
            Ok(Some(*established))
        }
        AfterClientHello::AwaitFinish { server_hello, pending } => {
            send_raw_frame(sink, &server_hello).await?;
            let Some(finish) = reader.next_frame().await? else {
                return Ok(None);
            };
            pending.read_client_finish(&finish).map(Some).map_err(|e| e.to_string())
        }
    }
}

fn decode_node(crypto: &mut FrameCrypto, frame: &[u8]) -> Result<Node, String> {
    let plain = crypto.decrypt(frame).map_err(|e| e.to_string())?;
    let unpacked = wacore_binary::util::unpack(&plain).map_err(|e| format!("unpack: {e}"))?;
    let node = wacore_binary::marshal::unmarshal_ref(&unpacked).map_err(|e| format!("decode: {e}"))?;
    Ok(node.to_owned())
}

fn failure(reason: &str) -> Node {
    NodeBuilder::new("failure").attr("reason", reason).attr("location", "mock").build()
}

/// Reads the `ClientPayload` and decides what the connection is. Sends the first stanza
/// (`pair-device`, `<success>` or `<failure>`). `None` means the connection is being closed.
fn login(state: &ServerState, conn_id: u64, tx: &ConnSender, est: &Established) -> Option<Role> {
    let payload = match wa::ClientPayload::decode_from_slice(&est.client_payload) {
        Ok(p) => p,
        Err(e) => {
            log::warn!("conn {conn_id}: undecodable ClientPayload: {e}");
            let _ = tx.send(Outbound::CloseAfter(failure("400")));
            return None;
        }
    };

    if let Some(reg) = payload.device_pairing_data.as_option() {
        let identity_pub: [u8; 32] = match reg.e_ident.as_deref().map(<[u8; 32]>::try_from) {
            Some(Ok(k)) => k,
            _ => {
                log::warn!("conn {conn_id}: registration without a 32-byte identity key");
                let _ = tx.send(Outbound::CloseAfter(failure("400")));
                return None;
            }
        };
        let refs: Vec<String> = (0..state.config.qr_refs()).map(|_| pairing::new_ref()).collect();
        let push_name = payload.push_name.clone().filter(|n| !n.is_empty());
        let props = reg
            .device_props
            .as_deref()
            .and_then(|bytes| wa::DeviceProps::decode_from_slice(bytes).ok())
            .map(|p| crate::accounts::CompanionProps {
                os: p.os.clone(),
                platform_type: p.platform_type.map(|t| waproto::buffa::Enumeration::proto_name(&t).to_owned()),
                require_full_sync: p.require_full_sync.unwrap_or(false),
            })
            .unwrap_or_default();
        log::info!("conn {conn_id}: new device registering (push name {:?}); sending {} QR refs", push_name, refs.len());
        let pair_device = NodeBuilder::new("iq")
            .attr("from", SERVER)
            .attr("type", "set")
            .attr("id", format!("pair-{conn_id}"))
            .attr("xmlns", "md")
            .children([NodeBuilder::new("pair-device")
                .children(refs.iter().map(|r| NodeBuilder::new("ref").bytes(r.as_bytes().to_vec()).build()))
                .build()])
            .build();
        lock(&state.pairing).add(WaitingClient {
            conn_id,
            sender: tx.clone(),
            refs,
            issued_at: Instant::now(),
            noise_pub: est.client_static,
            identity_pub,
            push_name,
            props,
        });
        let _ = tx.send(Outbound::Node(pair_device));
        return Some(Role::Pairing);
    }

    let Some(username) = payload.username else {
        log::warn!("conn {conn_id}: ClientPayload has neither registration data nor username");
        let _ = tx.send(Outbound::CloseAfter(failure("400")));
        return None;
    };
    let phone = username.to_string();
    let device = payload.device.unwrap_or(0).min(u32::from(u16::MAX)) as u16;
    if let Some(refusal) = state.faults.login_failure_for(&phone) {
        let _ = tx.send(Outbound::CloseAfter(refusal));
        return None;
    }
    let mut dir = lock(&state.directory);
    let known = dir.device(&phone, device).map(|d| d.noise_pub);
    match known {
        None => {
            log::info!("conn {conn_id}: login as unknown device {phone}:{device}; sending 401");
            let _ = tx.send(Outbound::CloseAfter(failure("401")));
            None
        }
        Some(noise) if noise != est.client_static => {
            log::info!("conn {conn_id}: {phone}:{device} logged in with a different noise key; sending 401");
            let _ = tx.send(Outbound::CloseAfter(failure("401")));
            None
        }
        Some(_) => {
            let (lid, account_name) = match dir.account(&phone) {
                Some(a) => (a.lid_jid(device), a.name.clone()),
                None => return None,
            };
            let replaced = dir.set_online(&phone, device, OnlineDevice { conn_id, sender: tx.clone() });
            drop(dir);
            if let Some(old) = replaced {
                // WhatsApp allows one connection per device: the older one is told it was replaced.
                let conflict =
                    NodeBuilder::new("stream:error").children([NodeBuilder::new("conflict").attr("type", "replaced").build()]).build();
                let _ = old.sender.send(Outbound::CloseAfter(conflict));
            }
            let now = unix_now();
            let success = NodeBuilder::new("success")
                .attr("t", now.to_string())
                .attr("props", "30")
                .attr("abprops", "1")
                .attr("group_abprops", "1")
                .attr("location", "mock")
                .attr("creation", now.to_string())
                .attr("lid", lid)
                .attr("display_name", "")
                .build();
            log::info!("conn {conn_id}: {phone}:{device} ({account_name}) logged in (Noise {})", est.pattern);
            let _ = tx.send(Outbound::Node(success));
            Some(Role::Device(DeviceAddr { phone, device }))
        }
    }
}

/// Handles one stanza. Returns false when the connection must end.
fn handle_node(state: &ServerState, conn_id: u64, tx: &ConnSender, role: &mut Role, node: &Node) -> bool {
    match node.tag.as_ref() {
        "iq" => {
            let kind = attr(node, "type").unwrap_or_default();
            if kind == "result" || kind == "error" {
                if node.get_optional_child("pair-device-sign").is_some() {
                    return finish_pairing(state, conn_id, tx, node);
                }
                // Replies to our own iqs (e.g. the ack of `pair-device`) need nothing.
                return true;
            }
            // Pairing-code login needs this connection (its sender), so it is not a plain iq.
            if matches!(role, Role::Pairing) && node.get_optional_child("link_code_companion_reg").is_some() {
                return crate::pairing_code::companion_reg(state, conn_id, tx, node);
            }
            let me = match role {
                Role::Device(addr) => Some(&*addr),
                Role::Pairing => None,
            };
            if let Some(me) = me {
                if attr(node, "xmlns").as_deref() == Some("passive") && node.get_optional_child("active").is_some() {
                    let ok = relay::go_active(state, conn_id, me, tx, node);
                    crate::phone_sync::after_link(state, me);
                    return ok;
                }
                // Groups answer first, then notify the members.
                if attr(node, "xmlns").as_deref() == Some("w:g2") {
                    return crate::groups::handle_iq(state, me, tx, node);
                }
            }
            for reply in iq_handlers::handle(state, me, node) {
                if tx.send(Outbound::Node(reply)).is_err() {
                    return false;
                }
            }
            if let Some(me) = me {
                // Pre-keys uploaded: the mock phone can now encrypt to this device.
                if attr(node, "xmlns").as_deref() == Some("encrypt") && kind == "set" {
                    crate::phone_sync::after_link(state, me);
                }
            }
            true
        }
        "message" | "receipt" | "presence" | "chatstate" | "ack" | "call" if matches!(role, Role::Device(_)) => {
            let Role::Device(me) = role else { return true };
            match node.tag.as_ref() {
                "message" => relay::message(state, me, tx, node),
                "call" => crate::calls::from_device(state, me, tx, node),
                "receipt" => relay::receipt(state, me, tx, node),
                "presence" => relay::presence(state, me, tx, node),
                "chatstate" => relay::chatstate(state, me, node),
                _ => {
                    relay::client_ack(state, me, node);
                    true
                }
            }
        }
        // Other stanzas the server acknowledges.
        "message" | "receipt" | "notification" | "call" => {
            let mut ack = NodeBuilder::new("ack")
                .attr("class", node.tag.to_string())
                .attr("from", attr(node, "to").unwrap_or_else(|| SERVER.to_owned()));
            if let Some(id) = attr(node, "id") {
                ack = ack.attr("id", id);
            }
            if let Some(t) = attr(node, "type") {
                ack = ack.attr("type", t);
            }
            tx.send(Outbound::Node(ack.build())).is_ok()
        }
        "xmlstreamend" => false,
        "ack" | "presence" | "chatstate" | "ib" => true,
        other => {
            log::debug!("conn {conn_id}: ignoring <{other}>");
            true
        }
    }
}

/// The companion's `pair-device-sign`: verify it, record the device, and restart the stream
/// with 515 so the client logs in with its new identity.
fn finish_pairing(state: &ServerState, conn_id: u64, tx: &ConnSender, node: &Node) -> bool {
    let Some(link) = lock(&state.awaiting_sign).remove(&conn_id) else {
        log::warn!("conn {conn_id}: pair-device-sign without a pending pair-success");
        return false;
    };
    if attr(node, "id").as_deref() != Some(link.iq_id.as_str()) {
        log::warn!("conn {conn_id}: pair-device-sign answers the wrong iq id");
        return false;
    }
    let signed =
        node.get_optional_child("pair-device-sign").and_then(|s| s.get_optional_child("device-identity")).and_then(|d| match &d.content {
            Some(wacore_binary::NodeContent::Bytes(b)) => Some(b.clone()),
            _ => None,
        });
    let Some(signed) = signed else {
        log::warn!("conn {conn_id}: pair-device-sign without device-identity bytes");
        return false;
    };
    let mut dir = lock(&state.directory);
    let Some(account) = dir.account_mut(&link.phone) else {
        return false;
    };
    let account_pub = account.signing_key.public_key.public_key_bytes().to_vec();
    if let Err(e) = pairing::verify_device_signature(&signed, &link.identity_pub, &account_pub) {
        log::error!("conn {conn_id}: pair-device-sign rejected: {e}");
        let _ = tx.send(Outbound::CloseAfter(failure("401")));
        return false;
    }
    account.devices.insert(
        link.device,
        DeviceRecord {
            id: link.device,
            noise_pub: link.noise_pub,
            identity_pub: link.identity_pub,
            key_index: link.key_index,
            signed_identity: signed,
            bundle: Default::default(),
            key_shared: false,
            props: link.props.clone(),
        },
    );
    log::info!("conn {conn_id}: device {}:{} linked; restarting stream (515)", link.phone, link.device);
    let restart = NodeBuilder::new("stream:error").attr("code", "515").build();
    let _ = tx.send(Outbound::CloseAfter(restart));
    // Keep reading: the client closes its side once it has seen the 515.
    true
}

fn cleanup(state: &ServerState, conn_id: u64, role: &Role) {
    lock(&state.pairing).remove(conn_id);
    lock(&state.awaiting_sign).remove(&conn_id);
    if let Role::Device(addr) = role {
        lock(&state.directory).set_offline(&addr.phone, addr.device, conn_id);
        relay::disconnected(state, conn_id, addr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(payload: &[u8]) -> Vec<u8> {
        encode_frame(payload, None).unwrap()
    }

    #[test]
    fn intro_then_frames_even_when_split_across_reads() {
        let mut wire = WA_CONN_HEADER.to_vec();
        wire.extend(frame(b"hello"));
        wire.extend(frame(b"world"));
        let mut inbound = Inbound::new();
        for byte in &wire {
            inbound.push(std::slice::from_ref(byte)).unwrap();
        }
        assert_eq!(inbound.next_frame().unwrap(), b"hello");
        assert_eq!(inbound.next_frame().unwrap(), b"world");
        assert!(inbound.next_frame().is_none());
    }

    #[test]
    fn edge_routing_preintro_is_skipped() {
        let mut wire = wacore_noise::build_edge_routing_preintro(&[1, 2, 3, 4, 5]).unwrap();
        wire.extend_from_slice(&WA_CONN_HEADER);
        wire.extend(frame(b"x"));
        let mut inbound = Inbound::new();
        let (a, b) = wire.split_at(6);
        inbound.push(a).unwrap();
        assert!(inbound.next_frame().is_none());
        inbound.push(b).unwrap();
        assert_eq!(inbound.next_frame().unwrap(), b"x");
    }

    #[test]
    fn wrong_intro_is_an_error() {
        let mut inbound = Inbound::new();
        assert!(inbound.push(b"GET / HTTP/1.1").is_err());
    }
}
