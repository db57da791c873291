//! `creds.json` in Baileys' layout ⇄ whatsapp-rust's `Device`.
//!
//! Baileys owns the format; we write every field it reads and keep the fields we do not
//! model (e.g. `processedHistoryMessages`) exactly as they were. Engine-only state lives in a
//! side file (`rs-device.json`) that Baileys ignores.

use std::sync::Arc;

use serde_json::{json, Map, Value};
use wacore::libsignal::protocol::{KeyPair, PrivateKey, PublicKey};
use wacore::store::Device;
use wacore_binary::Jid;

use crate::buffer_json::{self, base64, decode_bytes_or_base64};

/// A Baileys key pair: `{ private, public }` with 32-byte keys (no 0x05 prefix).
fn key_pair_json(kp: &KeyPair) -> Value {
    json!({
        "private": buffer_json::encode(kp.private_key.serialize()),
        "public": buffer_json::encode(kp.public_key.public_key_bytes()),
    })
}

fn parse_key_pair(v: &Value) -> Result<KeyPair, String> {
    let private = v.get("private").and_then(buffer_json::decode).ok_or("missing private key")?;
    let public = v.get("public").and_then(buffer_json::decode).ok_or("missing public key")?;
    // Baileys keeps 32-byte public keys; some tools write the 33-byte 0x05-prefixed form.
    let public = match public.len() {
        33 if public[0] == 5 => public[1..].to_vec(),
        _ => public,
    };
    let private = PrivateKey::deserialize(&private).map_err(|e| format!("bad private key: {e}"))?;
    let public = PublicKey::from_djb_public_key_bytes(&public).map_err(|e| format!("bad public key: {e}"))?;
    Ok(KeyPair::new(public, private))
}

/// The Baileys `creds.json` object for `device`. `previous` is the file as it was, so fields
/// Baileys owns and we do not model survive our writes.
pub fn device_to_creds(device: &Device, previous: Option<&Value>) -> Value {
    let mut creds: Map<String, Value> = previous.and_then(Value::as_object).cloned().unwrap_or_default();
    let mut set = |k: &str, v: Value| {
        creds.insert(k.to_owned(), v);
    };
    set("noiseKey", key_pair_json(&device.noise_key));
    set("signedIdentityKey", key_pair_json(&device.identity_key));
    set(
        "signedPreKey",
        json!({
            "keyPair": key_pair_json(&device.signed_pre_key),
            "signature": buffer_json::encode(&device.signed_pre_key_signature),
            "keyId": device.signed_pre_key_id,
        }),
    );
    set("registrationId", json!(device.registration_id));
    set("advSecretKey", json!(base64(&device.adv_secret_key)));
    set("nextPreKeyId", json!(device.next_pre_key_id));
    set("firstUnuploadedPreKeyId", json!(device.first_unupload_pre_key_id));
    creds.entry("pairingEphemeralKeyPair").or_insert_with(|| key_pair_json(&KeyPair::generate(&mut rand::rng())));
    creds.entry("processedHistoryMessages").or_insert_with(|| json!([]));
    creds.entry("accountSyncCounter").or_insert_with(|| json!(0));
    creds.entry("accountSettings").or_insert_with(|| json!({ "unarchiveChats": false }));
    creds.entry("registered").or_insert(Value::Bool(false));
    if let Some(pn) = &device.pn {
        let mut me = Map::new();
        me.insert("id".into(), json!(pn.to_string()));
        if !device.push_name.is_empty() {
            me.insert("name".into(), json!(device.push_name));
        }
        if let Some(lid) = &device.lid {
            me.insert("lid".into(), json!(lid.to_string()));
        }
        creds.insert("me".into(), Value::Object(me));
    }
    if let Some(account) = &device.account {
        // Baileys writes this protobuf through its toJSON: bytes as plain base64 strings.
        let field = |b: &Option<Vec<u8>>| b.as_deref().map(base64).map(Value::String).unwrap_or(Value::Null);
        creds.insert(
            "account".into(),
            json!({
                "details": field(&account.details),
                "accountSignatureKey": field(&account.account_signature_key),
                "accountSignature": field(&account.account_signature),
                "deviceSignature": field(&account.device_signature),
            }),
        );
        if let Some(key) = &account.account_signature_key {
            let name = device.lid.as_ref().or(device.pn.as_ref()).map(|j| j.to_string()).unwrap_or_default();
            let mut prefixed = Vec::with_capacity(33);
            prefixed.push(5u8);
            prefixed.extend_from_slice(key);
            creds.insert(
                "signalIdentities".into(),
                json!([{ "identifier": { "name": name, "deviceId": 0 }, "identifierKey": buffer_json::encode(&prefixed) }]),
            );
        }
    }
    if let Some(routing) = &device.edge_routing_info {
        creds.insert("routingInfo".into(), buffer_json::encode(routing));
    }
    Value::Object(creds)
}

/// Applies the fields of a Baileys `creds.json` onto `device`. `creds.json` is authoritative
/// for everything it holds: Baileys may have rotated keys since our side file was written.
pub fn apply_creds(creds: &Value, device: &mut Device) -> Result<(), String> {
    let obj = creds.as_object().ok_or("creds.json is not a JSON object")?;
    let get = |k: &str| obj.get(k).filter(|v| !v.is_null());
    device.noise_key = parse_key_pair(get("noiseKey").ok_or("missing noiseKey")?).map_err(|e| format!("noiseKey: {e}"))?;
    device.identity_key =
        parse_key_pair(get("signedIdentityKey").ok_or("missing signedIdentityKey")?).map_err(|e| format!("signedIdentityKey: {e}"))?;
    let spk = get("signedPreKey").ok_or("missing signedPreKey")?;
    device.signed_pre_key =
        parse_key_pair(spk.get("keyPair").ok_or("missing signedPreKey.keyPair")?).map_err(|e| format!("signedPreKey: {e}"))?;
    let sig = spk.get("signature").and_then(buffer_json::decode).ok_or("missing signedPreKey.signature")?;
    device.signed_pre_key_signature = sig.try_into().map_err(|_| "signedPreKey.signature is not 64 bytes")?;
    device.signed_pre_key_id = spk.get("keyId").and_then(Value::as_u64).ok_or("missing signedPreKey.keyId")? as u32;
    device.registration_id = get("registrationId").and_then(Value::as_u64).ok_or("missing registrationId")? as u32;
    let adv = get("advSecretKey").and_then(decode_bytes_or_base64).ok_or("missing advSecretKey")?;
    device.adv_secret_key = adv.try_into().map_err(|_| "advSecretKey is not 32 bytes")?;
    if let Some(n) = get("nextPreKeyId").and_then(Value::as_u64) {
        device.next_pre_key_id = n as u32;
    }
    if let Some(n) = get("firstUnuploadedPreKeyId").and_then(Value::as_u64) {
        device.first_unupload_pre_key_id = n as u32;
    }
    if let Some(me) = get("me") {
        let id = me.get("id").and_then(Value::as_str).ok_or("me.id missing")?;
        device.pn = Some(id.parse::<Jid>().map_err(|e| format!("me.id {id:?}: {e}"))?);
        if let Some(lid) = me.get("lid").and_then(Value::as_str) {
            device.lid = Some(lid.parse::<Jid>().map_err(|e| format!("me.lid {lid:?}: {e}"))?);
        }
        if let Some(name) = me.get("name").and_then(Value::as_str) {
            device.push_name = name.to_owned();
        }
    }
    if let Some(account) = get("account") {
        let field = |k: &str| account.get(k).and_then(decode_bytes_or_base64);
        device.account = Some(Arc::new(waproto::whatsapp::ADVSignedDeviceIdentity {
            details: field("details"),
            account_signature_key: field("accountSignatureKey"),
            account_signature: field("accountSignature"),
            device_signature: field("deviceSignature"),
        }));
    }
    if let Some(routing) = get("routingInfo").and_then(buffer_json::decode) {
        device.edge_routing_info = Some(routing);
    }
    Ok(())
}

/// True when the side file's device is the same identity as `creds.json` (same noise key).
pub fn same_identity(device: &Device, creds: &Value) -> bool {
    creds
        .get("noiseKey")
        .and_then(|k| k.get("public"))
        .and_then(buffer_json::decode)
        .is_some_and(|public| public == device.noise_key.public_key.public_key_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creds_round_trip_keeps_keys_identity_and_unknown_fields() {
        let mut device = Device::new();
        device.pn = Some("15551234567:3@s.whatsapp.net".parse().unwrap());
        device.lid = Some("99887766:3@lid".parse().unwrap());
        device.push_name = "alice".into();
        device.account = Some(Arc::new(waproto::whatsapp::ADVSignedDeviceIdentity {
            details: Some(vec![1, 2, 3]),
            account_signature_key: Some(vec![7; 32]),
            account_signature: Some(vec![8; 64]),
            device_signature: Some(vec![9; 64]),
        }));
        let previous = json!({ "processedHistoryMessages": [{"key": {"id": "X"}}], "platform": "android" });
        let creds = device_to_creds(&device, Some(&previous));
        assert_eq!(creds["me"]["id"], "15551234567:3@s.whatsapp.net");
        assert_eq!(creds["me"]["lid"], "99887766:3@lid");
        assert_eq!(creds["platform"], "android");
        assert_eq!(creds["processedHistoryMessages"][0]["key"]["id"], "X");
        assert_eq!(creds["noiseKey"]["public"]["type"], "Buffer");
        assert_eq!(creds["account"]["details"], "AQID");

        let text = serde_json::to_string(&creds).unwrap();
        let parsed: Value = serde_json::from_str(&text).unwrap();
        let mut loaded = Device::new();
        apply_creds(&parsed, &mut loaded).unwrap();
        assert_eq!(loaded.noise_key.public_key.public_key_bytes(), device.noise_key.public_key.public_key_bytes());
        assert_eq!(loaded.identity_key.private_key.serialize(), device.identity_key.private_key.serialize());
        assert_eq!(loaded.signed_pre_key_signature, device.signed_pre_key_signature);
        assert_eq!(loaded.registration_id, device.registration_id);
        assert_eq!(loaded.adv_secret_key, device.adv_secret_key);
        assert_eq!(loaded.pn, device.pn);
        assert_eq!(loaded.lid, device.lid);
        assert_eq!(loaded.push_name, "alice");
        assert_eq!(loaded.account.as_ref().unwrap().details, Some(vec![1, 2, 3]));
        assert!(same_identity(&loaded, &parsed));
        assert!(!same_identity(&Device::new(), &parsed));
    }

    #[test]
    fn refuses_creds_with_broken_keys() {
        let creds = device_to_creds(&Device::new(), None);
        let mut broken = creds.clone();
        broken["noiseKey"]["private"] = buffer_json::encode(&[1, 2, 3]);
        assert!(apply_creds(&broken, &mut Device::new()).unwrap_err().contains("noiseKey"));
        let mut missing = creds;
        missing.as_object_mut().unwrap().remove("signedPreKey");
        assert!(apply_creds(&missing, &mut Device::new()).unwrap_err().contains("signedPreKey"));
    }
}
