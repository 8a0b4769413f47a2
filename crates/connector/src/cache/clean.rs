//! When the cache's integrity check runs. `PRAGMA quick_check` reads the whole file: half the CPU of a
//! no-change resync at 50,000 events. It is needed only when the file may not be as this app left it:
//! after an unclean shutdown (a write-ahead log left behind, or a file changed since the last clean
//! close), after an upgrade (another version wrote it last), or when nobody vouches for it (first
//! open, a stamp missing or unreadable). A clean close writes a stamp next to the database — the
//! app's version and the file's size and modification time once the last connection has closed and
//! checkpointed — and an open that finds the file exactly as stamped skips the check. Anything else
//! runs it before the first write, as always.

use std::path::{Path, PathBuf};

/// The stamp's file name next to the database.
fn stamp_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".clean");
    PathBuf::from(name)
}

/// The database's state as the stamp records it, if it is at rest: no write-ahead log with content
/// (one exists while any connection is open, and after a crash).
fn state_of(db: &Path) -> Option<String> {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    if std::fs::metadata(PathBuf::from(wal)).is_ok_and(|m| m.len() > 0) {
        return None;
    }
    let meta = std::fs::metadata(db).ok()?;
    let mtime = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_nanos();
    Some(format!(
        "calendar-connector {} size {} mtime {mtime}\n",
        env!("CARGO_PKG_VERSION"),
        meta.len()
    ))
}

/// Whether the integrity check must run before this open uses the database.
pub(crate) fn check_needed(db: &Path) -> bool {
    let Ok(stamp) = std::fs::read_to_string(stamp_path(db)) else {
        return true;
    };
    state_of(db).is_none_or(|now| now != stamp)
}

/// Writes the stamp when dropped, which happens after the connection (declared before it in
/// [`super::Cache`]) has closed: only the last connection's close leaves the file at rest, so only it
/// stamps; a close that leaves a log behind stamps nothing.
pub(crate) struct StampOnClose {
    db: PathBuf,
}

impl StampOnClose {
    /// For the database at `db`. Opening removes no stamp: a file that changes without a clean
    /// close no longer matches it.
    pub(crate) fn new(db: &Path) -> StampOnClose {
        StampOnClose {
            db: db.to_path_buf(),
        }
    }
}

impl Drop for StampOnClose {
    fn drop(&mut self) {
        match state_of(&self.db) {
            Some(state) => {
                let _ = std::fs::write(stamp_path(&self.db), state);
            }
            None => {
                let _ = std::fs::remove_file(stamp_path(&self.db));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_changed_after_the_clean_close_or_with_a_log_left_needs_the_check() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("cache.sqlite3");
        std::fs::write(&db, b"0123456789").unwrap();
        assert!(check_needed(&db), "no stamp: nobody vouches for it");
        drop(StampOnClose::new(&db));
        assert!(!check_needed(&db), "exactly as stamped");
        // Another size (a write that happened without a clean close).
        std::fs::write(&db, b"01234567890").unwrap();
        assert!(check_needed(&db));
        drop(StampOnClose::new(&db));
        assert!(!check_needed(&db));
        // A write-ahead log left behind (a crash, or a connection still open).
        std::fs::write(dir.path().join("cache.sqlite3-wal"), b"log").unwrap();
        assert!(check_needed(&db));
        drop(StampOnClose::new(&db));
        assert!(
            !stamp_path(&db).exists(),
            "a close that leaves a log stamps nothing"
        );
        std::fs::remove_file(dir.path().join("cache.sqlite3-wal")).unwrap();
        assert!(check_needed(&db), "still no stamp");
        // Another version's stamp.
        drop(StampOnClose::new(&db));
        let other = std::fs::read_to_string(stamp_path(&db))
            .unwrap()
            .replace(env!("CARGO_PKG_VERSION"), "0.0.0-older");
        std::fs::write(stamp_path(&db), other).unwrap();
        assert!(check_needed(&db), "after an upgrade");
    }
}
