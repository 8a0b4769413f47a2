//! The agent's life: one per data dir, the daemon with the person's settings (restarted when they
//! change), the tray kept in step with the accounts, and window processes started on demand.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;

use connector::config::Overall;
use connector::notify::ActionHandler;
use connector::policy::Policy;
use connector::settings::{self, Settings};
use connector::sync::{Progress, ProgressFn};
use connector::watch::Changes;
use connector::{Connector, DaemonOptions, OpenOptions};
use tokio::sync::mpsc::unbounded_channel;
use tokio_util::sync::CancellationToken;

use crate::msg::{Msg, Tx};
use crate::tray;

/// Runs the agent until Quit, a signal, or another agent owning the data dir. Returns the exit code.
pub fn run(explicit_data_dir: Option<PathBuf>) -> i32 {
    let Some(data_dir) = connector::config::data_dir(explicit_data_dir.clone()) else {
        eprintln!("calendar-connector-agent: no data directory; set CALENDAR_CONNECTOR_DATA_DIR");
        return 1;
    };
    if let Err(e) = std::fs::create_dir_all(&data_dir) {
        eprintln!(
            "calendar-connector-agent: could not create the data dir {}: {e}",
            data_dir.display()
        );
        return 1;
    }
    connector::config::init_logging(&data_dir, "agent");
    let policy = match connector::policy::load_managed() {
        Ok(m) => m.policy,
        Err(e) => {
            // A broken policy must not silently unlock what IT meant to lock.
            tracing::error!("{e}");
            eprintln!("calendar-connector-agent: {e}");
            return 2;
        }
    };
    // One thread: the agent waits almost all the time, and every thread is memory.
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("calendar-connector-agent: could not start: {e}");
            return 1;
        }
    };
    rt.block_on(agent(data_dir, explicit_data_dir, policy))
}

/// Keychain service of real accounts (`CALENDAR_CONNECTOR_KEYRING_NAMESPACE` as in the app and CLI).
fn keyring_service() -> String {
    let ns = std::env::var("CALENDAR_CONNECTOR_KEYRING_NAMESPACE").ok();
    connector::credentials::service_for_namespace(ns.as_deref())
}

/// A running daemon.
struct Daemon {
    token: CancellationToken,
    join: tokio::task::JoinHandle<()>,
}

fn spawn_daemon(conn: &Arc<Connector>, settings: &Settings, generation: u64, tx: &Tx) -> Daemon {
    let token = CancellationToken::new();
    let (fix, change, ended) = (tx.clone(), tx.clone(), tx.clone());
    let opts = DaemonOptions {
        interval: settings.interval(),
        on_fix_now: Arc::new(move |who: &str| {
            let _ = fix.send(Msg::Open(Some(who.to_owned())));
        }),
        on_change: Some(Arc::new(move |c: Changes| {
            let _ = change.send(Msg::Changed(c));
        })),
    };
    let notifications = settings.notifications;
    let (conn, t) = (conn.clone(), token.clone());
    let join = tokio::spawn(async move {
        let make = move |h: ActionHandler| connector::notify::desktop_or_silent(notifications, h);
        let r = conn.run_daemon(opts, make, t).await;
        let _ = ended.send(Msg::DaemonEnded(generation, r.err()));
    });
    Daemon { token, join }
}

async fn agent(data_dir: PathBuf, explicit_data_dir: Option<PathBuf>, policy: Policy) -> i32 {
    let conn = match Connector::open(OpenOptions {
        data_dir: data_dir.clone(),
        keyring_service: keyring_service(),
    }) {
        Ok(c) => Arc::new(c),
        Err(e) => {
            tracing::error!("could not open the cache: {e}");
            eprintln!("calendar-connector-agent: {e}");
            return 1;
        }
    };
    // One agent per data dir: a second one (a second login autostart, a window process that started
    // one at the same moment) leaves quietly. The daemon takes the lock for good just below; if
    // another agent wins that race, its `AlreadyRunning` ends this one the same way.
    match conn.daemon_lock() {
        Ok(lock) => drop(lock),
        Err(connector::Error::AlreadyRunning(m)) => {
            tracing::info!("{m}; this agent leaves it to that one");
            return 0;
        }
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("calendar-connector-agent: {e}");
            return 1;
        }
    }
    let (tx, mut rx) = unbounded_channel::<Msg>();
    let mut settings = settings::effective(&settings::load(&data_dir), &policy);
    let mut generation = 0;
    let mut daemon = spawn_daemon(&conn, &settings, generation, &tx);
    let (overall, relink_for) = summary(&conn);
    let tray = tray::spawn(tx.clone(), overall, relink_for).await;
    let mut windows = Windows::new(explicit_data_dir);
    let quit_signal = CancellationToken::new();
    spawn_signal_handler(quit_signal.clone());
    tracing::info!(data_dir = %data_dir.display(), "tray agent started");

    let code = loop {
        let msg = tokio::select! {
            m = rx.recv() => m,
            _ = quit_signal.cancelled() => break 0,
        };
        let Some(msg) = msg else { break 0 };
        match msg {
            Msg::Changed(c) => {
                if c.gone {
                    tracing::info!(
                        data_dir = %data_dir.display(),
                        "the data dir was removed; the tray agent stops"
                    );
                    break 0;
                }
                if c.settings {
                    let now = settings::effective(&settings::load(&data_dir), &policy);
                    if now != settings {
                        tracing::info!(
                            interval_min = now.sync_interval_minutes,
                            notifications = now.notifications,
                            "settings changed; background sync restarts with them"
                        );
                        settings = now;
                        daemon.token.cancel();
                        let _ = daemon.join.await;
                        generation += 1;
                        daemon = spawn_daemon(&conn, &settings, generation, &tx);
                    }
                }
                if let Some(t) = &tray {
                    let (overall, relink_for) = summary(&conn);
                    t.show(overall, relink_for).await;
                }
            }
            Msg::Open(who) => windows.open(who.as_deref()),
            Msg::SyncNow => sync_now(&conn, &tx),
            Msg::Quit => break 0,
            Msg::DaemonEnded(g, err) if g == generation => match err {
                Some(connector::Error::AlreadyRunning(m)) => {
                    tracing::info!("{m}; this agent leaves it to that one");
                    break 0;
                }
                Some(e) => {
                    tracing::error!("background sync stopped: {e}");
                    break 1;
                }
                None => break 0,
            },
            Msg::DaemonEnded(..) => {} // a daemon stopped for a settings change
        }
    };
    tracing::info!("tray agent stopping");
    daemon.token.cancel();
    let _ = daemon.join.await;
    if let Some(t) = tray {
        t.shutdown().await;
    }
    windows.close_all().await;
    code
}

/// The tray's summary of the accounts.
fn summary(conn: &Connector) -> (Overall, Option<String>) {
    match conn.status() {
        Ok(r) => (r.overall(), r.first_needing_relink().map(str::to_owned)),
        Err(e) => {
            tracing::warn!("could not read the accounts' state: {e}");
            (Overall::Ok, None)
        }
    }
}

/// The tray's "Sync now" ([`Connector::sync_from_tray`]): a paused account opens its relink wizard.
fn sync_now(conn: &Arc<Connector>, tx: &Tx) {
    let (conn, tx) = (conn.clone(), tx.clone());
    tokio::spawn(async move {
        let quiet: ProgressFn = Arc::new(|_p: Progress| {});
        if let Some(who) = conn.sync_from_tray(quiet).await {
            let _ = tx.send(Msg::Open(Some(who)));
        }
    });
}

/// SIGTERM (logout, `systemctl --user stop`, kill) and SIGINT end the agent cleanly.
fn spawn_signal_handler(quit: CancellationToken) {
    use tokio::signal::unix::{signal, SignalKind};
    tokio::spawn(async move {
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            tracing::warn!("cannot listen for SIGTERM/SIGINT; Quit in the tray still works");
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        quit.cancel();
    });
}

/// Window processes this agent started.
struct Windows {
    /// The desktop app, installed beside the agent.
    exe: PathBuf,
    /// The data dir the agent was given on its command line (forwarded; the environment is inherited).
    data_dir: Option<PathBuf>,
    /// One per window process still running: Quit ends it through this. Each process is waited for
    /// by a task of its own, so one that ended leaves no zombie behind.
    running: Vec<tokio::sync::oneshot::Sender<()>>,
}

impl Windows {
    fn new(data_dir: Option<PathBuf>) -> Self {
        let exe = std::env::current_exe()
            .map(|p| p.with_file_name(crate::APP_BINARY))
            .unwrap_or_else(|_| PathBuf::from(crate::APP_BINARY));
        Windows {
            exe,
            data_dir,
            running: Vec::new(),
        }
    }

    /// Starts the window process. When a window is already open the new process hands the request to
    /// it (the app's single-instance lock) and exits, so the window comes to the front, or switches to
    /// the relink wizard.
    fn open(&mut self, relink: Option<&str>) {
        self.running.retain(|quit| !quit.is_closed());
        let mut cmd = tokio::process::Command::new(&self.exe);
        if let Some(d) = &self.data_dir {
            cmd.arg("--data-dir").arg(d);
        }
        if let Some(who) = relink {
            cmd.arg("--open-relink").arg(who);
        }
        cmd.stdin(Stdio::null()).stdout(Stdio::null());
        match cmd.spawn() {
            Ok(mut child) => {
                tracing::info!(
                    relink = relink.unwrap_or(""),
                    pid = child.id(),
                    "window process started"
                );
                let (quit, mut on_quit) = tokio::sync::oneshot::channel::<()>();
                tokio::spawn(async move {
                    tokio::select! {
                        _ = child.wait() => {}
                        _ = &mut on_quit => {
                            let _ = child.start_kill();
                            let _ = child.wait().await;
                        }
                    }
                });
                self.running.push(quit);
            }
            Err(e) => tracing::error!("could not start the window ({}): {e}", self.exe.display()),
        }
    }

    /// Quit: the windows this agent opened go with it.
    async fn close_all(&mut self) {
        for quit in self.running.drain(..) {
            let _ = quit.send(());
        }
        // Let the waiting tasks end them before the runtime goes.
        tokio::task::yield_now().await;
    }
}
