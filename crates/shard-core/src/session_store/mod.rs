//! Where a shard's session lives. The file store is the default and keeps Baileys' layout.

mod atomic_file;
pub mod auth_view;
pub mod baileys_address;
pub mod baileys_app_state;
pub mod baileys_sender_key;
pub mod baileys_session;
pub mod creds;
mod file_store;
mod ordered_json;
mod pending_inbound;
pub mod session_lock;
pub mod status;

pub use atomic_file::{create_private_dir, write_atomic};
pub use file_store::{CredsListener, FileStore, CREDS_FILE};
