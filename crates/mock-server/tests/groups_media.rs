//! Groups and media against whatsapp-rust 0.7.0 clients:
//! - three accounts in a group exchange sender-key messages; a removed member is told and gets
//!   nothing more while the others keep talking (their clients rotate the sender key);
//! - subject, description, settings, invites and leave, with the notifications members get;
//! - media uploaded by a client downloads back byte-equal, and ranges return the right slice.
//!
//! whatsapp-rust builds `https://` media URLs; the mock serves plain HTTP, so the clients here
//! use an `HttpClient` that sends the mock's `https://127.0.0.1:PORT` URLs as `http://`.
//! Every wait is bounded. `MOCK_TEST_LOG=debug` for logs.

use std::sync::Arc;
use std::time::Duration;

#[macro_use]
mod common;

use baileys_shard_mock::MockServer;
use common::{bot_builder, drain_for, pair_by_qr, spawn_bot, start_mock, user_jid, user_of, wait_for, Observed};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc::UnboundedReceiver;
use wacore::proto_helpers::MessageExt as _;
use wacore::stanza::groups::GroupNotificationAction;
use wacore::store::InMemoryBackend;
use wacore_binary::Jid;
use whatsapp_rust::bot::BotHandle;
use whatsapp_rust::download::{DownloadParams, MediaType};
use whatsapp_rust::features::{GroupCreateOptions, GroupDescription, GroupParticipantOptions, GroupSubject, PreviousDescription};
use whatsapp_rust::http::{HttpClient, HttpRequest, HttpResponse, UreqHttpClient};
use whatsapp_rust::types::events::Event;
use whatsapp_rust::upload::UploadOptions;
use whatsapp_rust::Client;

#[derive(Debug)]
enum Seen {
    Qr(String),
    PairSuccess,
    Connected,
    /// (chat, sender, text)
    Text(String, String, String),
    /// (group, action tag, participant users)
    Group(String, String, Vec<String>),
    Undecryptable(String),
}

/// Sends the mock's `https://127.0.0.1:PORT/…` media URLs as plain `http://`.
struct MockCdnHttp {
    inner: UreqHttpClient,
    https: String,
    http: String,
}

#[async_trait::async_trait]
impl HttpClient for MockCdnHttp {
    async fn execute(&self, mut request: HttpRequest) -> anyhow::Result<HttpResponse> {
        if let Some(rest) = request.url.strip_prefix(&self.https) {
            request.url = format!("{}{rest}", self.http);
        }
        self.inner.execute(request).await
    }
}

fn action_of(a: &GroupNotificationAction) -> (String, Vec<String>) {
    let users = |ps: &[wacore::stanza::groups::GroupParticipantInfo]| ps.iter().map(|p| p.jid.user.to_string()).collect();
    match a {
        GroupNotificationAction::Add { participants, .. } => ("add".into(), users(participants)),
        GroupNotificationAction::Remove { participants, .. } => ("remove".into(), users(participants)),
        GroupNotificationAction::Promote { participants } => ("promote".into(), users(participants)),
        GroupNotificationAction::Demote { participants } => ("demote".into(), users(participants)),
        GroupNotificationAction::Subject { subject, .. } => ("subject".into(), vec![subject.clone()]),
        GroupNotificationAction::Description { description, .. } => ("description".into(), description.iter().cloned().collect()),
        GroupNotificationAction::Announce => ("announcement".into(), vec![]),
        GroupNotificationAction::NotAnnounce => ("not_announcement".into(), vec![]),
        GroupNotificationAction::Locked { .. } => ("locked".into(), vec![]),
        GroupNotificationAction::Unlocked => ("unlocked".into(), vec![]),
        GroupNotificationAction::Ephemeral { expiration, .. } => ("ephemeral".into(), vec![expiration.to_string()]),
        GroupNotificationAction::Create { .. } => ("create".into(), vec![]),
        other => (format!("{other:?}").chars().take(30).collect(), vec![]),
    }
}

impl Observed for Seen {
    fn from_event(event: &Event) -> Vec<Self> {
        match event {
            Event::PairingQrCode(q) => vec![Seen::Qr(q.code.clone())],
            Event::PairSuccess(_) => vec![Seen::PairSuccess],
            Event::Connected(_) => vec![Seen::Connected],
            Event::Messages(batch) => batch
                .iter()
                .filter_map(|m| {
                    let text = m.message.text_content()?.to_owned();
                    Some(Seen::Text(m.info.source.chat.to_string(), m.info.source.sender.to_string(), text))
                })
                .collect(),
            Event::GroupUpdate(u) => {
                let (tag, who) = action_of(&u.action);
                vec![Seen::Group(u.group_jid.to_string(), tag, who)]
            }
            Event::UndecryptableMessage(u) => vec![Seen::Undecryptable(format!("{u:?}"))],
            _ => vec![],
        }
    }
    lifecycle_from_seen!();
}

async fn start_bot(mock: &MockServer, name: &str) -> (BotHandle, UnboundedReceiver<Seen>) {
    let http = MockCdnHttp {
        inner: UreqHttpClient::new(),
        https: format!("https://127.0.0.1:{}", mock.port()),
        http: format!("http://127.0.0.1:{}", mock.port()),
    };
    let builder = bot_builder(&mock.url(), Arc::new(InMemoryBackend::new())).with_http_client(http).with_push_name(name);
    spawn_bot(builder).await
}

struct Member {
    bot: BotHandle,
    client: Arc<Client>,
    rx: UnboundedReceiver<Seen>,
    jid: Jid,
}

async fn member(mock: &MockServer, name: &str) -> Member {
    let (bot, mut rx) = start_bot(mock, name).await;
    pair_by_qr(mock, &mut rx).await;
    let client = bot.client();
    Member { bot, client, rx, jid: user_jid(name) }
}

async fn send(m: &Member, to: &Jid, text: &str) {
    tokio::time::timeout(Duration::from_secs(30), m.client.send_text(to.clone(), text))
        .await
        .unwrap_or_else(|_| panic!("sending {text:?} timed out"))
        .unwrap_or_else(|e| panic!("sending {text:?}: {e}"));
}

async fn expect_text(m: &mut Member, group: &Jid, from: &Member, text: &str) {
    let g = group.to_string();
    let got =
        wait_for(&mut m.rx, &format!("{text:?} in the group"), 30, |s| matches!(s, Seen::Text(chat, _, t) if *chat == g && t == text))
            .await;
    let Seen::Text(_, sender, _) = got else { unreachable!() };
    assert_eq!(user_of(&sender), from.jid.user.as_str(), "sender of {text:?}");
}

async fn expect_group_event(m: &mut Member, group: &Jid, tag: &str) -> Vec<String> {
    let g = group.to_string();
    match wait_for(&mut m.rx, &format!("w:gp2 {tag}"), 30, |s| matches!(s, Seen::Group(j, t, _) if *j == g && t == tag)).await {
        Seen::Group(_, _, who) => who,
        _ => unreachable!(),
    }
}

async fn shutdown(members: Vec<Member>, mock: MockServer) {
    for m in members {
        drop(m.client);
        let _ = tokio::time::timeout(Duration::from_secs(20), m.bot.shutdown()).await;
    }
    mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_of_three_exchanges_messages_and_a_removed_member_stops_receiving() {
    let mock = start_mock().await;
    let mut a = member(&mock, "grp-alice").await;
    let mut b = member(&mock, "grp-bob").await;
    let mut c = member(&mock, "grp-carol").await;

    let created = a
        .client
        .groups()
        .create_group(
            GroupCreateOptions::new("three")
                .with_participants(vec![GroupParticipantOptions::new(b.jid.clone()), GroupParticipantOptions::new(c.jid.clone())]),
        )
        .await
        .expect("create group");
    let group = created.metadata.id.clone();
    assert_eq!(created.metadata.participants.len(), 3);
    assert_eq!(created.metadata.subject, "three");
    expect_group_event(&mut b, &group, "create").await;
    expect_group_event(&mut c, &group, "create").await;

    // Every member's text reaches every other member (first sends carry the sender key).
    send(&a, &group, "from alice").await;
    expect_text(&mut b, &group, &a, "from alice").await;
    expect_text(&mut c, &group, &a, "from alice").await;
    send(&b, &group, "from bob").await;
    expect_text(&mut a, &group, &b, "from bob").await;
    expect_text(&mut c, &group, &b, "from bob").await;
    send(&c, &group, "from carol").await;
    expect_text(&mut a, &group, &c, "from carol").await;
    expect_text(&mut b, &group, &c, "from carol").await;
    // A second round rides the sender keys already distributed.
    send(&a, &group, "alice again").await;
    expect_text(&mut b, &group, &a, "alice again").await;
    expect_text(&mut c, &group, &a, "alice again").await;

    // Carol is removed: everyone, carol included, is told.
    let res = a.client.groups().remove_participants(group.clone(), &[c.jid.clone()]).await.expect("remove");
    assert!(res.iter().all(|r| r.is_ok()), "remove results: {res:?}");
    let carol = c.jid.user.to_string();
    for m in [&mut a, &mut b, &mut c] {
        let who = expect_group_event(m, &group, "remove").await;
        assert_eq!(who, vec![carol.clone()]);
    }
    let meta = a.client.groups().get_metadata(&group).await.expect("metadata");
    assert_eq!(meta.participants.len(), 2);

    // Alice and Bob still talk (new sender keys); Carol hears nothing.
    send(&a, &group, "after removal").await;
    expect_text(&mut b, &group, &a, "after removal").await;
    send(&b, &group, "bob after removal").await;
    expect_text(&mut a, &group, &b, "bob after removal").await;
    let late = drain_for(&mut c.rx, Duration::from_secs(2)).await;
    assert!(
        !late.iter().any(|s| matches!(s, Seen::Text(chat, ..) if *chat == group.to_string())),
        "the removed member still got group messages: {late:?}"
    );
    // Nor can she send into it: nobody gets it.
    let _ = tokio::time::timeout(Duration::from_secs(15), c.client.send_text(group.clone(), "let me in")).await;
    let seen = drain_for(&mut b.rx, Duration::from_secs(2)).await;
    assert!(!seen.iter().any(|s| matches!(s, Seen::Text(_, _, t) if t == "let me in")), "{seen:?}");

    shutdown(vec![a, b, c], mock).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_settings_subject_description_invites_and_leave() {
    let mock = start_mock().await;
    let mut a = member(&mock, "set-alice").await;
    let mut b = member(&mock, "set-bob").await;
    let client_a = a.client.clone();
    let groups_a = client_a.groups();

    let created = groups_a.create_group(GroupCreateOptions::new("solo")).await.expect("create");
    let group = created.metadata.id.clone();
    assert_eq!(created.metadata.participants.len(), 1);

    // Invite: link → info → join; the admin hears of the join.
    let link = groups_a.get_invite_link(group.clone(), false).await.expect("invite link");
    let code = link.rsplit('/').next().unwrap().to_owned();
    let info = b.client.groups().get_invite_info(&code).await.expect("invite info");
    assert_eq!(info.subject, "solo");
    let joined = b.client.groups().join_with_invite_code(&code).await.expect("join");
    assert_eq!(joined.group_jid(), &group);
    let who = expect_group_event(&mut a, &group, "add").await;
    assert_eq!(who, vec![b.jid.user.to_string()]);
    // A revoked link stops working.
    let new_link = groups_a.get_invite_link(group.clone(), true).await.expect("revoke");
    assert_ne!(new_link, link);
    assert!(b.client.groups().get_invite_info(&code).await.is_err(), "revoked code still answers");

    // Subject and description reach the other member.
    groups_a.set_subject(group.clone(), GroupSubject::new("renamed").unwrap()).await.expect("subject");
    assert_eq!(expect_group_event(&mut b, &group, "subject").await, vec!["renamed".to_owned()]);
    groups_a
        .set_description(group.clone(), Some(GroupDescription::new("about us").unwrap()), PreviousDescription::Resolve)
        .await
        .expect("description");
    assert_eq!(expect_group_event(&mut b, &group, "description").await, vec!["about us".to_owned()]);
    let meta = b.client.groups().get_metadata(&group).await.expect("metadata");
    assert_eq!((meta.subject.as_str(), meta.description.as_deref()), ("renamed", Some("about us")));

    // Settings: admin-only, announced to members; a member cannot change them.
    groups_a.set_locked(group.clone(), true).await.expect("lock");
    expect_group_event(&mut b, &group, "locked").await;
    assert!(b.client.groups().set_subject(group.clone(), GroupSubject::new("mine").unwrap()).await.is_err());
    assert!(b.client.groups().set_announce(group.clone(), true).await.is_err());
    groups_a.set_ephemeral(group.clone(), 86_400).await.expect("ephemeral");
    assert_eq!(expect_group_event(&mut b, &group, "ephemeral").await, vec!["86400".to_owned()]);

    // Announcement group: a member's message reaches nobody, the admin's does.
    groups_a.set_announce(group.clone(), true).await.expect("announce");
    expect_group_event(&mut b, &group, "announcement").await;
    let _ = tokio::time::timeout(Duration::from_secs(15), b.client.send_text(group.clone(), "members talk")).await;
    send(&a, &group, "admins talk").await;
    expect_text(&mut b, &group, &a, "admins talk").await;
    let seen = drain_for(&mut a.rx, Duration::from_secs(2)).await;
    assert!(!seen.iter().any(|s| matches!(s, Seen::Text(_, _, t) if t == "members talk")), "{seen:?}");

    // Promote, then leave: the leaver's remove notification reaches the admin.
    let promoted = groups_a.promote_participants(group.clone(), &[b.jid.clone()]).await.expect("promote");
    assert!(promoted.iter().all(|r| r.is_ok()));
    expect_group_event(&mut b, &group, "promote").await;
    b.client.groups().leave(group.clone()).await.expect("leave");
    assert_eq!(expect_group_event(&mut a, &group, "remove").await, vec![b.jid.user.to_string()]);
    let meta = groups_a.get_metadata(&group).await.expect("metadata after leave");
    assert_eq!(meta.participants.len(), 1);

    drop(client_a);
    shutdown(vec![a, b], mock).await;
}

/// A raw HTTP request; returns (status, headers, body bytes). It asks for `Connection: close`
/// (the mock keeps connections alive otherwise) so the answer ends with the stream.
async fn raw(port: u16, head: String, body: &[u8]) -> (u16, String, Vec<u8>) {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let (request_line, rest) = head.split_once("\r\n").expect("request line");
    s.write_all(format!("{request_line}\r\nConnection: close\r\n{rest}").as_bytes()).await.unwrap();
    s.write_all(body).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out)).await.unwrap().unwrap();
    let split = out.windows(4).position(|w| w == b"\r\n\r\n").expect("response head") + 4;
    let headers = String::from_utf8_lossy(&out[..split]).into_owned();
    let status = headers.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, headers, out[split..].to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_uploads_download_byte_equal_with_ranges() {
    let mock = start_mock().await;
    let a = member(&mock, "media-alice").await;

    for (len, kind) in [(300_000usize, MediaType::Image), (6 * 1024 * 1024 + 7, MediaType::Document)] {
        let data: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
        let up = a.client.upload(data.clone(), kind, UploadOptions::new()).await.expect("upload");
        assert!(up.direct_path.starts_with("/v/"), "direct path {}", up.direct_path);
        assert!(up.url.ends_with(&up.direct_path), "url {}", up.url);
        let params = DownloadParams::encrypted(&up.direct_path, &up.media_key, &up.file_sha256, &up.file_enc_sha256, up.file_length, kind);
        let back = a.client.download_from_params(&params).await.expect("download");
        assert!(back == data, "downloaded bytes differ ({} vs {})", back.len(), data.len());

        // The stored blob is what the client encrypted, and ranges slice it.
        let port = mock.port();
        let (status, _, full) = raw(port, format!("GET {} HTTP/1.1\r\nHost: x\r\n\r\n", up.direct_path), b"").await;
        assert_eq!(status, 200);
        assert_eq!(Sha256::digest(&full).as_slice(), up.file_enc_sha256.as_slice());
        let (status, head, part) = raw(port, format!("GET {}?token=x HTTP/1.1\r\nRange: bytes=100-199\r\n\r\n", up.direct_path), b"").await;
        assert_eq!(status, 206);
        assert!(head.to_ascii_lowercase().contains(&format!("content-range: bytes 100-199/{}", full.len())), "{head}");
        assert_eq!(part, full[100..200]);
        let (status, _, tail) = raw(port, format!("GET {} HTTP/1.1\r\nRange: bytes=-10\r\n\r\n", up.direct_path), b"").await;
        assert_eq!((status, tail.as_slice()), (206, &full[full.len() - 10..]));
        let (status, head, _) = raw(port, format!("GET {} HTTP/1.1\r\nRange: bytes={}-\r\n\r\n", up.direct_path, full.len()), b"").await;
        assert_eq!(status, 416, "{head}");
    }

    // Uploads need the media_conn auth, and the body must match its token.
    let port = mock.port();
    let body = b"not the declared file";
    let token = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let (status, _, _) =
        raw(port, format!("POST /mms/image/{token}?auth=wrong&token={token} HTTP/1.1\r\nContent-Length: {}\r\n\r\n", body.len()), body)
            .await;
    assert_eq!(status, 401);
    // A chunked upload with the real auth but a wrong hash is refused; with the right one stored.
    let auth = mock_auth(&a).await;
    let chunked = |b: &[u8]| {
        let mut out = format!("{:x}\r\n", 5).into_bytes();
        out.extend_from_slice(&b[..5]);
        out.extend_from_slice(format!("\r\n{:x}\r\n", b.len() - 5).as_bytes());
        out.extend_from_slice(&b[5..]);
        out.extend_from_slice(b"\r\n0\r\n\r\n");
        out
    };
    let post = |token: &str| format!("POST /mms/document/{token}?auth={auth}&token={token} HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    let (status, _, _) = raw(port, post(token), &chunked(body)).await;
    assert_eq!(status, 400);
    use base64::Engine as _;
    let good = base64::prelude::BASE64_URL_SAFE_NO_PAD.encode(Sha256::digest(body));
    let (status, _, reply) = raw(port, post(&good), &chunked(body)).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&reply));
    let json: serde_json::Value = serde_json::from_slice(&reply).unwrap();
    let dp = json["direct_path"].as_str().unwrap();
    let (status, _, stored) = raw(port, format!("GET {dp} HTTP/1.1\r\n\r\n"), b"").await;
    assert_eq!((status, stored.as_slice()), (200, &body[..]));
    let (status, _, _) = raw(port, "GET /v/t62.7118-24/nothing.enc HTTP/1.1\r\n\r\n".into(), b"").await;
    assert_eq!(status, 404);

    shutdown(vec![a], mock).await;
}

/// The media auth token, as a client gets it from `media_conn`.
async fn mock_auth(m: &Member) -> String {
    let iq = wacore::iq::mediaconn::MediaConnSpec::new();
    m.client.execute(iq).await.expect("media_conn").auth
}
