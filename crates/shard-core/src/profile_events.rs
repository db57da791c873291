//! Baileys 6.7.21's profile and blocklist events: `contacts.update` with `imgUrl` for a picture
//! notification (messages-recv.js, `case 'picture'`), `blocklist.update` as it derives it from
//! the blocklist notification, and `blocklist.set`, which 6.7.21 declares but never emits; we
//! emit it with the list `fetchBlocklist` returned.

use wacore::types::events::PictureUpdate;

use crate::baileys_value::BValue;

/// `contacts.update` `[{ id, imgUrl: 'changed' | 'removed' }]` for a user's or group's picture.
pub fn contacts_update(p: &PictureUpdate) -> (&'static str, BValue) {
    let img_url = if p.removed { "removed" } else { "changed" };
    ("contacts.update", BValue::Array(vec![BValue::obj([("id", BValue::str(p.jid.to_non_ad_string())), ("imgUrl", BValue::str(img_url))])]))
}

/// `blocklist.update` `{ blocklist: [jid], type: 'add' | 'remove' }` for one block / unblock.
pub fn blocklist_update(jid: &str, blocked: bool) -> (&'static str, BValue) {
    (
        "blocklist.update",
        BValue::obj([("blocklist", BValue::Array(vec![BValue::str(jid)])), ("type", BValue::str(if blocked { "add" } else { "remove" }))]),
    )
}

/// `blocklist.set` `{ blocklist }`: the whole list.
pub fn blocklist_set(jids: &[String]) -> (&'static str, BValue) {
    ("blocklist.set", BValue::obj([("blocklist", BValue::Array(jids.iter().map(BValue::str).collect()))]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocklist_update_carries_the_jid_and_the_direction() {
        let (name, v) = blocklist_update("1@s.whatsapp.net", false);
        assert_eq!(name, "blocklist.update");
        assert_eq!(v.get("type").and_then(BValue::as_str), Some("remove"));
        assert_eq!(v.get("blocklist").and_then(BValue::as_array).map(|a| a.len()), Some(1));
    }

    #[test]
    fn picture_removal_is_reported_as_removed() {
        let p =
            PictureUpdate::builder().jid("5@s.whatsapp.net".parse().unwrap()).timestamp(wacore::chrono::Utc::now()).removed(true).build();
        let (name, v) = contacts_update(&p);
        assert_eq!(name, "contacts.update");
        let entry = &v.as_array().unwrap()[0];
        assert_eq!(entry.get("imgUrl").and_then(BValue::as_str), Some("removed"));
        assert_eq!(entry.get("id").and_then(BValue::as_str), Some("5@s.whatsapp.net"));
    }
}
