//! Addresses: splitting a `PHONE[:DEVICE]@s.whatsapp.net` or `LID[:DEVICE]@lid` jid, and the
//! device a connection is logged in as. A leaf: it imports nothing from the crate.

/// The device a connection is logged in as.
#[derive(Clone, Debug)]
pub struct DeviceAddr {
    pub phone: String,
    pub device: u16,
}

/// Parses `PHONE[:DEVICE]@s.whatsapp.net` or `LID[:DEVICE]@lid` into (user, device, is_lid).
pub fn split_jid(jid: &str) -> Option<(String, u16, bool)> {
    let (user_part, server) = jid.split_once('@')?;
    let (user, device) = match user_part.split_once(':') {
        Some((u, d)) => (u, d.parse().ok()?),
        None => (user_part, 0),
    };
    let user = user.split('.').next().unwrap_or(user);
    Some((user.to_owned(), device, server == "lid"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jid_splitting() {
        assert_eq!(split_jid("15551234567:2@s.whatsapp.net"), Some(("15551234567".into(), 2, false)));
        assert_eq!(split_jid("123@lid"), Some(("123".into(), 0, true)));
        assert_eq!(split_jid("nonsense"), None);
    }
}
