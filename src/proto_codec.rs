//! Baileys' `proto` namespace, for `lib/baileys/proto.js`: WhatsApp's message types and enums
//! (from the engine's schema), and encoding / decoding any message type the way
//! `encodeProtoMessage` / `decodeProtoMessage` do for `Message`.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use shard_core::{baileys_to_proto, proto_to_baileys};

use crate::errors::{self as js, invalid_argument, js_error};
use crate::js_to_bvalue::JsInput;
use crate::js_value::JsBValue;

#[napi(object)]
pub struct ProtoEnumValue {
    pub name: String,
    pub number: i32,
}

/// One enum by its path without the package, e.g. `Message.ProtocolMessage.Type`.
#[napi(object)]
pub struct ProtoEnum {
    pub path: String,
    pub values: Vec<ProtoEnumValue>,
}

#[napi(object)]
pub struct ProtoSchema {
    /// Message types by path without the package, e.g. `Message.ImageMessage`.
    pub messages: Vec<String>,
    pub enums: Vec<ProtoEnum>,
}

/// Every message type and enum of WhatsApp's schema.
#[napi(catch_unwind)]
pub fn proto_schema() -> js::Result<ProtoSchema> {
    let (messages, enums) = proto_to_baileys::whatsapp_schema().map_err(|e| js_error(invalid_argument(e.to_string())))?;
    let enums = enums
        .into_iter()
        .map(|(path, values)| ProtoEnum {
            path,
            values: values.into_iter().map(|(name, number)| ProtoEnumValue { name, number }).collect(),
        })
        .collect();
    Ok(ProtoSchema { messages, enums })
}

/// `proto.<type>.encode(message).finish()`: a Baileys-shaped object → protobuf bytes.
#[napi(ts_args_type = "typePath: string, message: Record<string, any>", catch_unwind)]
pub fn encode_proto(type_path: String, value: JsInput) -> js::Result<Buffer> {
    baileys_to_proto::encode(&proto_to_baileys::whatsapp_type(&type_path), &value.0)
        .map(Buffer::from)
        .map_err(|e| js_error(invalid_argument(format!("proto.{type_path}: {e}"))))
}

/// `proto.<type>.decode(bytes)`: protobuf bytes → the object Baileys' decoder gives.
#[napi(ts_return_type = "Record<string, any>", catch_unwind)]
pub fn decode_proto(type_path: String, bytes: Buffer) -> js::Result<JsBValue> {
    proto_to_baileys::decode(&proto_to_baileys::whatsapp_type(&type_path), &bytes)
        .map(JsBValue)
        .map_err(|e| js_error(invalid_argument(format!("proto.{type_path}: {e}"))))
}
