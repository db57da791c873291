//! Baileys' BufferJSON (`buffer_json`, `BValue::from_buffer_json`), how every key file and
//! every stored message keeps its bytes: arbitrary JSON values and text, and Buffer objects in
//! both forms with bad data. Reading never panics; what `encode` wrote reads back.

use proptest::prelude::*;
use serde_json::Value;
use shard_core::{buffer_json, BValue};

use crate::support::{bounded, buffer_json_value, config, json_value, regressions};

const LIMIT: usize = 4 * 1024 * 1024;

fn read_all(value: Value) -> Result<(), TestCaseError> {
    bounded(LIMIT, move || {
        let _ = buffer_json::decode(&value);
        let _ = buffer_json::decode_bytes_or_base64(&value);
        let _ = BValue::from_buffer_json(&value);
    })
}

proptest! {
    #![proptest_config(config(256, regressions!("buffer_json")))]

    #[test]
    fn arbitrary_json_values_read_without_panic(value in json_value()) {
        read_all(value)?;
    }

    #[test]
    fn buffer_objects_with_any_data_read_without_panic(value in buffer_json_value()) {
        read_all(value)?;
    }

    /// JSON text as it is on disk: whatever parses is read like any value.
    #[test]
    fn arbitrary_json_text_reads_without_panic(text in prop_oneof![
        ".{0,64}",
        r#"\{"type":"Buffer","data":("[A-Za-z0-9+/=]{0,12}"|\[[0-9,\- .e]{0,20}\])\}"#,
    ]) {
        if let Ok(value) = serde_json::from_str::<Value>(&text) {
            read_all(value)?;
        }
    }

    #[test]
    fn what_encode_writes_reads_back(bytes in proptest::collection::vec(any::<u8>(), 0..128)) {
        let encoded = buffer_json::encode(&bytes);
        prop_assert_eq!(buffer_json::decode(&encoded), Some(bytes.clone()));
        prop_assert_eq!(BValue::from_buffer_json(&encoded), BValue::Bytes(bytes.clone()));
        prop_assert_eq!(buffer_json::decode_bytes_or_base64(&Value::String(buffer_json::base64(&bytes))), Some(bytes));
    }
}
