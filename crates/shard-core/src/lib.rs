//! shard-core: the baileys-shard manager without Node.
//!
//! A `ShardManager` runs many WhatsApp sessions ("shards") on whatsapp-rust, each with its
//! session in a Baileys-compatible folder, and reports what happens as `ShardEvent`s.

pub mod app_state_events;
pub mod app_state_ops;
mod baileys_collections;
pub mod baileys_events;
pub mod baileys_to_proto;
pub mod baileys_value;
pub mod binary_node;
mod blocking;
pub mod buffer_json;
pub mod call_events;
pub mod close_reason;
pub mod community_ops;
pub mod config;
pub mod content;
pub mod engine_scope;
pub mod error;
pub mod events;
pub mod group_admin_ops;
pub mod group_events;
pub mod group_ops;
pub mod group_query;
pub mod handshake_gate;
pub mod history_events;
pub mod inbound_gate;
pub mod manager;
pub mod media;
pub mod message_builder;
pub mod newsletter_ops;
pub mod pairing_code;
pub mod peer_data_ops;
pub mod pending_notifications;
pub mod poll_ops;
pub mod privacy_ops;
pub mod profile_events;
pub mod profile_ops;
pub mod proto_to_baileys;
pub mod proxy;
pub mod qr_png;
pub mod receipt_ops;
pub mod recent_keys;
pub mod reconnect;
pub mod relay;
pub mod send_ops;
pub mod server_acks;
pub mod session_aside;
pub mod session_store;
pub mod shard;
pub mod shard_id;
pub mod signal_ops;
pub mod socket_ops;
pub mod stanza_ops;
pub mod thumbnail;
pub mod wa_message;
pub mod ws_dial;

pub use baileys_value::BValue;
pub use config::SocketConfig;
pub use content::MessageContent;
pub use error::{ErrorCode, ShardError};
pub use events::{ConnectionUpdate, EventSink, LoginUpdate, ShardEvent};
pub use manager::{ShardInfo, ShardManager, ShardOptions};
pub use session_store::status::{check_session_status, SessionStatus};
pub use shard::{Shard, ShardStatus, ShardUser};
pub use wa_message::UpsertType;
