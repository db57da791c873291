//! `sock.authState`: a read-only view of a shard's session folder in Baileys' own terms —
//! `creds.json` and the `${type}-${id}.json` key files of `useMultiFileAuthState` — read
//! straight from the folder, which the file store always keeps in that layout.

use std::fs;
use std::path::Path;

use serde_json::Value;

use super::baileys_address::baileys_file_name;
use super::CREDS_FILE;
use crate::error::{ErrorCode, Result, ShardError};

/// The key types of Baileys 6.7.21's `SignalDataTypeMap`.
pub const KEY_TYPES: [&str; 6] = ["pre-key", "session", "sender-key", "sender-key-memory", "app-state-sync-key", "app-state-sync-version"];

/// `creds.json` (BufferJSON form), or `None` while the folder has none.
pub fn read_creds(dir: &Path) -> Result<Option<Value>> {
    read_json(&dir.join(CREDS_FILE))
}

/// `keys.get(type, ids)`: the stored value of each id that has one (BufferJSON form).
pub fn read_keys(dir: &Path, kind: &str, ids: &[String]) -> Result<Vec<(String, Value)>> {
    if !KEY_TYPES.contains(&kind) {
        return Err(ShardError::new(ErrorCode::InvalidArgument, format!("type must be one of {}, got {kind:?}", KEY_TYPES.join(", "))));
    }
    let mut found = Vec::new();
    for id in ids {
        if let Some(value) = read_json(&dir.join(baileys_file_name(kind, id)))? {
            found.push((id.clone(), value));
        }
    }
    Ok(found)
}

/// A missing file is `None`, as in Baileys; one that cannot be read or parsed is an error
/// (never silently "no key": a caller could act on that and overwrite a session).
fn read_json(path: &Path) -> Result<Option<Value>> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(ShardError::new(ErrorCode::LoadFailed, format!("cannot read {}: {e}", path.display()))),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| ShardError::new(ErrorCode::LoadFailed, format!("{} is not valid JSON: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_read_by_baileys_file_name_and_missing_ones_left_out() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("session-15551234567.3.json"), br#"{"a":1}"#).unwrap();
        fs::write(dir.path().join("sender-key-g@g.us--15551234567--3.json"), br#"{"b":2}"#).unwrap();
        let ids = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let sessions = read_keys(dir.path(), "session", &ids(&["15551234567.3", "15550000000.0"])).unwrap();
        assert_eq!(sessions, vec![("15551234567.3".to_owned(), serde_json::json!({"a": 1}))]);
        let keys = read_keys(dir.path(), "sender-key", &ids(&["g@g.us::15551234567::3"])).unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(read_creds(dir.path()).unwrap(), None);
    }

    #[test]
    fn an_unknown_type_or_a_corrupt_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_keys(dir.path(), "cookies", &[]).unwrap_err().code, ErrorCode::InvalidArgument);
        fs::write(dir.path().join("pre-key-1.json"), b"{not json").unwrap();
        assert_eq!(read_keys(dir.path(), "pre-key", &["1".to_owned()]).unwrap_err().code, ErrorCode::LoadFailed);
    }
}
