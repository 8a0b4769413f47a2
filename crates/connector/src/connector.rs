//! The facade: one `Connector` per data dir, with the operations every surface (CLI, desktop app) uses.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use caldav::{DavRequest, Transport, TransportConfig, Url};
use serde::Serialize;

use crate::account_state::{
    transition, AccountState, Event, Password, StateWithReason, TransitionError,
};
use crate::accounts_file;
use crate::backoff::backoff_for;
use crate::cache::{Cache, CalendarMeta, CACHE_FILE};
use crate::calendar::{self, OccTime, Occurrence};
use crate::clock::{self, now_rfc3339};
use crate::config::{AccountStatus, CalendarStatus, StatusReport, SubscriptionStatus};
use crate::credentials::{Keychain, OsKeychain, Secret};
use crate::error::{io_err, Error, Result};
use crate::export::{self, ExportFormat, ExportReport};
use crate::icloud::session::{transport_error, Session};
use crate::icloud::{asp, discovery};
use crate::relink::guidance;
use crate::sync::{self, CalendarReport, ProgressFn};

/// Password checks with Apple (verifications) refused within [`VERIFY_WINDOW_SECS`] that pause further
/// checks: Apple locks an Apple ID after repeated failures.
pub const VERIFY_MAX: usize = 3;
/// The window of [`VERIFY_MAX`], in seconds.
pub const VERIFY_WINDOW_SECS: i64 = 15 * 60;

/// How to open a connector.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// Data dir (cache, accounts list, logs).
    pub data_dir: PathBuf,
    /// Keychain service for new links (see [`crate::credentials::service_for_namespace`]).
    pub keyring_service: String,
}

/// Result of `link`.
#[derive(Debug, Clone, Serialize)]
pub struct LinkReport {
    /// Apple ID.
    pub apple_id: String,
    /// Calendars found.
    pub calendars: Vec<String>,
    /// Whether the secret looked like an app-specific password (a warning, never a block).
    pub looks_like_app_specific_password: bool,
}

/// Result of one account's sync.
#[derive(Debug, Clone, Serialize)]
pub struct SyncReport {
    /// Apple ID.
    pub apple_id: String,
    /// Per calendar.
    pub calendars: Vec<(String, CalendarReport)>,
    /// Requests sent.
    pub requests: u64,
}

/// One occurrence in `events` output.
#[derive(Debug, Clone, Serialize)]
pub struct EventOut {
    /// Calendar name.
    pub calendar: String,
    /// UID.
    pub uid: String,
    /// Summary.
    pub summary: Option<String>,
    /// Start (RFC 3339 with offset, or a date when all-day).
    pub start: OccTime,
    /// End.
    pub end: OccTime,
    /// All-day.
    pub all_day: bool,
    /// Location.
    pub location: Option<String>,
    /// Original start of this occurrence, null for non-recurring events.
    pub recurrence_id: Option<String>,
    /// Resource path.
    pub href: String,
}

impl EventOut {
    /// An occurrence of the event at `href` in `calendar`.
    fn of(o: calendar::Occurrence, calendar: String, href: String) -> Self {
        EventOut {
            calendar,
            uid: o.uid,
            summary: o.summary,
            start: o.start,
            end: o.end,
            all_day: o.all_day,
            location: o.location,
            recurrence_id: o.recurrence_id,
            href,
        }
    }
}

/// An event's details with the calendar it is in.
#[derive(Debug, Clone, Serialize)]
pub struct DetailsOut {
    /// Calendar name.
    pub calendar: String,
    /// Resource path.
    pub href: String,
    /// What the details dialog shows.
    #[serde(flatten)]
    pub details: calendar::EventDetails,
}

/// Search results.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SearchOut {
    /// Matching events, by start.
    pub events: Vec<EventOut>,
    /// Whether more events matched than were returned.
    pub more: bool,
}

/// The engine for one data dir.
pub struct Connector {
    data_dir: PathBuf,
    keyring_service: String,
    pub(crate) cache: Arc<Mutex<Cache>>,
    keychain: Arc<dyn Keychain>,
}

impl Connector {
    /// Opens the cache in the data dir.
    pub fn open(opts: OpenOptions) -> Result<Connector> {
        Connector::open_with_keychain(opts, Arc::new(OsKeychain))
    }

    /// Opens the cache in the data dir, keeping passwords in `keychain` instead of the OS keychain
    /// (tests run the engine in-process with a [`crate::credentials::MemoryKeychain`]).
    pub fn open_with_keychain(opts: OpenOptions, keychain: Arc<dyn Keychain>) -> Result<Connector> {
        let cache = Cache::open(&opts.data_dir)?;
        Ok(Connector {
            data_dir: opts.data_dir,
            keyring_service: opts.keyring_service,
            cache: Arc::new(Mutex::new(cache)),
            keychain,
        })
    }

    /// Moves a damaged cache aside (never deletes it) and creates a fresh one, re-adding the linked
    /// accounts from `accounts.json`. Returns where the old file went.
    pub fn rebuild_cache(opts: OpenOptions) -> Result<(Connector, Option<PathBuf>)> {
        let path = opts.data_dir.join(CACHE_FILE);
        let mut moved = None;
        if path.exists() {
            let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
            let dest = opts.data_dir.join(format!("{CACHE_FILE}.damaged-{stamp}"));
            std::fs::rename(&path, &dest).map_err(|e| io_err("move aside", &path, e))?;
            for ext in ["-wal", "-shm"] {
                let side = opts.data_dir.join(format!("{CACHE_FILE}{ext}"));
                if side.exists() {
                    let d = opts
                        .data_dir
                        .join(format!("{CACHE_FILE}.damaged-{stamp}{ext}"));
                    std::fs::rename(&side, &d).map_err(|e| io_err("move aside", &side, e))?;
                }
            }
            moved = Some(dest);
        }
        let c = Connector::open(opts)?;
        for a in c.read_accounts_file() {
            lock(&c.cache).upsert_account(
                &a.apple_id,
                &a.server_url,
                &a.keyring_service,
                &now_rfc3339(),
            )?;
        }
        // Subscriptions come back empty; the next sync downloads them again.
        for s in accounts_file::read_subscriptions(&c.data_dir) {
            let cache = lock(&c.cache);
            if cache.subscription_by_url(&s.url)?.is_none() {
                cache.add_subscription(&s.url, s.name.as_deref(), None, None, &now_rfc3339())?;
            }
        }
        Ok((c, moved))
    }

    /// The data dir.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    fn read_accounts_file(&self) -> Vec<accounts_file::Entry> {
        accounts_file::read(&self.data_dir)
    }

    pub(crate) fn write_subscriptions_file(&self) -> Result<()> {
        accounts_file::write_subscriptions(&self.data_dir, &lock(&self.cache).subscriptions()?)
    }

    fn write_accounts_file(&self) -> Result<()> {
        accounts_file::write(&self.data_dir, &lock(&self.cache).accounts()?)
    }

    /// Applies `event` to `current` (the account's state as this process last read or wrote it), stores
    /// the result and returns it. The only way the connector changes an account's state.
    fn apply(
        &self,
        c: &Cache,
        acc: &crate::cache::AccountRow,
        current: StateWithReason,
        event: Event,
    ) -> Result<StateWithReason> {
        let next = transition(current, event).map_err(|e| transition_error(&acc.apple_id, e))?;
        c.set_state(acc.id, next)?;
        Ok(next)
    }

    pub(crate) fn transport() -> Result<Transport> {
        Transport::new(TransportConfig::default()).map_err(transport_error)
    }

    /// Links an account: verifies the password with the server (the first discovery request; a 401
    /// stops there), saves it in the keychain only after that, stores the calendars, then runs the
    /// first sync.
    pub async fn link(
        &self,
        apple_id: &str,
        server_url: &str,
        secret: Secret,
    ) -> Result<LinkReport> {
        let apple_id = apple_id.trim().to_owned();
        if apple_id.is_empty() {
            return Err(Error::Usage("the Apple ID is empty".into()));
        }
        for pasted in [server_url, apple_id.as_str()] {
            if crate::published::is_published_calendar_link(pasted) {
                return Err(Error::Usage(format!(
                    "{} is a public calendar someone shared, not an account: subscribe to it \
                     instead (read-only, no password needed)",
                    pasted.trim()
                )));
            }
        }
        // A pasted partition host or calendar URL starts the normal discovery (QUIRK(icloud §1.4)).
        let hinted = crate::published::caldav_host_hint(server_url);
        let server_url = hinted.as_deref().unwrap_or(server_url);
        let server = parse_server_url(server_url)?;
        // Fail before any network traffic when the password could not be saved afterwards.
        self.keychain.check_available()?;
        // Only Apple's passwords have a known shape to tidy (spaces, capitals, missing hyphens); a
        // self-hosted server's password is used exactly as typed.
        let secret = Secret::new(asp::for_server(server_url, secret.expose()));
        let looks = asp::looks_like_asp(secret.expose());
        let session = Session::new(Self::transport()?, &apple_id, secret.duplicate());
        let found = match discovery::discover(&session, &server).await {
            Ok(f) => f,
            Err(Error::Rejected { .. }) => {
                return Err(Error::LinkRefused {
                    apple_id,
                    apple: asp::is_apple_server(server_url),
                    looks_like_asp: looks,
                });
            }
            Err(e) => return Err(e),
        };
        self.keychain
            .store(&self.keyring_service, &apple_id, &secret)?;
        let names = {
            let c = lock(&self.cache);
            let id = c.upsert_account(
                &apple_id,
                server.as_str(),
                &self.keyring_service,
                &now_rfc3339(),
            )?;
            c.set_discovery(
                id,
                found.dsid.as_deref(),
                found.principal.as_str(),
                found.home.as_str(),
                &found.trusted_hosts,
            )?;
            let linked = transition(c.account_state(id)?, Event::Linked)
                .map_err(|e| transition_error(&apple_id, e))?;
            c.set_state(id, linked)?;
            c.record_password_worked(id, false)?;
            let mut names = Vec::new();
            for info in &found.calendars {
                c.upsert_calendar(id, &meta(info))?;
                names.push(
                    info.display_name
                        .clone()
                        .unwrap_or_else(|| info.url.path().to_owned()),
                );
            }
            names
        };
        self.write_accounts_file()?;
        Ok(LinkReport {
            apple_id,
            calendars: names,
            looks_like_app_specific_password: looks,
        })
    }

    /// Unlinks: deletes the keychain entry and everything cached for the account.
    pub fn unlink(&self, apple_id: &str) -> Result<()> {
        let acc = self.account(apple_id)?;
        self.keychain.delete(&acc.keyring_service, &acc.apple_id)?;
        lock(&self.cache).delete_account(acc.id)?;
        self.write_accounts_file()
    }

    fn account(&self, apple_id: &str) -> Result<crate::cache::AccountRow> {
        lock(&self.cache)
            .account(apple_id.trim())?
            .ok_or_else(|| Error::Usage(format!("no linked account {apple_id}; link it first")))
    }

    /// The server an account is linked to.
    pub fn server_url(&self, apple_id: &str) -> Result<String> {
        Ok(self.account(apple_id)?.server_url)
    }

    /// Apple IDs of every linked account.
    pub fn account_ids(&self) -> Result<Vec<String>> {
        Ok(lock(&self.cache)
            .accounts()?
            .into_iter()
            .map(|a| a.apple_id)
            .collect())
    }

    /// The tray's "Sync now": every account, errors logged. Returns the first account that needs a
    /// relink: it cannot sync until relinked, so the tray opens its relink wizard instead of doing
    /// nothing (the wizard says why and fixes it).
    pub async fn sync_from_tray(&self, progress: ProgressFn) -> Option<String> {
        let (_, errors) = self.sync(None, progress, false).await;
        let mut paused = None;
        for e in errors {
            tracing::warn!("sync from the tray: {e}");
            if let Error::NeedsRelink { apple_id, .. } = e {
                paused.get_or_insert(apple_id);
            }
        }
        paused
    }

    /// Syncs one account (or all). Accounts that need a relink are skipped without a request and
    /// reported as [`Error::NeedsRelink`] — unless `retry_auth`, the person's explicit "Try again",
    /// which first spends one verification request (within the 3-per-15-minutes limit). Returns the
    /// reports of the accounts that synced and the errors of the others (all accounts are attempted).
    /// Without `apple_id` the subscriptions are refreshed too (their errors join the others; see
    /// [`Connector::sync_everything`] for their reports).
    pub async fn sync(
        &self,
        apple_id: Option<&str>,
        progress: ProgressFn,
        retry_auth: bool,
    ) -> (Vec<SyncReport>, Vec<Error>) {
        match apple_id {
            Some(_) => self.sync_accounts(apple_id, progress, retry_auth).await,
            None => {
                let (reports, _, errors) = self.sync_everything(progress, retry_auth).await;
                (reports, errors)
            }
        }
    }

    /// Syncs every account, then refreshes every subscription: the reports of both and every error.
    pub async fn sync_everything(
        &self,
        progress: ProgressFn,
        retry_auth: bool,
    ) -> (Vec<SyncReport>, Vec<crate::SubscriptionReport>, Vec<Error>) {
        let (reports, mut errors) = self.sync_accounts(None, progress, retry_auth).await;
        let (subs, sub_errors) = self.refresh_subscriptions().await;
        errors.extend(sub_errors);
        (reports, subs, errors)
    }

    async fn sync_accounts(
        &self,
        apple_id: Option<&str>,
        progress: ProgressFn,
        retry_auth: bool,
    ) -> (Vec<SyncReport>, Vec<Error>) {
        let ids = match apple_id {
            Some(a) => vec![a.to_owned()],
            None => match self.account_ids() {
                Ok(v) => v,
                Err(e) => return (vec![], vec![e]),
            },
        };
        let mut reports = Vec::new();
        let mut errors = Vec::new();
        for id in ids {
            match self
                .sync_account(&id, progress.clone(), retry_auth, false)
                .await
            {
                Ok(r) => reports.push(r),
                Err(e) => errors.push(e),
            }
        }
        (reports, errors)
    }

    /// Replaces the password of an account in place: normalises it, verifies it with exactly one
    /// request, and only then replaces the keychain entry, returns the account to `active` and resumes
    /// syncing with the stored sync tokens (nothing cached is lost or refetched). A rejected
    /// verification leaves the old entry and the cache untouched.
    pub async fn relink(
        &self,
        apple_id: &str,
        secret: Secret,
        progress: ProgressFn,
    ) -> Result<SyncReport> {
        let acc = self.account(apple_id)?;
        let secret = Secret::new(asp::for_server(&acc.server_url, secret.expose()));
        let checking = self.verify(&acc, &secret, false).await?;
        self.keychain
            .store(&acc.keyring_service, &acc.apple_id, &secret)?;
        {
            let c = lock(&self.cache);
            self.apply(&c, &acc, checking, Event::CheckAccepted)?;
            c.record_password_worked(acc.id, false)?;
            c.set_backoff(acc.id, None, 0)?;
        }
        self.sync_account(&acc.apple_id, progress, false, false)
            .await
    }

    /// One verification request (PROPFIND current-user-principal on the configured server) with
    /// `secret`, within the limit of 3 *failed* checks per account per 15 minutes, counted in the cache
    /// so it holds across processes. Apple locks an Apple ID after repeated failures, so only a
    /// rejection counts: a check that is accepted clears the count, and one that gets no answer from
    /// Apple (network, server error) is not counted. The attempt is recorded before the request, so a
    /// process killed mid-check still counts it. On rejection the account is (again) `needs_relink`, with the reason for this
    /// secret; `stored` says whether `secret` is the one already in the keychain.
    async fn verify(
        &self,
        acc: &crate::cache::AccountRow,
        secret: &Secret,
        stored: bool,
    ) -> Result<StateWithReason> {
        const WINDOW: i64 = VERIFY_WINDOW_SECS;
        const MAX: usize = VERIFY_MAX;
        let now = clock::now_secs();
        let resume = acc.state.state;
        let checking = {
            let c = lock(&self.cache);
            let attempts = c.verification_attempts(acc.id, now - WINDOW)?;
            if attempts.len() >= MAX {
                let until = attempts[attempts.len() - MAX] + WINDOW;
                return Err(Error::VerificationLimit {
                    apple_id: acc.apple_id.clone(),
                    until: clock::rfc3339(until),
                    when: clock::local_wait(until, now),
                });
            }
            c.record_verification_attempt(acc.id, now)?;
            self.apply(&c, acc, acc.state, Event::CheckStarted)?
        };
        let server = parse_server_url(&acc.server_url)?;
        let transport = Self::transport()?;
        transport.trust_host(&server);
        let session = Session::new(transport, &acc.apple_id, secret.duplicate());
        let req = caldav::CurrentUserPrincipal { url: server };
        let outcome = session
            .send(&req.request(), crate::icloud::classify::Expect::Multistatus)
            .await;
        let c = lock(&self.cache);
        match outcome {
            Ok(_) => {
                c.clear_verification_attempts(acc.id)?;
                Ok(checking)
            }
            Err(Error::Rejected { .. }) => {
                let looks_like_asp = asp::looks_like_asp(secret.expose());
                let password = if stored {
                    Password::Saved {
                        looks_like_asp,
                        worked_before: acc.password_worked,
                    }
                } else {
                    Password::New { looks_like_asp }
                };
                let after =
                    self.apply(&c, acc, checking, Event::CheckRefused { password, resume })?;
                // The reason for this password, also when the account keeps syncing with the saved one.
                let reason = after.needs_relink().unwrap_or_else(|| password.reason());
                Err(Error::NeedsRelink {
                    apple_id: acc.apple_id.clone(),
                    reason: reason.as_str().into(),
                })
            }
            Err(e) => {
                c.forget_verification_attempt(acc.id, now)?;
                self.apply(&c, acc, checking, Event::CheckUnanswered { resume })?;
                Err(e)
            }
        }
    }

    /// Syncs one account. `scheduled` is the daemon's tick: it also honours transient backoff.
    pub(crate) async fn sync_account(
        &self,
        apple_id: &str,
        progress: ProgressFn,
        retry_auth: bool,
        scheduled: bool,
    ) -> Result<SyncReport> {
        let mut acc = self.account(apple_id)?;
        if let Err(refused) = transition(acc.state, Event::SyncStarted) {
            // docs/design.md rule 1: zero requests with a rejected password, in every later run too.
            if !retry_auth || !matches!(refused, TransitionError::NeedsRelink(_)) {
                return Err(transition_error(&acc.apple_id, refused));
            }
            let secret = self.keychain.load(&acc.keyring_service, &acc.apple_id)?;
            let checking = self.verify(&acc, &secret, true).await?;
            self.apply(&lock(&self.cache), &acc, checking, Event::CheckAccepted)?;
            acc = self.account(apple_id)?;
        }
        let now = clock::now_secs();
        let (next_attempt, floor) = lock(&self.cache).backoff(acc.id)?;
        if let Some(t) = next_attempt {
            // Rule 7: never before Retry-After, whoever asks; other failures back off the scheduler only.
            let throttled = acc.last_error_kind.as_deref() == Some("throttled");
            if now < t && (throttled || scheduled) {
                return Err(Error::BackingOff {
                    apple_id: acc.apple_id,
                    until: clock::rfc3339(t),
                });
            }
        }
        let secret = self.keychain.load(&acc.keyring_service, &acc.apple_id)?;
        let saved = Password::Saved {
            looks_like_asp: asp::looks_like_asp(secret.expose()),
            worked_before: acc.password_worked,
        };
        let server = parse_server_url(&acc.server_url)?;
        let transport = Self::transport()?;
        transport.trust_host(&server);
        for h in &acc.trusted_hosts {
            if let Ok(u) = Url::parse(&format!("{}://{h}/", server.scheme())) {
                transport.trust_host(&u);
            }
        }
        let session = Session::new(transport, &acc.apple_id, secret);
        let _sync_lock = self.sync_lock().await?;
        let syncing = self.apply(&lock(&self.cache), &acc, acc.state, Event::SyncStarted)?;
        let result = self.sync_with(&session, &acc, &server, progress).await;
        let c = lock(&self.cache);
        let now = clock::now_secs();
        match &result {
            Ok(_) => {
                c.record_success(acc.id, &clock::rfc3339(now))?;
                c.set_backoff(acc.id, None, 0)?;
                self.apply(&c, &acc, syncing, Event::SyncSucceeded)?;
            }
            Err(Error::Rejected { .. }) => {
                let after = self.apply(&c, &acc, syncing, Event::SyncRefused(saved))?;
                let reason = after.needs_relink().unwrap_or_else(|| saved.reason());
                c.record_error(
                    acc.id,
                    "rejected",
                    &format!("Apple rejected the password: {}", reason.sentence()),
                )?;
                c.set_backoff(acc.id, None, 0)?;
                return Err(Error::NeedsRelink {
                    apple_id: acc.apple_id.clone(),
                    reason: reason.as_str().into(),
                });
            }
            Err(e) => {
                c.record_error(acc.id, e.kind(), &e.to_string())?;
                let backing_off = match backoff_for(e, floor, now) {
                    Some((next, new_floor)) => {
                        c.set_backoff(acc.id, Some(next), new_floor)?;
                        true
                    }
                    None => false,
                };
                self.apply(&c, &acc, syncing, Event::SyncFailed { backing_off })?;
            }
        }
        result
    }

    async fn sync_lock(&self) -> Result<std::fs::File> {
        let path = self.data_dir.join("sync.lock");
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| io_err("open", &path, e))?;
        // One sync at a time per data dir (the daemon and a manual `sync` wait for each other).
        tokio::task::spawn_blocking(move || f.lock().map(|()| f))
            .await
            .map_err(|e| Error::Io(format!("lock task failed: {e}")))?
            .map_err(|e| io_err("lock", &path, e))
    }

    fn sync_in_progress(&self) -> bool {
        match std::fs::File::open(self.data_dir.join("sync.lock")) {
            Ok(f) => matches!(f.try_lock_shared(), Err(std::fs::TryLockError::WouldBlock)),
            Err(_) => false,
        }
    }

    async fn sync_with(
        &self,
        session: &Session,
        acc: &crate::cache::AccountRow,
        server: &Url,
        progress: ProgressFn,
    ) -> Result<SyncReport> {
        let home = match acc.home_url.as_deref().map(Url::parse) {
            Some(Ok(h)) => Some(h),
            _ => None,
        };
        // QUIRK(icloud §1.4): when the partition host fails, re-run discovery from the configured URL.
        let infos = match &home {
            Some(h) => match discovery::list_calendars(session, h).await {
                Ok(v) => Some(v),
                Err(e @ (Error::Rejected { .. } | Error::Throttled { .. })) => return Err(e),
                Err(e) => {
                    tracing::info!("calendar home {h} failed ({e}); discovering again");
                    None
                }
            },
            None => None,
        };
        let infos = match infos {
            Some(v) => v,
            None => {
                let found = discovery::discover(session, server).await?;
                lock(&self.cache).set_discovery(
                    acc.id,
                    found.dsid.as_deref(),
                    found.principal.as_str(),
                    found.home.as_str(),
                    &found.trusted_hosts,
                )?;
                found.calendars
            }
        };
        let known = lock(&self.cache).calendars(acc.id)?;
        if infos.is_empty() && !known.is_empty() {
            // Rule 3: an empty calendar list is not proof that every calendar was deleted.
            return Err(Error::Protocol(
                "the server listed no calendars at all; nothing was deleted".into(),
            ));
        }
        // Rule 3 for calendars: a known calendar missing from one listing is dropped only when a
        // second listing agrees.
        let listed =
            |v: &[caldav::CalendarInfo], path: &str| v.iter().any(|i| i.url.path() == path);
        let mut infos = infos;
        if known.iter().any(|k| !listed(&infos, &k.path)) {
            let home = Url::parse(
                &lock(&self.cache)
                    .account(&acc.apple_id)?
                    .and_then(|a| a.home_url)
                    .unwrap_or_default(),
            )
            .map_err(|e| Error::Protocol(format!("bad calendar home URL: {e}")))?;
            let again = discovery::list_calendars(session, &home).await?;
            let vanished: Vec<&str> = known
                .iter()
                .filter(|k| !listed(&infos, &k.path))
                .map(|k| k.path.as_str())
                .collect();
            if vanished.iter().any(|p| listed(&again, p)) {
                return Err(Error::Protocol(
                    "the server's calendar lists disagree about which calendars exist; nothing was deleted".into(),
                ));
            }
            infos = again;
        }
        let mut paths = Vec::new();
        {
            let c = lock(&self.cache);
            for info in &infos {
                c.upsert_calendar(acc.id, &meta(info))?;
                paths.push(info.url.path().to_owned());
            }
            c.remove_calendars_except(acc.id, &paths)?;
        }
        let rows = lock(&self.cache).calendars(acc.id)?;
        let mut out = Vec::new();
        let mut first_err = None;
        for info in &infos {
            let Some(row) = rows.iter().find(|r| r.path == info.url.path()) else {
                continue;
            };
            match sync::sync_calendar(session, &self.cache, row, info, &progress).await {
                Ok(r) => out.push((row.name(), r)),
                Err(
                    e @ (Error::Rejected { .. }
                    | Error::Throttled { .. }
                    | Error::Unreachable(_)
                    | Error::Redirected(_)),
                ) => return Err(e),
                Err(e) => {
                    tracing::warn!(calendar = %row.name(), "sync failed: {e}");
                    first_err.get_or_insert(e);
                }
            }
        }
        if let Some(e) = first_err {
            return Err(e);
        }
        Ok(SyncReport {
            apple_id: acc.apple_id.clone(),
            calendars: out,
            requests: session.requests_sent(),
        })
    }

    /// Shows or hides a calendar (by its id = collection path) in the agenda.
    pub fn set_calendar_hidden(
        &self,
        apple_id: &str,
        calendar_id: &str,
        hidden: bool,
    ) -> Result<()> {
        let acc = self.account(apple_id)?;
        let c = lock(&self.cache);
        let cal = c
            .calendars(acc.id)?
            .into_iter()
            .find(|cal| cal.path == calendar_id)
            .ok_or_else(|| Error::Usage(format!("{apple_id} has no calendar {calendar_id}")))?;
        c.set_hidden(cal.id, hidden)?;
        Ok(())
    }

    /// The status report.
    pub fn status(&self) -> Result<StatusReport> {
        let c = lock(&self.cache);
        let mut accounts = Vec::new();
        for a in c.accounts()? {
            let mut state = a.state.state;
            if state == AccountState::Syncing && !self.sync_in_progress() {
                state = AccountState::Active; // a sync that was killed
            }
            let (next_attempt, _) = c.backoff(a.id)?;
            let now = clock::now_secs();
            let refusals = c.verification_attempts(a.id, now - VERIFY_WINDOW_SECS)?;
            let checks_left = VERIFY_MAX.saturating_sub(refusals.len());
            let next_check = (checks_left == 0)
                .then(|| refusals[refusals.len() - VERIFY_MAX] + VERIFY_WINDOW_SECS)
                .map(clock::rfc3339);
            let reason = a.state.needs_relink();
            let needs = reason.is_some();
            let mut calendars = Vec::new();
            for cal in c.calendars(a.id)? {
                calendars.push(CalendarStatus {
                    id: cal.path.clone(),
                    display_name: cal.name(),
                    color: cal.color.clone(),
                    event_count: c.event_count(cal.id)?,
                    read_only: cal.read_only,
                    hidden: cal.hidden,
                });
            }
            accounts.push(AccountStatus {
                apple_id: a.apple_id.clone(),
                server_url: a.server_url.clone(),
                state: state.as_str().into(),
                icloud_app_specific_password_required: needs,
                relink_reason: reason.map(|r| r.as_str().to_owned()),
                guidance: reason.map(guidance),
                last_successful_sync: a.last_successful_sync.clone(),
                last_error: a.last_error.clone(),
                next_attempt_at: next_attempt.map(clock::rfc3339),
                password_checks_left: u32::try_from(checks_left).unwrap_or(0),
                next_password_check_at: next_check,
                calendars,
                quarantined: c.quarantined(a.id)?,
            });
        }
        Ok(StatusReport {
            accounts,
            subscriptions: subscription_status(&c)?,
        })
    }

    /// A short token that changes whenever what the calendar views show may have changed, and stays
    /// as it was across a sync that changed nothing, so a window can keep the events it has fetched.
    /// It covers, for every calendar, its id, name, colour, visibility and event count, and the
    /// server's sync token or ctag (any change on the server moves them; they are stored at the end
    /// of a complete pass); each account's quarantine; and for a subscription the feed's ETag or
    /// Last-Modified. A calendar whose server offers neither token nor ctag, or a feed with neither
    /// validator, counts its last good sync instead, so it changes with every pass.
    pub fn events_version(&self) -> Result<String> {
        use std::hash::{Hash, Hasher};
        let c = lock(&self.cache);
        // SipHash with fixed keys: the same contents give the same token in every process.
        let mut h = std::hash::DefaultHasher::new();
        for a in c.accounts()? {
            a.id.hash(&mut h);
            c.quarantined(a.id)?.len().hash(&mut h);
            for cal in c.calendars(a.id)? {
                (cal.id, &cal.display_name, &cal.color, cal.hidden).hash(&mut h);
                c.event_count(cal.id)?.hash(&mut h);
                match cal.sync_token.as_ref().or(cal.ctag.as_ref()) {
                    Some(t) => t.hash(&mut h),
                    None => a.last_successful_sync.hash(&mut h),
                }
            }
        }
        for s in c.subscriptions()? {
            (s.calendar_id, &s.display_name, &s.color, s.hidden).hash(&mut h);
            c.event_count(s.calendar_id)?.hash(&mut h);
            c.quarantined_in(s.calendar_id)?.len().hash(&mut h);
            (&s.etag, &s.last_modified).hash(&mut h);
            if s.etag.is_none() && s.last_modified.is_none() {
                s.last_success.hash(&mut h);
            }
        }
        Ok(format!("{:016x}", h.finish()))
    }

    /// Occurrences in [from, to), recurrences expanded, sorted by start.
    pub fn events(
        &self,
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
        calendar_name: Option<&str>,
    ) -> Result<Vec<EventOut>> {
        if to <= from {
            return Err(Error::Usage(format!(
                "--to ({to}) must be after --from ({from})"
            )));
        }
        // Widen the SQL pre-selection by a day on each side: all-day and floating events are placed
        // in the local zone, which the stored UTC bounds approximate.
        let slack = 36 * 3600;
        let candidates = lock(&self.cache).candidates(
            from.timestamp() - slack,
            to.timestamp() + slack,
            calendar_name,
        )?;
        let local = calendar::local_timezone();
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        Ok(expand_all(candidates, from, to, local, threads))
    }

    /// The details of the event at `href` (for one occurrence when `recurrence_id` is given, as
    /// [`EventOut::recurrence_id`] has it): notes, people, URL, recurrence and alerts in words.
    pub fn event_details(
        &self,
        href: &str,
        recurrence_id: Option<&str>,
    ) -> Result<Option<DetailsOut>> {
        let Some((calendar, raw)) = lock(&self.cache).object_by_href(href)? else {
            return Ok(None);
        };
        Ok(Some(DetailsOut {
            calendar,
            href: href.to_owned(),
            details: calendar::event_details(&raw, recurrence_id),
        }))
    }

    /// Events of visible calendars whose title, location or notes contain `text` (ignoring case),
    /// nearest to `now` first in the cache, each once (a repeating event at its next occurrence, or
    /// its last one if the series is over); at most `limit`, sorted by start.
    pub fn search(
        &self,
        text: &str,
        limit: usize,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<SearchOut> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(SearchOut::default());
        }
        let needle = text.to_lowercase();
        let contains = |s: &Option<String>| {
            s.as_deref()
                .is_some_and(|s| s.to_lowercase().contains(&needle))
        };
        // One more than asked, to know whether there were more.
        let hits = lock(&self.cache).search_candidates(
            text,
            limit.saturating_mul(4) + 1,
            now.timestamp(),
        )?;
        let local = calendar::local_timezone();
        let day = chrono::Duration::days(1);
        let mut out: Vec<(i64, EventOut)> = Vec::new();
        let mut more = false;
        for hit in hits {
            let matches = contains(&hit.summary)
                || contains(&hit.location)
                || contains(&calendar::event_details(&hit.raw, None).notes);
            if !matches {
                continue;
            }
            if out.len() == limit {
                more = true;
                break;
            }
            let start = chrono::DateTime::from_timestamp(hit.window_start, 0).unwrap_or(now);
            let occ = if hit.recurring {
                let from = now.max(start) - day;
                calendar::occurrences(&hit.raw, from, from + chrono::Duration::days(400), local)
                    .ok()
                    .and_then(|o| {
                        o.into_iter()
                            .find(|o| o.start.to_utc_sort_key(local) >= now.timestamp())
                    })
            } else {
                None
            };
            let occ = occ.or_else(|| {
                calendar::occurrences(&hit.raw, start - day, start + day * 2, local)
                    .ok()
                    .and_then(|o| o.into_iter().next())
            });
            let Some(o) = occ else { continue };
            out.push((
                o.start.to_utc_sort_key(local),
                EventOut::of(o, hit.calendar, hit.href),
            ));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.summary.cmp(&b.1.summary)));
        Ok(SearchOut {
            events: out.into_iter().map(|(_, e)| e).collect(),
            more,
        })
    }

    /// Exports every calendar of every account with the bytes as cached.
    pub fn export(&self, format: ExportFormat, out: &Path) -> Result<ExportReport> {
        export::export(&lock(&self.cache), format, out)
    }
}

/// Below this many objects a window is expanded on the calling thread alone.
const PARALLEL_MIN_OBJECTS: usize = 512;

/// The occurrences of `candidates` in [from, to), sorted by start then title. Parsing and expanding
/// is most of a window's cost (thousands of objects in a dense month), so it is shared between up
/// to `threads` threads, each taking a consecutive slice; the slices are joined in order before
/// the (stable) sort, so the result is the same as on one thread.
fn expand_all(
    candidates: Vec<crate::cache::CandidateObject>,
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
    local: chrono_tz::Tz,
    threads: usize,
) -> Vec<EventOut> {
    let expand = |cands: &[crate::cache::CandidateObject]| {
        let mut out: Vec<(i64, EventOut)> = Vec::new();
        for cand in cands {
            let occs: Vec<Occurrence> = match calendar::occurrences(&cand.raw, from, to, local) {
                Ok(o) => o,
                Err(e) => {
                    tracing::debug!(href = %cand.href, "skipping in agenda: {e}");
                    continue;
                }
            };
            for o in occs {
                let key = o.start.to_utc_sort_key(local);
                out.push((
                    key,
                    EventOut::of(o, cand.calendar.clone(), cand.href.clone()),
                ));
            }
        }
        out
    };
    let threads = threads.clamp(1, 8);
    let mut out = if threads == 1 || candidates.len() < PARALLEL_MIN_OBJECTS {
        expand(&candidates)
    } else {
        let per = candidates.len().div_ceil(threads);
        std::thread::scope(|s| {
            let handles: Vec<_> = candidates
                .chunks(per)
                .map(|chunk| s.spawn(move || expand(chunk)))
                .collect();
            let mut all = Vec::new();
            for (h, chunk) in handles.into_iter().zip(candidates.chunks(per)) {
                // `calendar::occurrences` catches panics, so a thread ends normally; should one
                // not, its slice is expanded here instead of being lost.
                all.extend(h.join().unwrap_or_else(|_| expand(chunk)));
            }
            all
        })
    };
    out.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.summary.cmp(&b.1.summary)));
    out.into_iter().map(|(_, e)| e).collect()
}

/// The subscriptions in the status report.
fn subscription_status(c: &Cache) -> Result<Vec<SubscriptionStatus>> {
    let mut out = Vec::new();
    for s in c.subscriptions()? {
        out.push(SubscriptionStatus {
            url: s.url.clone(),
            display_name: s.display_name.clone(),
            color: s.color.clone(),
            event_count: c.event_count(s.calendar_id)?,
            read_only: true,
            hidden: s.hidden,
            last_refresh: s.last_refresh.clone(),
            last_success: s.last_success.clone(),
            last_error: s.last_error.clone(),
            quarantined: c.quarantined_in(s.calendar_id)?,
        });
    }
    Ok(out)
}

/// The engine error for a transition the state machine refuses.
fn transition_error(apple_id: &str, e: TransitionError) -> Error {
    match e {
        TransitionError::NeedsRelink(reason) => Error::NeedsRelink {
            apple_id: apple_id.to_owned(),
            reason: reason.as_str().into(),
        },
        other => Error::Internal(other.to_string()),
    }
}

pub(crate) fn lock(cache: &Mutex<Cache>) -> std::sync::MutexGuard<'_, Cache> {
    // SQLite transactions roll back on panic, so a poisoned lock is still consistent.
    cache.lock().unwrap_or_else(|p| p.into_inner())
}

fn meta(info: &caldav::CalendarInfo) -> CalendarMeta {
    CalendarMeta {
        path: info.url.path().to_owned(),
        url: info.url.to_string(),
        display_name: info.display_name.clone(),
        color: info.color.clone(),
        read_only: info.read_only,
        sort_order: info.order,
    }
}

/// Parses and checks a server URL given by a person.
pub fn parse_server_url(s: &str) -> Result<Url> {
    let mut u = Url::parse(s.trim()).map_err(|e| {
        Error::Usage(format!(
            "--server-url {s:?} is not a URL ({e}); expected something like https://caldav.icloud.com/"
        ))
    })?;
    if u.scheme() != "https" && u.scheme() != "http" {
        return Err(Error::Usage(format!(
            "--server-url {s:?} must start with https://"
        )));
    }
    if u.host_str().is_none() {
        return Err(Error::Usage(format!("--server-url {s:?} has no host")));
    }
    if !u.path().ends_with('/') {
        let p = format!("{}/", u.path());
        u.set_path(&p);
    }
    Ok(u)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_url_is_checked() {
        assert!(parse_server_url("caldav.icloud.com").is_err());
        assert!(parse_server_url("ftp://x/").is_err());
        assert_eq!(
            parse_server_url("http://127.0.0.1:5232").unwrap().as_str(),
            "http://127.0.0.1:5232/"
        );
    }
    fn with_objects(objects: &[(&str, &str)]) -> (tempfile::TempDir, Connector) {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connector::open_with_keychain(
            OpenOptions {
                data_dir: dir.path().to_path_buf(),
                keyring_service: "test".into(),
            },
            Arc::new(crate::credentials::MemoryKeychain::default()),
        )
        .unwrap();
        {
            let mut c = lock(&conn.cache);
            let a = c
                .upsert_account("a@b.c", "http://x/", "test", "now")
                .unwrap();
            let cal = c
                .upsert_calendar(
                    a,
                    &CalendarMeta {
                        path: "/1/calendars/home/".into(),
                        url: "http://x/1/calendars/home/".into(),
                        display_name: Some("Home".into()),
                        color: None,
                        read_only: false,
                        sort_order: None,
                    },
                )
                .unwrap();
            let stored: Vec<_> = objects
                .iter()
                .map(|(href, ics)| crate::cache::StoredObject {
                    href: (*href).into(),
                    etag: None,
                    raw: ics.as_bytes().to_vec(),
                    summary: calendar::summarize(ics.as_bytes()).unwrap(),
                })
                .collect();
            c.apply_batch(cal, &stored, &[], "now").unwrap();
        }
        (dir, conn)
    }

    fn ics(uid: &str, start: &str, extra: &str) -> String {
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nDTSTART:{start}\r\n\
             DURATION:PT1H\r\n{extra}END:VEVENT\r\nEND:VCALENDAR\r\n"
        )
    }

    #[test]
    fn a_window_expanded_on_several_threads_is_the_one_expanded_on_one() {
        let mut candidates = Vec::new();
        for i in 0..1500u32 {
            let day = 1 + i % 28;
            let raw = match i % 5 {
                // A weekly series, an all-day event, a broken object, and timed events that share
                // their start (sorted by title across the threads' slices).
                0 => ics(&format!("s{i}"), "20260101T090000Z", "RRULE:FREQ=WEEKLY\r\n"),
                1 => format!(
                    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:d{i}\r\n\
                     DTSTART;VALUE=DATE:202602{day:02}\r\nSUMMARY:Day {i}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
                ),
                2 if i % 3 == 0 => "BEGIN:VCALENDAR\r\nnot an event\r\n".to_owned(),
                _ => ics(
                    &format!("t{i}"),
                    &format!("202602{day:02}T{:02}0000Z", 8 + i % 3),
                    &format!("SUMMARY:{}\r\n", ["b", "a", "c"][(i % 3) as usize]),
                ),
            };
            candidates.push(crate::cache::CandidateObject {
                calendar: format!("Cal {}", i % 2),
                href: format!("/1/calendars/home/{i}.ics"),
                raw: raw.into_bytes(),
            });
        }
        let from = chrono::DateTime::parse_from_rfc3339("2026-02-01T00:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let to = from + chrono::Duration::days(28);
        let tz = chrono_tz::Europe::Berlin;
        let one = serde_json::to_value(expand_all(candidates.clone(), from, to, tz, 1)).unwrap();
        let three = serde_json::to_value(expand_all(candidates, from, to, tz, 3)).unwrap();
        assert!(
            one.as_array().unwrap().len() > 1500,
            "{}",
            one.as_array().unwrap().len()
        );
        assert_eq!(one, three);
    }

    #[test]
    fn search_finds_titles_locations_and_notes_and_a_series_at_its_next_occurrence() {
        let weekly = ics(
            "w",
            "20260105T090000Z",
            "SUMMARY:Standup\r\nRRULE:FREQ=WEEKLY\r\n",
        );
        let notes = ics(
            "n",
            "20261201T090000Z",
            "SUMMARY:Lunch\r\nDESCRIPTION:bring the Quarterly report\r\n",
        );
        let place = ics(
            "p",
            "20261202T090000Z",
            "SUMMARY:Walk\r\nLOCATION:Quarterly park\r\n",
        );
        // "VEVENT" is in every object's bytes, but in nobody's title, location or notes.
        let (_d, conn) = with_objects(&[
            ("/1/calendars/home/w.ics", &weekly),
            ("/1/calendars/home/n.ics", &notes),
            ("/1/calendars/home/p.ics", &place),
        ]);
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-03T12:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let found = conn.search("quarterly", 10, now).unwrap();
        let hrefs: Vec<&str> = found.events.iter().map(|e| e.href.as_str()).collect();
        assert_eq!(
            hrefs,
            ["/1/calendars/home/n.ics", "/1/calendars/home/p.ics"]
        );
        assert!(!found.more);
        assert!(conn.search("vevent", 10, now).unwrap().events.is_empty());
        assert!(conn.search("  ", 10, now).unwrap().events.is_empty());
        let standup = conn.search("standup", 10, now).unwrap();
        assert_eq!(standup.events.len(), 1);
        // Mondays: the first after 3 December 2026 is the 7th.
        assert_eq!(
            serde_json::to_value(&standup.events[0].start).unwrap(),
            serde_json::json!("2026-12-07T09:00:00+00:00")
        );
        let limited = conn.search("quarterly", 1, now).unwrap();
        assert_eq!(limited.events.len(), 1);
        assert!(limited.more);

        let d = conn
            .event_details("/1/calendars/home/n.ics", None)
            .unwrap()
            .unwrap();
        assert_eq!(d.calendar, "Home");
        assert_eq!(
            d.details.notes.as_deref(),
            Some("bring the Quarterly report")
        );
        assert!(conn.event_details("/gone.ics", None).unwrap().is_none());
    }
}
