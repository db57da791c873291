//! One owner per session folder. Two engines writing one folder (two processes, or two managers
//! in one process, pointed at the same sessions) corrupt it: each overwrites the other's keys
//! and counters, and WhatsApp answers the second connection with 440. A shard holds an
//! exclusive advisory lock (`flock` on Unix, `LockFileEx` on Windows, through std) on a file in
//! its folder from before it opens the folder until its engine is down. The lock goes with the
//! process: a crashed owner leaves no stale lock behind. Baileys takes no lock, so it is not
//! kept out.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Read;
use std::path::Path;

use super::create_private_dir;

/// The lock file inside a session folder (Baileys ignores it; it holds the owner's pid).
pub const LOCK_FILE: &str = ".baileys-shard.lock";

/// Held while a shard uses its folder; dropping it releases the folder.
#[derive(Debug)]
pub struct SessionLock {
    _file: File,
}

#[derive(Debug)]
pub enum LockError {
    /// Another owner holds the folder; its pid, when it wrote one.
    Held {
        pid: Option<u32>,
    },
    Io(std::io::Error),
}

impl SessionLock {
    /// Takes `dir` (creating it, private, if missing) or says who holds it. Never waits.
    pub fn acquire(dir: &Path) -> Result<SessionLock, LockError> {
        create_private_dir(dir).map_err(LockError::Io)?;
        let path = dir.join(LOCK_FILE);
        // The lock is held through a read-only handle: a handle open for writing for as long as
        // the shard runs would keep the file system from being remounted read-only.
        let mut create = OpenOptions::new();
        create.write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut create, 0o600);
        drop(create.open(&path).map_err(LockError::Io)?);
        let mut file = File::open(&path).map_err(LockError::Io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                return Err(LockError::Held { pid: text.trim().parse().ok() });
            }
            Err(TryLockError::Error(e)) => return Err(LockError::Io(e)),
        }
        // Only for the message a second owner shows; the lock itself is what counts.
        let _ = std::fs::write(&path, std::process::id().to_string());
        Ok(SessionLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_has_one_owner_at_a_time() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("shard");
        let first = SessionLock::acquire(&dir).unwrap();
        // A second open of the file is a second owner, even in this process.
        match SessionLock::acquire(&dir) {
            Err(LockError::Held { pid }) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("expected the folder to be held, got {other:?}"),
        }
        drop(first);
        let _again = SessionLock::acquire(&dir).expect("released when the owner lets go");
    }
}
