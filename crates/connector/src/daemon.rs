//! The per-account scheduler behind `calendar-connector-cli daemon` and the desktop app's tray agent:
//! sync on the interval, back off as rule 7 says (never before Retry-After), never touch an account
//! that needs a relink, and keep the account's one notification in step with its health.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::clock;
use crate::connector::{lock, Connector};
use crate::error::io_err;
use crate::error::{Error, Result};
use crate::notify::{
    decide, left_on_screen, reconnected, ActionHandler, Decision, Health, Notifier, NotifyRecord,
    UserAction, DAY,
};
use crate::sync::Progress;

/// Daemon settings.
#[derive(Clone)]
pub struct DaemonOptions {
    /// Time between syncs of an account.
    pub interval: Duration,
    /// Called when the person clicks "Fix now" (apple_id). The desktop app opens its relink window;
    /// the CLI opens account.apple.com and says which command to run.
    pub on_fix_now: Arc<dyn Fn(&str) + Send + Sync>,
    /// Told about every change in the data dir the daemon's watcher sees (any process's commit to the
    /// cache, a settings write): the desktop agent updates its tray and re-reads its settings.
    pub on_change: Option<crate::watch::OnChange>,
}

/// Holds the data dir's daemon lock for as long as it lives.
pub struct DaemonLock {
    _file: std::fs::File,
}

/// Takes the daemon lock of `data_dir`, or says who holds it. The desktop window process uses it to
/// see whether a tray agent already runs there.
pub fn daemon_lock_at(data_dir: &std::path::Path) -> Result<DaemonLock> {
    let path = data_dir.join("daemon.lock");
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|e| io_err("open", &path, e))?;
    match f.try_lock() {
        Ok(()) => {
            use std::io::{Seek, Write};
            let _ = f.set_len(0);
            let _ = f.seek(std::io::SeekFrom::Start(0));
            let _ = write!(f, "{}", std::process::id());
            Ok(DaemonLock { _file: f })
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let pid = std::fs::read_to_string(&path).unwrap_or_default();
            Err(Error::AlreadyRunning(format!(
                "a Calendar Connector daemon is already running for {} (pid {}); stop it first or use another --data-dir",
                data_dir.display(),
                pid.trim()
            )))
        }
        Err(std::fs::TryLockError::Error(e)) => Err(io_err("lock", &path, e)),
    }
}

impl Connector {
    /// Takes the data dir's daemon lock, or says who holds it.
    pub fn daemon_lock(&self) -> Result<DaemonLock> {
        daemon_lock_at(self.data_dir())
    }

    /// "Later" on an account's notification: no re-raise for a day.
    pub fn snooze_notification(&self, apple_id: &str) -> Result<()> {
        let c = lock(&self.cache);
        if let Some(acc) = c.account(apple_id)? {
            let mut rec = c.notify_record(acc.id)?;
            rec.snoozed_until = Some(clock::now_secs() + DAY);
            c.set_notify_record(acc.id, &rec)?;
            tracing::info!(account = apple_id, "notification snoozed for a day");
        }
        Ok(())
    }

    /// The account's health as the notification policy sees it.
    fn health_of(&self, a: &crate::cache::AccountRow, now: i64) -> Result<Health> {
        Ok(if let Some(reason) = a.state.needs_relink() {
            Health::NeedsRelink(reason)
        } else if let Some(msg) = &a.last_error {
            let linked = lock(&self.cache).linked_at(a.id)?;
            Health::Failing {
                last_success: a
                    .last_successful_sync
                    .as_deref()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| t.timestamp()),
                linked_at: chrono::DateTime::parse_from_rfc3339(&linked)
                    .map(|t| t.timestamp())
                    .unwrap_or(now),
                message: msg.clone(),
            }
        } else {
            Health::Healthy
        })
    }

    /// The person closed the account's notification: it is no longer on screen to adopt or withdraw
    /// (the day until it is raised again still counts from when it was shown).
    fn notification_dismissed(&self, apple_id: &str) -> Result<()> {
        let c = lock(&self.cache);
        if let Some(acc) = c.account(apple_id)? {
            let mut rec = c.notify_record(acc.id)?;
            rec.id = None;
            c.set_notify_record(acc.id, &rec)?;
        }
        Ok(())
    }

    /// At start: adopts each notification an earlier run left on screen (see [`Notifier::adopt`]), so
    /// that a click on it opens the relink wizard of this process instead of going nowhere.
    async fn adopt_notifications(&self, notifier: &Arc<dyn Notifier>) -> Result<()> {
        let now = clock::now_secs();
        let accounts = lock(&self.cache).accounts()?;
        for a in accounts {
            let rec = lock(&self.cache).notify_record(a.id)?;
            let health = self.health_of(&a, now)?;
            let Some(spec) = left_on_screen(&rec, &health, &a.apple_id, now) else {
                continue;
            };
            if matches!(
                decide(&rec, &health, &a.apple_id, now),
                Decision::Show { .. }
            ) {
                continue; // due to be raised again anyway, in place, by the first tick
            }
            let n = notifier.clone();
            let who = a.apple_id.clone();
            let adopted = tokio::task::spawn_blocking(move || n.adopt(&who, &spec))
                .await
                .map_err(|e| Error::Io(e.to_string()))?;
            match adopted {
                Ok(id) => {
                    tracing::info!(account = %a.apple_id, id, "notification from an earlier run adopted");
                    lock(&self.cache).set_notify_record(
                        a.id,
                        &NotifyRecord {
                            id: Some(id),
                            ..rec
                        },
                    )?;
                }
                Err(e) => warn_notification_failed(&a.apple_id, &e),
            }
        }
        Ok(())
    }

    /// Brings each account's notification in step with its health (show, re-raise, withdraw+confirm).
    pub async fn update_notifications(&self, notifier: &Arc<dyn Notifier>) -> Result<()> {
        let now = clock::now_secs();
        let accounts = lock(&self.cache).accounts()?;
        for a in accounts {
            let health = self.health_of(&a, now)?;
            let rec = lock(&self.cache).notify_record(a.id)?;
            match decide(&rec, &health, &a.apple_id, now) {
                Decision::Nothing => {}
                Decision::Show { kind, spec } => {
                    let n = notifier.clone();
                    let who = a.apple_id.clone();
                    let shown = tokio::task::spawn_blocking(move || n.show(&who, &spec))
                        .await
                        .map_err(|e| Error::Io(e.to_string()))?;
                    match shown {
                        Ok(id) => {
                            tracing::info!(account = %a.apple_id, id, kind, "notification shown");
                            lock(&self.cache).set_notify_record(
                                a.id,
                                &NotifyRecord {
                                    kind: Some(kind.into()),
                                    id: Some(id),
                                    last_shown: Some(now),
                                    snoozed_until: None,
                                },
                            )?;
                        }
                        Err(e) => warn_notification_failed(&a.apple_id, &e),
                    }
                }
                Decision::Resolve { close, confirm } => {
                    let n = notifier.clone();
                    let who = a.apple_id.clone();
                    let r = tokio::task::spawn_blocking(move || {
                        if let Some(id) = close {
                            n.close(id)?;
                        }
                        if confirm {
                            n.show(&who, &reconnected(&who, None))?;
                        }
                        Ok::<(), String>(())
                    })
                    .await
                    .map_err(|e| Error::Io(e.to_string()))?;
                    if let Err(e) = r {
                        warn_notification_failed(&a.apple_id, &e);
                    }
                    lock(&self.cache).set_notify_record(a.id, &NotifyRecord::default())?;
                }
            }
        }
        Ok(())
    }

    /// Runs the scheduler until `shutdown` is cancelled. `make_notifier` gets the handler that turns
    /// notification actions into snoozes and "Fix now" calls.
    pub async fn run_daemon(
        &self,
        opts: DaemonOptions,
        make_notifier: impl FnOnce(ActionHandler) -> Arc<dyn Notifier>,
        shutdown: CancellationToken,
    ) -> Result<()> {
        let _lock = self.daemon_lock()?;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, UserAction)>();
        let handler: ActionHandler = Arc::new(move |who: &str, action| {
            let _ = tx.send((who.to_owned(), action));
        });
        let notifier = make_notifier(handler);
        // Clicks on a notification shown by an earlier run must reach this one.
        if let Err(e) = self.adopt_notifications(&notifier).await {
            tracing::warn!("notifications: {e}");
        }
        let mut next_due: HashMap<String, i64> = HashMap::new();
        let quiet: crate::sync::ProgressFn = Arc::new(|_p: Progress| {});
        // Sleep until the next sync is due, unless something changes the cache first: another process
        // relinked or linked an account (then the pass below notices at once, closes the
        // notification and syncs). This process's own commits wake it too; that pass only reads.
        let wake = Arc::new(tokio::sync::Notify::new());
        let watcher = {
            let wake = wake.clone();
            let forward = opts.on_change.clone();
            crate::watch::spawn(
                self.data_dir().to_owned(),
                Arc::new(move |c: crate::watch::Changes| {
                    if c.cache {
                        wake.notify_one();
                    }
                    if let Some(f) = &forward {
                        f(c);
                    }
                }),
                shutdown.child_token(),
            )
        };
        tracing::info!(interval_s = opts.interval.as_secs(), "daemon started");
        let interval = opts.interval.as_secs().max(1) as i64;
        let result = loop {
            let mut failed = None;
            while let Ok((who, action)) = rx.try_recv() {
                if let Err(e) = self.on_action(&opts, &who, action) {
                    failed = Some(e);
                    break;
                }
            }
            if let Some(e) = failed {
                break Err(e);
            }
            let now = clock::now_secs();
            // The next time anything is due; at most one interval away (a notification's daily
            // re-raise is checked then, well within its day).
            let mut next = now + interval;
            let accounts = match lock(&self.cache).accounts() {
                Ok(a) => a,
                Err(e) => break Err(e.into()),
            };
            for a in accounts {
                if shutdown.is_cancelled() {
                    break;
                }
                if a.state.needs_relink().is_some() {
                    continue; // rule 1: nothing is sent until a relink
                }
                if let Some(t) = next_due.get(&a.apple_id).filter(|t| now < **t) {
                    next = next.min(*t);
                    continue;
                }
                let next_attempt = match lock(&self.cache).backoff(a.id) {
                    Ok((t, _)) => t,
                    Err(e) => {
                        tracing::warn!(account = %a.apple_id, "{e}");
                        None
                    }
                };
                if let Some(t) = next_attempt.filter(|t| now < *t) {
                    next = next.min(t);
                    continue;
                }
                let res = tokio::select! {
                    r = self.sync_account(&a.apple_id, quiet.clone(), false, true) => r,
                    _ = shutdown.cancelled() => break,
                };
                match res {
                    Ok(r) => tracing::info!(account = %a.apple_id, requests = r.requests, "synced"),
                    Err(e) => tracing::warn!(account = %a.apple_id, "sync failed: {e}"),
                }
                let due = clock::now_secs() + interval;
                next_due.insert(a.apple_id.clone(), due);
                next = next.min(due);
            }
            // Published calendars: no password, no relink, no notification; their own interval.
            if !shutdown.is_cancelled() {
                let (done, failed) = tokio::select! {
                    r = self.refresh_due_subscriptions(opts.interval) => r,
                    _ = shutdown.cancelled() => (vec![], vec![]),
                };
                for r in done {
                    tracing::info!(subscription = %r.name, unchanged = r.unchanged, "refreshed");
                }
                for e in failed {
                    tracing::warn!("subscription: {e}");
                }
                match self.next_subscription_due(opts.interval) {
                    Ok(Some(t)) => next = next.min(t),
                    Ok(None) => {}
                    Err(e) => tracing::warn!("subscriptions: {e}"),
                }
            }
            if let Err(e) = self.update_notifications(&notifier).await {
                tracing::warn!("notifications: {e}");
            }
            let wait = Duration::from_secs((next - clock::now_secs()).max(1) as u64);
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = wake.notified() => {}
                Some((who, action)) = rx.recv() => {
                    if let Err(e) = self.on_action(&opts, &who, action) {
                        break Err(e);
                    }
                }
                _ = shutdown.cancelled() => {}
            }
            if shutdown.is_cancelled() {
                tracing::info!("daemon stopping");
                break Ok(());
            }
        };
        watcher.abort();
        result
    }

    /// A click on a notification.
    fn on_action(&self, opts: &DaemonOptions, who: &str, action: UserAction) -> Result<()> {
        match action {
            UserAction::Later => self.snooze_notification(who),
            UserAction::FixNow => {
                (opts.on_fix_now)(who);
                Ok(())
            }
            UserAction::Dismissed => self.notification_dismissed(who),
        }
    }
}

/// Logs a failure to show or withdraw a notification, once per distinct message: a desktop that cannot
/// show notifications at all (no notification daemon; a Windows toast without the app's Start-menu
/// shortcut; Wine) costs one log line, not one per sync.
fn warn_notification_failed(account: &str, e: &str) {
    static LAST: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);
    let mut last = LAST.lock().unwrap_or_else(|p| p.into_inner());
    if last.as_deref() != Some(e) {
        tracing::warn!(account, "{e}");
        *last = Some(e.to_owned());
    }
}
