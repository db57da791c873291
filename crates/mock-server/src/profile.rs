//! Profiles, privacy and blocklists: `w:profile:picture` (get / set / remove, own or a group's
//! with `target`), `status` (the about text, also answered in usync `<status>`),
//! `disappearing_mode` (the default timer, also answered in usync `<disappearing_mode>`), `privacy`
//! (get, set one `<category name value>`: values WhatsApp refuses are a 400), `blocklist`
//! (get, set with `<item action jid>`). State is kept per account; a change is told to the
//! account's other devices as WhatsApp tells them: `<notification type="picture">` with
//! `<set>`/`<delete>`, `<notification type="status">`, and `<notification type="account_sync">`
//! with `<blocklist><item action jid/>` (Baileys turns that into `blocklist.update`). A picture
//! change also goes to the people who see that picture: a group's members, or (for a user's
//! own picture) every other account on the server, the mock's stand-in for "contacts"
//! (Baileys turns it into `contacts.update` `imgUrl`).

use std::collections::HashMap;
use std::sync::Mutex;

use wacore_binary::builder::NodeBuilder;
use wacore_binary::{Node, NodeContent};

use crate::accounts::Directory;
use crate::clock::unix_now;
use crate::groups::model::GroupDirectory;
use crate::jid::DeviceAddr;
use crate::locking::lock;
use crate::router::Router;
use crate::stanza::{attr, error, result};

/// What profiles need of the server: its accounts, the router to notify devices through, the
/// profiles themselves, the groups (whose members see a group's picture) and the port (picture
/// URLs point at this server).
pub trait ProfileState {
    fn directory(&self) -> &Mutex<Directory>;
    fn router(&self) -> &Mutex<Router>;
    fn profiles(&self) -> &Mutex<ProfileDirectory>;
    fn groups(&self) -> &Mutex<GroupDirectory>;
    fn port(&self) -> &u16;
}

/// One stored picture.
struct Picture {
    id: u64,
    len: usize,
}

/// Profile state of every account (and group pictures), by user part (`phone` / group id).
#[derive(Default)]
pub struct ProfileDirectory {
    pictures: HashMap<String, Picture>,
    statuses: HashMap<String, (String, u64)>,
    blocklists: HashMap<String, Vec<String>>,
    /// Privacy settings changed from their defaults, by account.
    privacy: HashMap<String, Vec<(String, String)>>,
    /// Default disappearing-messages timer (seconds) and when it was set, by account.
    disappearing: HashMap<String, (u32, u64)>,
    next_picture: u64,
}

/// Privacy categories a new account has, with their defaults.
const PRIVACY_DEFAULTS: [(&str, &str); 8] = [
    ("last", "all"),
    ("online", "all"),
    ("profile", "all"),
    ("status", "all"),
    ("groupadd", "all"),
    ("readreceipts", "all"),
    ("calladd", "all"),
    ("messages", "all"),
];

/// The values WhatsApp accepts for a privacy category (its web client's table).
fn privacy_values(category: &str) -> Option<&'static [&'static str]> {
    Some(match category {
        "last" | "profile" | "status" | "groupadd" => &["all", "contacts", "contact_blacklist", "none"],
        "online" => &["all", "match_last_seen"],
        "readreceipts" => &["all", "none"],
        "calladd" => &["all", "known", "contacts"],
        "messages" => &["all", "contacts"],
        "defense" => &["off", "on_standard"],
        _ => return None,
    })
}

impl ProfileDirectory {
    /// The about text of `phone` and when it was set, for usync `<status>`.
    /// Accounts whose privacy `category` is set to something other than `value` (the default
    /// of every category the mock knows is the first of PRIVACY_DEFAULTS).
    pub fn phones_without_privacy(&self, category: &str, value: &str) -> std::collections::HashSet<String> {
        self.privacy
            .iter()
            .filter(|(_, settings)| settings.iter().rev().find(|(c, _)| c == category).is_some_and(|(_, v)| v != value))
            .map(|(phone, _)| phone.clone())
            .collect()
    }

    /// `<disappearing_mode duration t/>` for usync: the account's default timer (0 = off).
    pub fn usync_disappearing_mode(&self, phone: &str) -> Node {
        let (duration, t) = self.disappearing.get(phone).copied().unwrap_or((0, 0));
        NodeBuilder::new("disappearing_mode").attr("duration", duration.to_string()).attr("t", t.to_string()).build()
    }

    pub fn status_of(&self, phone: &str) -> Option<&(String, u64)> {
        self.statuses.get(phone)
    }

    /// usync `<picture>` for `phone`: `<picture id>` of the current picture, or a per-user
    /// 404 `<error>` without one (an id-less `<picture/>` fails the whole query in clients
    /// that require `id`).
    pub fn usync_picture(&self, phone: &str) -> Node {
        match self.pictures.get(phone) {
            Some(p) => NodeBuilder::new("picture").attr("id", p.id.to_string()).build(),
            None => NodeBuilder::new("picture")
                .children([NodeBuilder::new("error").attr("code", "404").attr("text", "item-not-found").build()])
                .build(),
        }
    }
}

fn user_of(jid: &str) -> String {
    jid.split('@').next().unwrap_or_default().split(':').next().unwrap_or_default().to_owned()
}

fn bytes_of(node: &Node) -> Option<&[u8]> {
    match node.content.as_ref() {
        Some(NodeContent::Bytes(b)) => Some(b),
        Some(NodeContent::String(s)) => Some(s.as_bytes()),
        _ => None,
    }
}

fn first_child<'a>(node: &'a Node, tag: &str) -> Option<&'a Node> {
    node.children().and_then(|c| c.iter().find(|n| n.tag == tag))
}

/// Whether this module answers the iq.
pub fn handles(xmlns: &str) -> bool {
    matches!(xmlns, "w:profile:picture" | "status" | "privacy" | "blocklist" | "disappearing_mode")
}

/// Answers one profile / status / blocklist iq from `me`, and tells `me`'s other devices.
pub fn handle_iq(state: &impl ProfileState, me: Option<&DeviceAddr>, iq: &Node) -> Vec<Node> {
    let Some(me) = me else {
        return vec![error(iq, 401, "not-authorized")];
    };
    let xmlns = attr(iq, "xmlns").unwrap_or_default();
    let kind = attr(iq, "type").unwrap_or_default();
    let own_jid = format!("{}@s.whatsapp.net", me.phone);
    let mut profiles = lock(state.profiles());
    let (reply, notify) = match (xmlns.as_str(), kind.as_str()) {
        ("w:profile:picture", "get") => {
            let target = attr(iq, "target").unwrap_or_else(|| own_jid.clone());
            let reply = match profiles.pictures.get(&user_of(&target)) {
                Some(p) => {
                    let kind = first_child(iq, "picture").and_then(|c| attr(c, "type")).unwrap_or_else(|| "preview".into());
                    let direct_path = format!("/v/t61.24694-24/pp-{}-{}-{kind}.jpg", user_of(&target), p.id);
                    result(
                        iq,
                        vec![NodeBuilder::new("picture")
                            .attr("id", p.id.to_string())
                            .attr("type", kind)
                            .attr("url", format!("https://127.0.0.1:{}{direct_path}?size={}", state.port(), p.len))
                            .attr("direct_path", direct_path)
                            .build()],
                    )
                }
                None => error(iq, 404, "item-not-found"),
            };
            (reply, None)
        }
        ("w:profile:picture", "set") => {
            let target = attr(iq, "target").unwrap_or_else(|| own_jid.clone());
            let key = user_of(&target);
            match first_child(iq, "picture").and_then(bytes_of) {
                Some(img) if !img.is_empty() => {
                    profiles.next_picture += 1;
                    let id = profiles.next_picture + 1_700_000_000;
                    profiles.pictures.insert(key, Picture { id, len: img.len() });
                    let set = NodeBuilder::new("set")
                        .attr("jid", target.clone())
                        .attr("id", id.to_string())
                        .attr("author", own_jid.clone())
                        .build();
                    (result(iq, vec![NodeBuilder::new("picture").attr("id", id.to_string()).build()]), Some(("picture", target, set)))
                }
                _ => {
                    profiles.pictures.remove(&key);
                    let delete = NodeBuilder::new("delete").attr("jid", target.clone()).attr("author", own_jid.clone()).build();
                    (result(iq, vec![]), Some(("picture", target, delete)))
                }
            }
        }
        ("status", "set") => {
            let text = first_child(iq, "status").and_then(bytes_of).map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default();
            profiles.statuses.insert(me.phone.clone(), (text.clone(), unix_now()));
            let set = NodeBuilder::new("set").string_content(text).build();
            (result(iq, vec![]), Some(("status", own_jid.clone(), set)))
        }
        ("disappearing_mode", "set") => {
            let Some(duration) = first_child(iq, "disappearing_mode").and_then(|d| attr(d, "duration")).and_then(|d| d.parse::<u32>().ok())
            else {
                return vec![error(iq, 400, "bad-request")];
            };
            profiles.disappearing.insert(me.phone.clone(), (duration, unix_now()));
            (result(iq, vec![]), None)
        }
        ("privacy", "get") => {
            let changed = profiles.privacy.get(&me.phone);
            let value_of = |name: &str, default: &str| {
                changed.and_then(|c| c.iter().find(|(n, _)| n == name)).map(|(_, v)| v.clone()).unwrap_or_else(|| default.to_owned())
            };
            let categories = PRIVACY_DEFAULTS
                .iter()
                .map(|(name, default)| NodeBuilder::new("category").attr("name", *name).attr("value", value_of(name, default)).build());
            (result(iq, vec![NodeBuilder::new("privacy").children(categories).build()]), None)
        }
        // Privacy tokens (`getPrivacyTokens`): the server takes them without further answer.
        ("privacy", "set") if first_child(iq, "tokens").is_some() => (result(iq, vec![]), None),
        ("privacy", "set") => {
            let category = first_child(iq, "privacy").and_then(|p| first_child(p, "category"));
            let (Some(name), Some(value)) = (category.and_then(|c| attr(c, "name")), category.and_then(|c| attr(c, "value"))) else {
                return vec![error(iq, 400, "bad-request")];
            };
            if !privacy_values(&name).is_some_and(|allowed| allowed.contains(&value.as_str())) {
                return vec![error(iq, 400, "bad-request")];
            }
            let changed = profiles.privacy.entry(me.phone.clone()).or_default();
            changed.retain(|(n, _)| *n != name);
            changed.push((name.clone(), value.clone()));
            let echo = NodeBuilder::new("category").attr("name", name).attr("value", value).build();
            (result(iq, vec![NodeBuilder::new("privacy").children([echo]).build()]), None)
        }
        ("blocklist", "get") => {
            let items: Vec<Node> = profiles
                .blocklists
                .get(&me.phone)
                .map(|l| l.iter().map(|j| NodeBuilder::new("item").attr("jid", j.clone()).build()).collect())
                .unwrap_or_default();
            (result(iq, vec![NodeBuilder::new("list").children(items).build()]), None)
        }
        ("blocklist", "set") => {
            let Some(item) = first_child(iq, "item") else {
                return vec![error(iq, 400, "bad-request")];
            };
            let (Some(action), Some(jid)) = (attr(item, "action"), attr(item, "jid")) else {
                return vec![error(iq, 400, "bad-request")];
            };
            let list = profiles.blocklists.entry(me.phone.clone()).or_default();
            match action.as_str() {
                "block" if !list.contains(&jid) => list.push(jid.clone()),
                "block" => {}
                "unblock" => list.retain(|j| *j != jid),
                _ => return vec![error(iq, 400, "bad-request")],
            }
            let sync =
                NodeBuilder::new("blocklist").children([NodeBuilder::new("item").attr("jid", jid).attr("action", action).build()]).build();
            (result(iq, vec![]), Some(("account_sync", own_jid.clone(), sync)))
        }
        _ => (result(iq, vec![]), None),
    };
    drop(profiles);
    if let Some((kind, from, child)) = notify {
        let viewers = if kind == "picture" { picture_viewers(state, me, &from) } else { Vec::new() };
        notify_other_devices(state, me, kind, &from, child, &viewers);
    }
    vec![reply]
}

/// The accounts besides `me`'s own that see `target`'s picture: a group's members, or every
/// other account for a user's picture.
fn picture_viewers(state: &impl ProfileState, me: &DeviceAddr, target: &str) -> Vec<String> {
    let phones: Vec<String> = if target.ends_with("@g.us") {
        lock(state.groups()).get(&user_of(target)).map(|g| g.member_phones()).unwrap_or_default()
    } else {
        lock(state.directory()).accounts().map(|a| a.phone.clone()).collect()
    };
    phones.into_iter().filter(|p| *p != me.phone).collect()
}

/// Sends one notification to every device of `me`'s account except `me`, and to every device
/// of the `viewers` accounts (live or queued).
fn notify_other_devices(state: &impl ProfileState, me: &DeviceAddr, kind: &str, from: &str, child: Node, viewers: &[String]) {
    let id = format!("{:016X}", rand::random::<u64>());
    let node = NodeBuilder::new("notification")
        .attr("from", from.to_owned())
        .attr("type", kind.to_owned())
        .attr("id", id.clone())
        .attr("t", unix_now().to_string())
        .children([child])
        .build();
    let dir = lock(state.directory());
    let mut router = lock(state.router());
    let Some(account) = dir.account(&me.phone) else { return };
    for device in account.devices.keys().filter(|d| **d != me.device) {
        router.deliver(&(me.phone.clone(), *device), "notification", &id, &me.phone, node.clone());
    }
    for viewer in viewers.iter().filter_map(|p| dir.account(p)) {
        for device in viewer.devices.keys() {
            router.deliver(&(viewer.phone.clone(), *device), "notification", &id, &me.phone, node.clone());
        }
    }
    log::debug!("{kind} notification from {from} to the other devices of {}", me.phone);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usync_picture_has_an_id_or_a_per_user_404() {
        let mut dir = ProfileDirectory::default();
        let none = dir.usync_picture("15550000001");
        assert_eq!(attr(&none, "id"), None);
        let err = first_child(&none, "error").expect("a 404 error child");
        assert_eq!(attr(err, "code").as_deref(), Some("404"));

        dir.pictures.insert("15550000001".into(), Picture { id: 1_700_000_001, len: 10 });
        let some = dir.usync_picture("15550000001");
        assert_eq!(attr(&some, "id").as_deref(), Some("1700000001"));
        assert!(first_child(&some, "error").is_none());
    }
}
