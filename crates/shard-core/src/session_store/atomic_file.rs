//! Crash-safe file writes: a reader sees the old file or the new one, never half of one.

use crate::blocking::off_the_workers;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Creates `dir` (and parents) readable by the owner only.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    builder.mode(0o700);
    builder.create(dir)
}

/// Writes `bytes` to `path` atomically: temporary file in the same folder, fsync, rename.
/// The file is created with mode 0600 (session keys are secrets).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = parent_of(path)?;
    off_the_workers(|| {
        replace_via_temp(path, bytes, true)?;
        // Make the rename itself durable.
        File::open(dir)?.sync_all()
    })
}

/// Like [`write_atomic`] without the two fsyncs, for state rewritten after almost every message
/// (Signal sessions, sender keys). A reader still sees the old file or the new one, and the new
/// one survives a crash or kill of the process (it is in the page cache); only a power loss or
/// kernel crash may bring back an earlier version. That is the durability of whatsapp-rust's own
/// SQLite store (WAL with `synchronous = NORMAL`), and Baileys' files have none at all. The
/// fsyncs were about a fifth of the CPU of each inbound message (BENCHMARKS.md).
pub fn replace_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    replace_via_temp(path, bytes, false)
}

/// Writes several files of one folder, each atomically (temporary file, rename), and makes
/// them all durable with one sync of the file system instead of two fsyncs per file: a new
/// device stores 812 pre-keys at once, and per-file fsyncs made that most of its pairing time.
/// On an error, the files before it are written (each whole) and the rest are not.
pub fn write_atomic_batch(dir: &Path, files: &[(PathBuf, Vec<u8>)]) -> io::Result<()> {
    for (path, bytes) in files {
        if parent_of(path)? != dir {
            return Err(io::Error::other(format!("{} is not in {}", path.display(), dir.display())));
        }
        replace_via_temp(path, bytes, false)?;
    }
    off_the_workers(|| sync_file_system(dir))
}

fn parent_of(path: &Path) -> io::Result<&Path> {
    path.parent().ok_or_else(|| io::Error::other("path has no parent folder"))
}

/// Temporary file in the same folder (mode 0600), optionally fsynced, renamed over `path`.
fn replace_via_temp(path: &Path, bytes: &[u8], fsync: bool) -> io::Result<()> {
    let dir = parent_of(path)?;
    let name = path.file_name().ok_or_else(|| io::Error::other("path has no file name"))?;
    // Unique per process and call, so concurrent writers of one key never share a temp file.
    let tmp = dir.join(format!(".{}.{}.{}.tmp", name.to_string_lossy(), std::process::id(), TMP_COUNTER.fetch_add(1, Ordering::Relaxed)));
    let result = (|| {
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        options.mode(0o600);
        let mut file = options.open(&tmp)?;
        file.write_all(bytes)?;
        if fsync {
            file.sync_all()?;
        }
        drop(file);
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Flushes the data and metadata of every file on `dir`'s file system (Linux `syncfs`).
#[cfg(target_os = "linux")]
fn sync_file_system(dir: &Path) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let folder = File::open(dir)?;
    // SAFETY: `syncfs` only reads the descriptor, which `folder` keeps open for the call.
    if unsafe { libc::syncfs(folder.as_raw_fd()) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Elsewhere: `sync` flushes every file system, which covers this one.
#[cfg(all(unix, not(target_os = "linux")))]
fn sync_file_system(_dir: &Path) -> io::Result<()> {
    // SAFETY: `sync` takes no arguments and cannot fail.
    unsafe { libc::sync() };
    Ok(())
}

/// Removes `path`; a file that is already gone is fine.
pub fn remove_if_exists(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Whether `name` is one of `replace_via_temp`'s temporary files (`.<file>.<pid>.<n>.tmp`).
pub fn is_temp_file(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(".tmp")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_for_the_disk_does_not_stall_the_other_tasks_of_a_worker() {
        // One worker: if the wait blocked it, the ticker could not run meanwhile.
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_time().build().unwrap();
        runtime.block_on(async {
            let ticks = std::sync::Arc::new(AtomicU64::new(0));
            let ticker = {
                let ticks = ticks.clone();
                tokio::spawn(async move {
                    loop {
                        ticks.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                    }
                })
            };
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            let ticked = tokio::spawn({
                let ticks = ticks.clone();
                async move {
                    let before = ticks.load(Ordering::Relaxed);
                    off_the_workers(|| std::thread::sleep(std::time::Duration::from_millis(300)));
                    ticks.load(Ordering::Relaxed) - before
                }
            })
            .await
            .unwrap();
            ticker.abort();
            assert!(ticked >= 20, "the ticker ran {ticked} times during a 300 ms wait");
        });
    }

    #[test]
    fn writes_private_files_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("a/b");
        create_private_dir(&sub).unwrap();
        let file = sub.join("creds.json");
        write_atomic(&file, b"one").unwrap();
        write_atomic(&file, b"two").unwrap();
        assert_eq!(fs::read(&file).unwrap(), b"two");
        assert_eq!(fs::read_dir(&sub).unwrap().count(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
            assert_eq!(fs::metadata(&sub).unwrap().permissions().mode() & 0o777, 0o700);
        }
        remove_if_exists(&file).unwrap();
        remove_if_exists(&file).unwrap();
    }

    #[test]
    fn an_unsynced_replace_is_still_whole_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("session-1.0.json");
        replace_atomic(&file, b"first").unwrap();
        replace_atomic(&file, b"second").unwrap();
        assert_eq!(fs::read(&file).unwrap(), b"second");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary files left");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
        }
        assert!(replace_atomic(&dir.path().join("missing/session-2.0.json"), b"x").is_err());
    }

    #[test]
    fn a_batch_writes_every_file_whole_and_refuses_paths_outside_its_folder() {
        let dir = tempfile::tempdir().unwrap();
        let files: Vec<_> =
            (0..20).map(|i| (dir.path().join(format!("pre-key-{i}.json")), format!("{{\"n\":{i}}}").into_bytes())).collect();
        write_atomic_batch(dir.path(), &files).unwrap();
        for (path, bytes) in &files {
            assert_eq!(&fs::read(path).unwrap(), bytes);
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                assert_eq!(fs::metadata(path).unwrap().permissions().mode() & 0o777, 0o600);
            }
        }
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 20, "no temporary files left");

        let elsewhere = tempfile::tempdir().unwrap();
        let stray = vec![(elsewhere.path().join("pre-key-1.json"), b"x".to_vec())];
        assert!(write_atomic_batch(dir.path(), &stray).is_err());
        assert!(!elsewhere.path().join("pre-key-1.json").exists());
    }
}
