//! Errors with a stable code, mirrored one-to-one by the JS `ShardError`.

use std::fmt;

/// The stable error codes of the original baileys-shard README, plus a few for input checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    CreateFailed,
    RecreateFailed,
    CredsSaveFailed,
    PairingFailed,
    ShardNotFound,
    ConnectFailed,
    StopFailed,
    LoadFailed,
    NoSessions,
    /// A call on a socket whose shard is not running (stopped, or not connected yet).
    NotConnected,
    /// An argument the caller passed is malformed.
    InvalidArgument,
    /// Downloaded media does not verify (MAC or hashes): it was altered, or the key is wrong.
    MediaInvalid,
    /// Media could not be read, uploaded or downloaded.
    MediaFailed,
    /// A Baileys call or option this side cannot carry out; the message says why.
    NotSupported,
    /// The session folder is in use by another shard (another manager or process).
    SessionLocked,
    /// A file of the session folder could not be used and was left out (the file is kept).
    SessionDamaged,
    /// A received message could not be decrypted (the sender is asked to send it again).
    DecodeFailed,
    /// The account's app state (archives, pins, contacts, labels, ...) could not be sent, or what
    /// the server sent could not be used (a MAC or the LTHash did not verify, an unknown
    /// collection); the shard stays connected and its session is kept.
    AppStateFailed,
    /// A bug of this package (a panic caught before it could take Node down).
    Internal,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 19] = [
        ErrorCode::CreateFailed,
        ErrorCode::RecreateFailed,
        ErrorCode::CredsSaveFailed,
        ErrorCode::PairingFailed,
        ErrorCode::ShardNotFound,
        ErrorCode::ConnectFailed,
        ErrorCode::StopFailed,
        ErrorCode::LoadFailed,
        ErrorCode::NoSessions,
        ErrorCode::NotConnected,
        ErrorCode::InvalidArgument,
        ErrorCode::MediaInvalid,
        ErrorCode::MediaFailed,
        ErrorCode::NotSupported,
        ErrorCode::SessionLocked,
        ErrorCode::SessionDamaged,
        ErrorCode::DecodeFailed,
        ErrorCode::AppStateFailed,
        ErrorCode::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::CreateFailed => "CREATE_FAILED",
            ErrorCode::RecreateFailed => "RECREATE_FAILED",
            ErrorCode::CredsSaveFailed => "CREDS_SAVE_FAILED",
            ErrorCode::PairingFailed => "PAIRING_FAILED",
            ErrorCode::ShardNotFound => "SHARD_NOT_FOUND",
            ErrorCode::ConnectFailed => "CONNECT_FAILED",
            ErrorCode::StopFailed => "STOP_FAILED",
            ErrorCode::LoadFailed => "LOAD_FAILED",
            ErrorCode::NoSessions => "NO_SESSIONS",
            ErrorCode::NotConnected => "NOT_CONNECTED",
            ErrorCode::InvalidArgument => "INVALID_ARGUMENT",
            ErrorCode::MediaInvalid => "MEDIA_INVALID",
            ErrorCode::MediaFailed => "MEDIA_FAILED",
            ErrorCode::NotSupported => "NOT_SUPPORTED",
            ErrorCode::SessionLocked => "SESSION_LOCKED",
            ErrorCode::SessionDamaged => "SESSION_DAMAGED",
            ErrorCode::DecodeFailed => "DECODE_FAILED",
            ErrorCode::AppStateFailed => "APP_STATE_FAILED",
            ErrorCode::Internal => "INTERNAL",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error the user can act on: a stable `code` and a sentence saying what went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardError {
    pub code: ErrorCode,
    pub message: String,
    /// The shard concerned, when there is one (the JS layer emits `shard.error` with it).
    pub shard_id: Option<String>,
}

/// What a caught panic said (its `&str` or `String` payload).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_owned())
}

impl ShardError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), shard_id: None }
    }

    pub fn for_shard(mut self, id: &str) -> Self {
        self.shard_id = Some(id.to_owned());
        self
    }
}

impl fmt::Display for ShardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ShardError {}

pub type Result<T, E = ShardError> = std::result::Result<T, E>;
