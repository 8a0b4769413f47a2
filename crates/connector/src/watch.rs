//! Notices what other processes change in the data dir, so that the long-running parts (the daemon's
//! scheduler, the tray agent) can sleep until something happens instead of polling: the window
//! process relinks an account, the CLI links one, the person changes a setting.
//!
//! On Linux this is inotify on the data dir (not recursive, so the log files in `logs/` never wake
//! anyone): a commit to the cache writes its `-wal` file, a settings change renames `settings.json`
//! into place. Events are gathered for [`DEBOUNCE`] and reported once. Elsewhere a light poll of the
//! files' sizes and modification times every [`POLL`] stands in.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::cache::CACHE_FILE;
use crate::settings::SETTINGS_FILE;

/// What changed since the last report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Changes {
    /// The cache (any commit, by any process, this one included).
    pub cache: bool,
    /// `settings.json`.
    pub settings: bool,
    /// The data dir itself was removed or moved away (the person deleted the app's data, or a test
    /// finished): whoever lives on it should stop.
    pub gone: bool,
}

impl Changes {
    /// Anything at all.
    pub fn any(self) -> bool {
        self.cache || self.settings || self.gone
    }

    fn note(&mut self, file_name: &str) {
        // The database and its write-ahead log; not `-shm`, the readers' shared index, which a read
        // may touch (a wake-up that only read would then wake itself again).
        let cache_file = file_name
            .strip_prefix(CACHE_FILE)
            .is_some_and(|rest| rest.is_empty() || rest == "-wal");
        if cache_file {
            self.cache = true;
        } else if file_name == SETTINGS_FILE {
            self.settings = true;
        }
    }
}

/// How long a burst of writes (a sync commits a batch at a time) is gathered into one report.
pub const DEBOUNCE: Duration = Duration::from_millis(200);
/// Where there is no inotify: how often the files are looked at.
pub const POLL: Duration = Duration::from_secs(2);

/// Callback for each report.
pub type OnChange = Arc<dyn Fn(Changes) + Send + Sync>;

/// Watches `data_dir` until `shutdown`, calling `on_change` once per burst of changes.
pub fn spawn(
    data_dir: PathBuf,
    on_change: OnChange,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        #[cfg(target_os = "linux")]
        match inotify_loop(&data_dir, &on_change, &shutdown).await {
            Ok(()) => return,
            Err(e) => tracing::warn!(
                dir = %data_dir.display(),
                "cannot watch the data dir ({e}); looking at it every {} s instead",
                POLL.as_secs()
            ),
        }
        poll_loop(&data_dir, &on_change, &shutdown).await;
    })
}

/// The inotify watches: the data dir itself, and its parent for the data dir's own removal.
#[cfg(target_os = "linux")]
struct Watches {
    dir: inotify::WatchDescriptor,
    parent: Option<(inotify::WatchDescriptor, std::ffi::OsString)>,
}

#[cfg(target_os = "linux")]
fn note(changes: &mut Changes, watches: &Watches, ev: &inotify::Event<std::ffi::OsString>) {
    use inotify::EventMask;
    if let Some((parent, name)) = &watches.parent {
        if ev.wd == *parent {
            // A removal or move in the parent: ours only when it names the data dir.
            if ev.name.as_ref() == Some(name) {
                changes.gone = true;
            }
            return;
        }
    }
    if ev.wd != watches.dir {
        return;
    }
    if ev
        .mask
        .intersects(EventMask::DELETE_SELF | EventMask::MOVE_SELF | EventMask::IGNORED)
    {
        changes.gone = true;
    } else if let Some(name) = ev.name.as_ref().and_then(|n| n.to_str()) {
        changes.note(name);
    }
}

#[cfg(target_os = "linux")]
async fn inotify_loop(
    data_dir: &std::path::Path,
    on_change: &OnChange,
    shutdown: &CancellationToken,
) -> std::io::Result<()> {
    use futures_util::StreamExt;
    use inotify::{Inotify, WatchMask};

    let inotify = Inotify::init()?;
    let dir = inotify.watches().add(
        data_dir,
        WatchMask::MODIFY
            | WatchMask::CLOSE_WRITE
            | WatchMask::MOVED_TO
            | WatchMask::CREATE
            | WatchMask::DELETE_SELF
            | WatchMask::MOVE_SELF,
    )?;
    // The data dir's own DELETE_SELF comes only once nothing inside it is open any more, and the
    // cache is open for as long as this process lives: its removal is seen in the parent instead.
    let parent = match (data_dir.parent(), data_dir.file_name()) {
        (Some(p), Some(name)) => inotify
            .watches()
            .add(
                p,
                WatchMask::DELETE | WatchMask::MOVED_FROM | WatchMask::ONLYDIR,
            )
            .ok()
            .map(|wd| (wd, name.to_owned())),
        _ => None,
    };
    let watches = Watches { dir, parent };
    let mut events = inotify.into_event_stream(vec![0u8; 4096])?;
    loop {
        let mut changes = Changes::default();
        // Wait for the first relevant event…
        while !changes.any() {
            tokio::select! {
                ev = events.next() => match ev {
                    Some(Ok(ev)) => note(&mut changes, &watches, &ev),
                    Some(Err(e)) => return Err(e),
                    None => return Ok(()),
                },
                _ = shutdown.cancelled() => return Ok(()),
            }
        }
        // …then gather the rest of the burst.
        let until = tokio::time::Instant::now() + DEBOUNCE;
        loop {
            tokio::select! {
                ev = events.next() => match ev {
                    Some(Ok(ev)) => note(&mut changes, &watches, &ev),
                    Some(Err(e)) => return Err(e),
                    None => return Ok(()),
                },
                _ = tokio::time::sleep_until(until) => break,
                _ = shutdown.cancelled() => return Ok(()),
            }
        }
        on_change(changes);
        if changes.gone {
            return Ok(());
        }
    }
}

/// (length, modification time) of a file, or nothing when it is absent.
fn stamp(path: &std::path::Path) -> Option<(u64, std::time::SystemTime)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.len(), m.modified().ok()?))
}

async fn poll_loop(data_dir: &std::path::Path, on_change: &OnChange, shutdown: &CancellationToken) {
    let cache = [
        data_dir.join(CACHE_FILE),
        data_dir.join(format!("{CACHE_FILE}-wal")),
    ];
    let settings = data_dir.join(SETTINGS_FILE);
    let look = || {
        (
            cache.iter().map(|p| stamp(p)).collect::<Vec<_>>(),
            stamp(&settings),
        )
    };
    let mut last = look();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = shutdown.cancelled() => return,
        }
        let now = look();
        let changes = Changes {
            cache: now.0 != last.0,
            settings: now.1 != last.1,
            gone: !data_dir.is_dir(),
        };
        last = now;
        if changes.any() {
            on_change(changes);
        }
        if changes.gone {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_settings_write_and_a_cache_commit_are_reported_and_logs_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let stop = CancellationToken::new();
        let task = spawn(
            dir.path().to_owned(),
            Arc::new(move |c| {
                let _ = tx.send(c);
            }),
            stop.clone(),
        );
        // inotify's watch exists once the task ran; give it a moment (the poll fallback needs 2 s).
        tokio::time::sleep(Duration::from_millis(300)).await;
        std::fs::create_dir_all(dir.path().join("logs")).unwrap();
        std::fs::write(dir.path().join("logs/agent.log"), b"line").unwrap();
        std::fs::write(dir.path().join("settings.json.tmp"), b"{}").unwrap();
        std::fs::rename(
            dir.path().join("settings.json.tmp"),
            dir.path().join(SETTINGS_FILE),
        )
        .unwrap();
        let c = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert!(c.settings, "{c:?}");
        assert!(!c.cache, "{c:?}");
        std::fs::write(dir.path().join(format!("{CACHE_FILE}-wal")), b"x").unwrap();
        let c = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert!(c.cache, "{c:?}");
        // Only the log changes now: nothing is reported.
        std::fs::write(dir.path().join("logs/agent.log"), b"more").unwrap();
        assert!(
            tokio::time::timeout(Duration::from_millis(800), rx.recv())
                .await
                .is_err(),
            "a log write woke the watcher"
        );
        // The data dir goes while a file in it is still open (as the cache is): reported once, and
        // the watcher ends.
        let _held = std::fs::File::open(dir.path().join(SETTINGS_FILE)).unwrap();
        drop(dir);
        let c = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert!(c.gone, "{c:?}");
        tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .unwrap()
            .unwrap();
        stop.cancel();
    }
}
