//! `checkSessionStatus`: is a session folder usable, and is it a paired device?

use std::path::Path;

use serde_json::Value;
use wacore::store::Device;

use super::{creds, CREDS_FILE};

/// `reason` of a folder whose `creds.json` is not valid JSON (the original's wording).
pub const CORRUPT_JSON_REASON: &str = "Corrupt JSON";
/// `reason` of a well-formed folder that was never paired.
pub const NOT_REGISTERED_REASON: &str = "Not registered: the device was never paired";

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SessionStatus {
    pub exists: bool,
    pub registered: bool,
    pub valid: bool,
    pub reason: Option<String>,
}

/// Judges a session folder the way a user needs: `registered` means the folder proves a
/// paired device (`me` and `account` present and well-formed) — not `creds.registered`,
/// which Baileys leaves `false` after a QR login. `valid` means it can log in as it is.
pub fn check_session_status(dir: &Path) -> SessionStatus {
    let path = dir.join(CREDS_FILE);
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(_) => return SessionStatus::default(),
    };
    let not_valid = |registered: bool, reason: String| SessionStatus { exists: true, registered, valid: false, reason: Some(reason) };
    let json: Value = match serde_json::from_slice(&text) {
        Ok(v) => v,
        Err(_) => return not_valid(false, CORRUPT_JSON_REASON.into()),
    };
    let registered = proves_pairing(&json);
    if let Err(e) = creds::apply_creds(&json, &mut Device::new()) {
        return not_valid(registered, format!("Missing required fields: {e}"));
    }
    if !registered {
        return not_valid(false, NOT_REGISTERED_REASON.into());
    }
    SessionStatus { exists: true, registered: true, valid: true, reason: None }
}

fn proves_pairing(creds: &Value) -> bool {
    let me_ok =
        creds.get("me").and_then(|m| m.get("id")).and_then(Value::as_str).is_some_and(|id| id.parse::<wacore_binary::Jid>().is_ok());
    let account_ok = creds.get("account").is_some_and(|a| {
        ["details", "accountSignatureKey", "accountSignature", "deviceSignature"]
            .iter()
            .all(|k| a.get(*k).and_then(crate::buffer_json::decode_bytes_or_base64).is_some_and(|b| !b.is_empty()))
    });
    me_ok && account_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn paired_creds() -> Value {
        let mut device = Device::new();
        device.pn = Some("15551234567:2@s.whatsapp.net".parse().unwrap());
        device.account = Some(Arc::new(waproto::whatsapp::ADVSignedDeviceIdentity {
            details: Some(vec![1]),
            account_signature_key: Some(vec![2; 32]),
            account_signature: Some(vec![3; 64]),
            device_signature: Some(vec![4; 64]),
        }));
        creds::device_to_creds(&device, None)
    }

    #[test]
    fn judges_folders() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(check_session_status(&dir.path().join("nope")), SessionStatus::default());
        assert_eq!(check_session_status(dir.path()), SessionStatus::default());

        std::fs::write(dir.path().join(CREDS_FILE), b"{\"noiseKey\": {").unwrap();
        let s = check_session_status(dir.path());
        assert_eq!((s.exists, s.registered, s.valid, s.reason.as_deref()), (true, false, false, Some("Corrupt JSON")));

        // A QR-paired Baileys session: registered stays false in the file, but it is paired.
        let mut creds = paired_creds();
        assert_eq!(creds["registered"], false);
        std::fs::write(dir.path().join(CREDS_FILE), creds.to_string()).unwrap();
        let s = check_session_status(dir.path());
        assert!(s.exists && s.registered && s.valid, "{s:?}");

        creds.as_object_mut().unwrap().remove("noiseKey");
        std::fs::write(dir.path().join(CREDS_FILE), creds.to_string()).unwrap();
        let s = check_session_status(dir.path());
        assert!(s.registered && !s.valid && s.reason.unwrap().starts_with("Missing required fields"));

        std::fs::write(dir.path().join(CREDS_FILE), creds::device_to_creds(&Device::new(), None).to_string()).unwrap();
        let s = check_session_status(dir.path());
        assert!(s.exists && !s.registered && !s.valid);
    }
}
