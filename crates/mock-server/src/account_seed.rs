//! What a seeded account holds: the contacts, chats and messages a test (or a benchmark) gives
//! the mock phone with `POST /admin/accounts/:phone/seed`, so that linking a device to it is
//! like linking to a real, lived-in account (history_sync.rs sends it as history).
//!
//! Body: `{ pushName?, contacts?, chats?, messages? }` or `{ generate: { contacts, chats,
//! messagesPerChat, groups, seed } }`.
//! - contact: `{ id, name?, notify? }` — `name` as saved in the address book (a `contactAction` in
//!   app state, app_state.rs), `notify` the contact's own push name (history's `PUSH_NAME`).
//! - chat: `{ id, name?, unreadCount?, archived?, pinned?, muteEndTime?, conversationTimestamp? }`.
//! - message: `{ from, text, timestamp?, id?, chat?, fromMe? }` (`from` a JID or a number; the
//!   chat is `chat`, else the sender's), or a Baileys `WAMessage` `{ key: { remoteJid, fromMe,
//!   id, participant? }, message: { conversation } | { extendedTextMessage: { text } },
//!   messageTimestamp?, pushName? }`. Only text content can be seeded.
//!
//! A chat a message names but `chats` does not is created. Seeding is kept by phone number, so
//! an account can be seeded before any device of it exists.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::http_response::Response;
use crate::locking::lock;

/// What seeding needs of the server's state.
pub trait AccountSeedState {
    fn seeds(&self) -> &Mutex<SeedBook>;
}

/// Seeds by phone number, and the accounts whose next history blob is to be spoiled.
#[derive(Default)]
pub struct SeedBook {
    seeds: HashMap<String, Arc<AccountSeed>>,
    truncate_history: HashSet<String>,
}

impl SeedBook {
    /// The account's current seed (app_state.rs builds its collections from it).
    pub fn get(&self, phone: &str) -> Option<Arc<AccountSeed>> {
        self.seeds.get(phone).cloned()
    }

    /// Replaces the account's seed.
    pub fn set(&mut self, phone: &str, seed: AccountSeed) {
        self.seeds.insert(phone.to_owned(), Arc::new(seed));
    }

    /// The seed a device linking now gets as history, and whether its blob is to be truncated
    /// (once).
    pub fn take_for_link(&mut self, phone: &str) -> Option<(Arc<AccountSeed>, bool)> {
        let seed = self.seeds.get(phone)?.clone();
        Some((seed, self.truncate_history.remove(phone)))
    }
}

/// `POST /admin/accounts/:phone/seed`: replaces the account's state (body in the module docs;
/// `"historyFault": "truncated"` also spoils the next history blob the phone sends). Answers
/// the counts.
pub fn seed_route(phone: &str, body: &[u8], state: &impl AccountSeedState) -> Response {
    let phone = phone.trim_start_matches('+');
    if phone.is_empty() || !phone.bytes().all(|b| b.is_ascii_digit()) {
        return Response::text(400, format!("not a phone number: {phone:?}\n"));
    }
    let mut value: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return Response::text(400, format!("seed is not JSON: {e}\n")),
    };
    let fault = value.as_object_mut().and_then(|o| o.remove("historyFault"));
    let truncate = match fault.as_ref().map(|f| f.as_str()) {
        None => false,
        Some(Some("truncated")) => true,
        Some(_) => return Response::text(400, "historyFault must be \"truncated\"\n"),
    };
    let seed = match parse(&value, phone) {
        Ok(s) => s,
        Err(e) => return Response::text(400, format!("bad seed: {e}\n")),
    };
    let summary = seed.summary();
    let mut book = lock(state.seeds());
    book.set(phone, seed);
    if truncate {
        book.truncate_history.insert(phone.to_owned());
    }
    log::info!("account {phone} seeded: {summary}");
    Response::json(200, &summary)
}

/// One message of the account's history.
#[derive(Clone, Debug, PartialEq)]
pub struct SeedMessage {
    pub id: String,
    pub from_me: bool,
    /// The sender in a group chat.
    pub participant: Option<String>,
    pub text: String,
    pub timestamp: u64,
    pub push_name: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct SeedChat {
    pub id: String,
    pub name: Option<String>,
    pub unread_count: Option<u32>,
    pub archived: Option<bool>,
    pub pinned: Option<u32>,
    pub mute_end_time: Option<u64>,
    pub conversation_timestamp: Option<u64>,
    /// Newest first, as the phone sends them.
    pub messages: Vec<SeedMessage>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct SeedContact {
    pub id: String,
    pub name: Option<String>,
    pub notify: Option<String>,
}

/// The account's state as the mock phone knows it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AccountSeed {
    pub push_name: Option<String>,
    pub contacts: Vec<SeedContact>,
    pub chats: Vec<SeedChat>,
}

impl AccountSeed {
    /// Counts for the admin answer.
    pub fn summary(&self) -> Value {
        serde_json::json!({
            "contacts": self.contacts.len(),
            "chats": self.chats.len(),
            "messages": self.chats.iter().map(|c| c.messages.len()).sum::<usize>(),
        })
    }
}

/// Parses a seed body for the account `phone` (its own JID tells `fromMe`).
pub fn parse(body: &Value, phone: &str) -> Result<AccountSeed, String> {
    let Some(obj) = body.as_object() else { return Err("the seed must be a JSON object".into()) };
    for key in obj.keys() {
        if !matches!(key.as_str(), "pushName" | "contacts" | "chats" | "messages" | "generate") {
            return Err(format!("unknown seed field {key:?} (groups and labels cannot be seeded yet)"));
        }
    }
    if let Some(spec) = obj.get("generate") {
        return generate(&GenerateSpec::parse(spec)?, phone);
    }
    let mut seed = AccountSeed { push_name: opt_str(body, "pushName")?, ..Default::default() };
    for (i, c) in list(body, "contacts")?.iter().enumerate() {
        let id = jid(req_str(c, "id").map_err(|e| format!("contacts[{i}]: {e}"))?);
        seed.contacts.push(SeedContact { id, name: opt_str(c, "name")?, notify: opt_str(c, "notify")? });
    }
    let mut chats: BTreeMap<String, SeedChat> = BTreeMap::new();
    let mut order = Vec::new();
    for (i, c) in list(body, "chats")?.iter().enumerate() {
        let chat = parse_chat(c).map_err(|e| format!("chats[{i}]: {e}"))?;
        order.push(chat.id.clone());
        chats.insert(chat.id.clone(), chat);
    }
    let own = format!("{phone}@s.whatsapp.net");
    for (i, m) in list(body, "messages")?.iter().enumerate() {
        let (chat_id, message) = parse_message(m, &own, i).map_err(|e| format!("messages[{i}]: {e}"))?;
        let chat = chats.entry(chat_id.clone()).or_insert_with(|| {
            order.push(chat_id.clone());
            SeedChat { id: chat_id.clone(), ..Default::default() }
        });
        chat.messages.push(message);
    }
    for id in order {
        let Some(mut chat) = chats.remove(&id) else { continue };
        chat.messages.sort_by_key(|m| std::cmp::Reverse(m.timestamp));
        if chat.conversation_timestamp.is_none() {
            chat.conversation_timestamp = chat.messages.first().map(|m| m.timestamp);
        }
        seed.chats.push(chat);
    }
    Ok(seed)
}

fn parse_chat(c: &Value) -> Result<SeedChat, String> {
    Ok(SeedChat {
        id: jid(req_str(c, "id")?),
        name: opt_str(c, "name")?,
        unread_count: opt_u64(c, "unreadCount")?.map(|n| n.min(u64::from(u32::MAX)) as u32),
        archived: c.get("archived").and_then(Value::as_bool),
        pinned: opt_u64(c, "pinned")?.map(|n| n.min(u64::from(u32::MAX)) as u32),
        mute_end_time: opt_u64(c, "muteEndTime")?,
        conversation_timestamp: opt_u64(c, "conversationTimestamp")?,
        messages: Vec::new(),
    })
}

/// Either form of a seeded message → (chat id, message).
fn parse_message(m: &Value, own: &str, index: usize) -> Result<(String, SeedMessage), String> {
    let fallback_id = format!("SEED{index:016X}");
    if let Some(key) = m.get("key") {
        let chat = jid(req_str(key, "remoteJid")?);
        let content = m.get("message").ok_or("a WAMessage needs `message`")?;
        let text = content
            .get("conversation")
            .and_then(Value::as_str)
            .or_else(|| content.pointer("/extendedTextMessage/text").and_then(Value::as_str))
            .ok_or("only text messages can be seeded (message.conversation or message.extendedTextMessage.text)")?;
        let message = SeedMessage {
            id: opt_str(key, "id")?.unwrap_or(fallback_id),
            from_me: key.get("fromMe").and_then(Value::as_bool).unwrap_or(false),
            participant: opt_str(key, "participant")?.map(|p| jid(&p)),
            text: text.to_owned(),
            timestamp: opt_u64(m, "messageTimestamp")?.unwrap_or_else(crate::clock::unix_now),
            push_name: opt_str(m, "pushName")?,
        };
        return Ok((chat, message));
    }
    let from = jid(req_str(m, "from")?);
    let chat = opt_str(m, "chat")?.map(|c| jid(&c));
    let from_me = m.get("fromMe").and_then(Value::as_bool).unwrap_or(from == own);
    let is_group = chat.as_deref().is_some_and(|c| c.ends_with("@g.us"));
    let message = SeedMessage {
        id: opt_str(m, "id")?.unwrap_or(fallback_id),
        from_me,
        participant: (is_group && !from_me).then(|| from.clone()),
        text: req_str(m, "text")?.to_owned(),
        timestamp: opt_u64(m, "timestamp")?.unwrap_or_else(crate::clock::unix_now),
        push_name: None,
    };
    Ok((chat.unwrap_or(from), message))
}

/// A bare number becomes a user JID; anything with `@` is kept.
fn jid(s: &str) -> String {
    if s.contains('@') {
        s.to_owned()
    } else {
        format!("{}@s.whatsapp.net", s.trim_start_matches('+'))
    }
}

fn list<'a>(v: &'a Value, key: &str) -> Result<&'a [Value], String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(format!("`{key}` must be an array")),
    }
}

fn req_str<'a>(v: &'a Value, key: &str) -> Result<&'a str, String> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()).ok_or_else(|| format!("`{key}` must be a non-empty string"))
}

fn opt_str(v: &Value, key: &str) -> Result<Option<String>, String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("`{key}` must be a string")),
    }
}

fn opt_u64(v: &Value, key: &str) -> Result<Option<u64>, String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(n) => n.as_u64().map(Some).ok_or_else(|| format!("`{key}` must be a non-negative integer")),
    }
}

/// `{ generate: { contacts, chats, messagesPerChat, groups, seed } }`: a realistic account of
/// that size, the same for the same `seed`.
#[derive(Clone, Debug, PartialEq)]
pub struct GenerateSpec {
    pub contacts: usize,
    pub chats: usize,
    pub messages_per_chat: usize,
    pub groups: usize,
    pub seed: u64,
}

/// Far above any benchmark, low enough that a typo cannot exhaust the mock's memory.
const MAX_GENERATED_MESSAGES: usize = 1_000_000;

impl GenerateSpec {
    fn parse(v: &Value) -> Result<GenerateSpec, String> {
        let n = |key: &str, default: u64| opt_u64(v, key).map(|o| o.unwrap_or(default) as usize);
        let spec = GenerateSpec {
            contacts: n("contacts", 0)?,
            chats: n("chats", 0)?,
            messages_per_chat: n("messagesPerChat", 0)?,
            groups: n("groups", 0)?,
            seed: opt_u64(v, "seed")?.unwrap_or(1),
        };
        if spec.groups > spec.chats {
            return Err("generate.groups counts among generate.chats and cannot exceed it".into());
        }
        if spec.chats.saturating_mul(spec.messages_per_chat) > MAX_GENERATED_MESSAGES || spec.contacts > MAX_GENERATED_MESSAGES {
            return Err(format!("at most {MAX_GENERATED_MESSAGES} messages and contacts can be generated"));
        }
        Ok(spec)
    }
}

/// splitmix64: a few lines, deterministic across platforms and crate versions.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a>(&mut self, words: &[&'a str]) -> &'a str {
        words[self.below(words.len())]
    }
}

const FIRST: &[&str] = &["Ana", "Bruno", "Carla", "Davi", "Elena", "Femi", "Gita", "Hugo", "Ines", "Jonas", "Kemi", "Luca", "Maya", "Nico"];
const LAST: &[&str] = &["Silva", "Okafor", "Nguyen", "Muller", "Rossi", "Sato", "Khan", "Novak", "Diaz", "Berg"];
const WORDS: &[&str] = &[
    "ok", "see", "you", "tomorrow", "the", "order", "is", "ready", "thanks", "can", "we", "call", "later", "meeting", "at", "noon",
    "price", "sent", "photo", "great", "where", "are", "now", "on", "my", "way",
];

pub fn generate(spec: &GenerateSpec, phone: &str) -> Result<AccountSeed, String> {
    let mut rng = Rng(spec.seed);
    let contacts: Vec<SeedContact> = (0..spec.contacts)
        .map(|i| {
            let name = format!("{} {}", rng.pick(FIRST), rng.pick(LAST));
            let notify = (rng.below(4) != 0).then(|| name.split(' ').next().unwrap_or_default().to_owned());
            SeedContact { id: format!("{}@s.whatsapp.net", 1_990_000_000_000u64 + i as u64), name: Some(name), notify }
        })
        .collect();
    let now = crate::clock::unix_now();
    let mut chats = Vec::with_capacity(spec.chats);
    for c in 0..spec.chats {
        let is_group = c < spec.groups;
        let (id, name) = if is_group {
            (
                format!("120363{:012}@g.us", spec.seed.wrapping_mul(1000).wrapping_add(c as u64) % 1_000_000_000_000),
                Some(format!("Group {}", c + 1)),
            )
        } else if contacts.is_empty() {
            (format!("{}@s.whatsapp.net", 1_980_000_000_000u64 + c as u64), None)
        } else {
            // A 1:1 chat has no name of its own: the contact's name is the address book's.
            (contacts[(c - spec.groups) % contacts.len()].id.clone(), None)
        };
        // Chats are spread over the last 30 days, newest first; messages a few minutes apart.
        let newest = now.saturating_sub(c as u64 * 3_600 + rng.below(3_600) as u64);
        let messages = (0..spec.messages_per_chat)
            .map(|m| {
                let from_me = rng.below(3) == 0;
                let words = 2 + rng.below(10);
                let text = (0..words).map(|_| rng.pick(WORDS)).collect::<Vec<_>>().join(" ");
                let participant = (is_group && !from_me && !contacts.is_empty()).then(|| contacts[rng.below(contacts.len())].id.clone());
                SeedMessage {
                    id: format!("3EB0{:016X}", rng.next()),
                    from_me,
                    participant,
                    text,
                    timestamp: newest.saturating_sub(m as u64 * 240),
                    push_name: None,
                }
            })
            .collect::<Vec<_>>();
        let unread = messages.iter().take_while(|m| !m.from_me).count() as u32;
        chats.push(SeedChat { id, name, unread_count: Some(unread), conversation_timestamp: Some(newest), messages, ..Default::default() });
    }
    Ok(AccountSeed { push_name: Some(format!("Account {phone}")), contacts, chats })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn simple_messages_make_their_chats_newest_first() {
        let seed = parse(
            &json!({
                "pushName": "Me",
                "contacts": [{ "id": "15550001", "name": "Bob", "notify": "bobby" }],
                "messages": [
                    { "from": "15550001", "text": "hi", "timestamp": 100 },
                    { "from": "15559999", "chat": "15550001", "text": "hello", "timestamp": 200 },
                    { "key": { "remoteJid": "1203@g.us", "fromMe": false, "id": "G1", "participant": "15550001@s.whatsapp.net" },
                      "message": { "extendedTextMessage": { "text": "in group" } }, "messageTimestamp": 50 }
                ]
            }),
            "15559999",
        )
        .unwrap();
        assert_eq!(seed.push_name.as_deref(), Some("Me"));
        assert_eq!(seed.contacts[0].id, "15550001@s.whatsapp.net");
        let chat = &seed.chats[0];
        assert_eq!(chat.id, "15550001@s.whatsapp.net");
        assert_eq!(chat.messages.iter().map(|m| (m.text.as_str(), m.from_me)).collect::<Vec<_>>(), [("hello", true), ("hi", false)]);
        assert_eq!(chat.conversation_timestamp, Some(200));
        assert_eq!(seed.chats[1].messages[0].participant.as_deref(), Some("15550001@s.whatsapp.net"));
    }

    #[test]
    fn bad_seeds_are_refused_with_the_field() {
        assert!(parse(&json!({ "messages": [{ "from": "1" }] }), "2").unwrap_err().contains("messages[0]"));
        assert!(parse(&json!({ "labels": [] }), "2").unwrap_err().contains("labels"));
        let media = json!({ "messages": [{ "key": { "remoteJid": "1@s.whatsapp.net" }, "message": { "imageMessage": {} } }] });
        assert!(parse(&media, "2").unwrap_err().contains("only text"));
        assert!(parse(&json!({ "generate": { "chats": 1, "groups": 2 } }), "2").is_err());
    }

    #[test]
    fn generation_is_deterministic_and_sized() {
        let spec = json!({ "generate": { "contacts": 50, "chats": 20, "messagesPerChat": 7, "groups": 3, "seed": 9 } });
        let a = parse(&spec, "1").unwrap();
        assert_eq!(a.contacts.len(), 50);
        assert_eq!(a.chats.len(), 20);
        assert!(a.chats.iter().all(|c| c.messages.len() == 7));
        assert_eq!(a.chats.iter().filter(|c| c.id.ends_with("@g.us")).count(), 3);
        let b = parse(&spec, "1").unwrap();
        assert_eq!(a.contacts, b.contacts);
        assert_eq!(
            a.chats.iter().map(|c| &c.messages[0].text).collect::<Vec<_>>(),
            b.chats.iter().map(|c| &c.messages[0].text).collect::<Vec<_>>()
        );
    }
}
