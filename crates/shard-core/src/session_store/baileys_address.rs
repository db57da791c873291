//! Key names: the engine's Signal addresses ⇄ the ids Baileys 6.7.21 uses in file names.
//!
//! The engine names a device `{user}[:{device}]@{server}.0`, with `c.us` for phone numbers
//! and `lid` for LIDs (the device lives in the name; the Signal device id is always 0).
//! Baileys 6.7.21 names it `{user}.{device}` (libsignal-node's `ProtocolAddress`), with no
//! server at all: a phone number and a LID are told apart only by being different numbers.
//! Sender keys: engine `{group}:{address}`, Baileys `{group}::{user}::{device}`.

use std::collections::HashSet;

/// The engine's suffix on every protocol address (Signal device id 0).
const ENGINE_DEVICE_SUFFIX: &str = ".0";
const PHONE_SERVER: &str = "c.us";
const LID_SERVER: &str = "lid";

/// An engine protocol address split into its parts; only phone-number and LID devices have a
/// Baileys 6.7.21 form (other servers, e.g. bots or hosted devices, stay in side files).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceAddress {
    pub user: String,
    pub device: u32,
    pub lid: bool,
}

impl DeviceAddress {
    /// Parses `{user}[:{device}]@{c.us|lid}.0`.
    pub fn from_engine(address: &str) -> Option<Self> {
        let name = address.strip_suffix(ENGINE_DEVICE_SUFFIX)?;
        let (user_device, server) = name.split_once('@')?;
        let lid = match server {
            PHONE_SERVER => false,
            LID_SERVER => true,
            _ => return None,
        };
        let (user, device) = match user_device.split_once(':') {
            Some((user, device)) => (user, device.parse().ok()?),
            None => (user_device, 0),
        };
        if !is_baileys_user(user) {
            return None;
        }
        Some(Self { user: user.to_owned(), device, lid })
    }

    /// Parses Baileys' `{user}.{device}`; `lid_users` says which users are LIDs.
    pub fn from_baileys(id: &str, lid_users: &HashSet<String>) -> Option<Self> {
        let (user, device) = id.split_once('.')?;
        if !is_baileys_user(user) {
            return None;
        }
        Some(Self { user: user.to_owned(), device: device.parse().ok()?, lid: lid_users.contains(user) })
    }

    pub fn engine(&self) -> String {
        let server = if self.lid { LID_SERVER } else { PHONE_SERVER };
        match self.device {
            0 => format!("{}@{server}{ENGINE_DEVICE_SUFFIX}", self.user),
            d => format!("{}:{d}@{server}{ENGINE_DEVICE_SUFFIX}", self.user),
        }
    }

    pub fn baileys(&self) -> String {
        format!("{}.{}", self.user, self.device)
    }
}

/// Baileys' ProtocolAddress refuses ids containing '.'; its jidDecode drops an `_agent`.
fn is_baileys_user(user: &str) -> bool {
    !user.is_empty() && user.chars().all(|c| c.is_ascii_alphanumeric())
}

/// A sender key's owner: a group and one device in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderKeyAddress {
    pub group: String,
    pub sender: DeviceAddress,
}

impl SenderKeyAddress {
    /// Parses the engine's `{group}:{address}` (the group jid has no ':').
    pub fn from_engine(name: &str) -> Option<Self> {
        let (group, sender) = name.split_once(':')?;
        Some(Self { group: group.to_owned(), sender: DeviceAddress::from_engine(sender)? })
    }

    /// Parses Baileys' `{group}::{user}::{device}`.
    pub fn from_baileys(id: &str, lid_users: &HashSet<String>) -> Option<Self> {
        let mut parts = id.split("::");
        let (group, user, device) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || group.is_empty() {
            return None;
        }
        let sender = DeviceAddress::from_baileys(&format!("{user}.{device}"), lid_users)?;
        Some(Self { group: group.to_owned(), sender })
    }

    pub fn engine(&self) -> String {
        format!("{}:{}", self.group, self.sender.engine())
    }

    pub fn baileys(&self) -> String {
        format!("{}::{}::{}", self.group, self.sender.user, self.sender.device)
    }
}

/// Baileys' file name for a key: `{type}-{id}.json` with `/` → `__` and `:` → `-`.
pub fn baileys_file_name(kind: &str, id: &str) -> String {
    format!("{kind}-{}.json", id.replace('/', "__").replace(':', "-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_addresses_map_both_ways() {
        let lids: HashSet<String> = ["123456789012345".to_owned()].into();
        let pn = DeviceAddress::from_engine("15551234567:3@c.us.0").unwrap();
        assert_eq!(pn.baileys(), "15551234567.3");
        assert_eq!(DeviceAddress::from_baileys("15551234567.3", &lids).unwrap().engine(), "15551234567:3@c.us.0");
        let phone = DeviceAddress::from_engine("15551234567@c.us.0").unwrap();
        assert_eq!(phone.baileys(), "15551234567.0");
        assert_eq!(DeviceAddress::from_baileys("15551234567.0", &lids).unwrap().engine(), "15551234567@c.us.0");
        let lid = DeviceAddress::from_baileys("123456789012345.2", &lids).unwrap();
        assert_eq!(lid.engine(), "123456789012345:2@lid.0");
        assert_eq!(DeviceAddress::from_engine("123456789012345:2@lid.0").unwrap(), lid);
        assert!(DeviceAddress::from_engine("123@bot.0").is_none());
        assert!(DeviceAddress::from_engine("123@c.us").is_none());
        assert!(DeviceAddress::from_baileys("12.3.4", &lids).is_none());
    }

    #[test]
    fn sender_key_names_map_both_ways() {
        let lids = HashSet::new();
        let engine = "120363000000000001@g.us:15551234567:3@c.us.0";
        let key = SenderKeyAddress::from_engine(engine).unwrap();
        assert_eq!(key.baileys(), "120363000000000001@g.us::15551234567::3");
        assert_eq!(SenderKeyAddress::from_baileys(&key.baileys(), &lids).unwrap().engine(), engine);
        assert_eq!(baileys_file_name("sender-key", &key.baileys()), "sender-key-120363000000000001@g.us--15551234567--3.json");
        assert_eq!(baileys_file_name("app-state-sync-key", "ab/c+="), "app-state-sync-key-ab__c+=.json");
    }
}
