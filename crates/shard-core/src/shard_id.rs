//! Shard ids name folders on disk, so only plain names are accepted.

use crate::error::{ErrorCode, Result, ShardError};

pub const MAX_SHARD_ID_LEN: usize = 128;

/// Checks that `id` is a plain folder name: not empty, at most 128 characters, no path
/// separators, no `.`/`..`, no control characters. Anything else could write outside the
/// session folder or make a folder the user cannot see.
pub fn validate_shard_id(id: &str) -> Result<()> {
    let problem = if id.is_empty() {
        Some("it is empty")
    } else if id.chars().count() > MAX_SHARD_ID_LEN {
        Some("it is longer than 128 characters")
    } else if id == "." || id == ".." {
        Some("it is a relative path")
    } else if id.starts_with('.') {
        // Leading dots are hidden folders, and `.corrupt` etc. are ours.
        Some("it starts with '.'")
    } else if id.contains(['/', '\\']) {
        Some("it contains a path separator")
    } else if id.chars().any(char::is_control) {
        Some("it contains a control character")
    } else {
        None
    };
    match problem {
        None => Ok(()),
        Some(why) => {
            Err(ShardError::new(ErrorCode::CreateFailed, format!("invalid shard id {id:?}: {why}; use a plain name such as \"bot-1\"")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_names() {
        for id in ["shard-1", "main_bot", "Bot 7", "62812345678", "ü-bot"] {
            validate_shard_id(id).unwrap();
        }
    }

    #[test]
    fn refuses_paths_and_junk() {
        let long = "x".repeat(129);
        for id in ["", "..", ".", "../x", "a/b", "a\\b", "tab\there", "nl\n", ".hidden", long.as_str()] {
            let err = validate_shard_id(id).unwrap_err();
            assert_eq!(err.code, ErrorCode::CreateFailed, "{id:?}");
        }
    }
}
