//! The engine's pending-inbound records: a received message that is decrypted but whose
//! handlers have not finished yet (`inbound_gate`). The engine writes the record before it
//! saves the ratchet that decrypted the message, and removes it once the handlers are done,
//! so after a crash the message the server delivers again (which the ratchet can no longer
//! decrypt) is replayed from here. In the session folder, one file per record (`rs-pending-inbound-*.json`).

use std::collections::HashMap;

use serde_json::{json, Value};

use crate::buffer_json;

/// `(chat, sender, id)`: stanza ids are unique only within a chat and sender.
pub type RecordKey = (String, String, String);

/// The records in memory, with when each was written (unix seconds).
#[derive(Default)]
pub struct PendingInbound {
    records: HashMap<RecordKey, (Vec<u8>, i64)>,
}

impl PendingInbound {
    /// The key of a record's file name (the file holds the real key too).
    pub fn file_key((chat, sender, id): &RecordKey) -> String {
        format!("{chat} {sender} {id}")
    }

    /// The `value` of a record's file.
    pub fn file_value(key: &RecordKey, message: &[u8], written: i64) -> Value {
        json!({ "chat": key.0, "sender": key.1, "id": key.2, "written": written, "message": buffer_json::encode(message) })
    }

    /// Reads a record's file `value` back.
    pub fn parse(value: &Value) -> Result<(RecordKey, Vec<u8>, i64), String> {
        let text = |field: &str| value.get(field).and_then(Value::as_str).map(str::to_owned).ok_or_else(|| format!("no {field}"));
        let key = (text("chat")?, text("sender")?, text("id")?);
        let message = value.get("message").and_then(buffer_json::decode).ok_or("message is not a Buffer")?;
        let written = value.get("written").and_then(Value::as_i64).unwrap_or(0);
        Ok((key, message, written))
    }

    pub fn insert(&mut self, key: RecordKey, message: Vec<u8>, written: i64) {
        self.records.insert(key, (message, written));
    }

    pub fn get(&self, key: &RecordKey) -> Option<Vec<u8>> {
        self.records.get(key).map(|(message, _)| message.clone())
    }

    pub fn remove(&mut self, key: &RecordKey) -> bool {
        self.records.remove(key).is_some()
    }

    /// Removes and returns the keys of the records written before `cutoff` (unix seconds).
    pub fn remove_older_than(&mut self, cutoff: i64) -> Vec<RecordKey> {
        let old: Vec<RecordKey> = self.records.iter().filter(|(_, (_, written))| *written < cutoff).map(|(k, _)| k.clone()).collect();
        for key in &old {
            self.records.remove(key);
        }
        old
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_reads_back_as_written_and_expires() {
        let key = ("1@s.whatsapp.net".to_owned(), "1:2@s.whatsapp.net".to_owned(), "ABC".to_owned());
        let value = PendingInbound::file_value(&key, &[1, 2, 3], 100);
        assert_eq!(PendingInbound::parse(&value).unwrap(), (key.clone(), vec![1, 2, 3], 100));
        assert!(PendingInbound::parse(&json!({ "chat": "x" })).is_err());
        let mut records = PendingInbound::default();
        records.insert(key.clone(), vec![1], 100);
        assert_eq!(records.remove_older_than(100), Vec::<RecordKey>::new());
        assert_eq!(records.get(&key), Some(vec![1]));
        assert_eq!(records.remove_older_than(101), vec![key.clone()]);
        assert_eq!(records.get(&key), None);
    }
}
