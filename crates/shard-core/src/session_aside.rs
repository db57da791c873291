//! Session folders are never deleted by this package: a folder that must make way (a
//! corrupt one, one cleared by `recreateShard`, one WhatsApp logged out) is moved into a
//! bin next to the sessions, `<session>/<bin>/<id>-<ms>/`, where the user can inspect or
//! restore it.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::session_store::create_private_dir;

/// Unreadable `creds.json` (`validateAndCleanSession`).
pub const CORRUPT_BIN: &str = ".corrupt";
/// `recreateShard({ clearSession: true })`.
pub const CLEARED_BIN: &str = ".cleared";
/// Logged out by WhatsApp or by `sock.logout()`.
pub const LOGGED_OUT_BIN: &str = ".logged-out";

/// Moves `dir` to `<root>/<bin>/<name>-<ms since epoch>/` and returns the new path.
pub fn move_aside(root: &Path, dir: &Path, bin: &str) -> io::Result<PathBuf> {
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "session".into());
    let stamp = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    let bin_dir = root.join(bin);
    create_private_dir(&bin_dir)?;
    let mut target = bin_dir.join(format!("{name}-{stamp}"));
    // Two moves within one millisecond (a test, a fast loop) must not collide.
    let mut n = 1;
    while target.exists() {
        target = bin_dir.join(format!("{name}-{stamp}-{n}"));
        n += 1;
    }
    std::fs::rename(dir, &target)?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_keep_every_file_and_never_collide() {
        let root = tempfile::tempdir().unwrap();
        let mut moved = Vec::new();
        for i in 0..3 {
            let dir = root.path().join("s1");
            std::fs::create_dir(&dir).unwrap();
            std::fs::write(dir.join("creds.json"), format!("{i}")).unwrap();
            moved.push(move_aside(root.path(), &dir, LOGGED_OUT_BIN).unwrap());
            assert!(!dir.exists());
        }
        for (i, path) in moved.iter().enumerate() {
            assert_eq!(std::fs::read_to_string(path.join("creds.json")).unwrap(), i.to_string());
        }
    }
}
