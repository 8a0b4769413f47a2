//! What the app keeps while it runs: the person's `Connector`, the demo (when one runs), settings,
//! policy, and the background sync tasks.
//!
//! Demo mode: the demo gets its own data dir (`<data_dir>/demo`), its own `Connector` and the demo's
//! keychain namespace ([`connector::demo::demo_keyring_service`]), so it never mixes with a real
//! account's cache or keychain entry. While the demo runs, every account command works on the demo's
//! connector ("current"); real accounts keep syncing in the background. Linking a real account ends the
//! demo; so does quitting (the demo account's keychain entry is removed then).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use connector::policy::Policy;
use connector::Connector;
use tokio_util::sync::CancellationToken;

use crate::settings::Settings;

/// A background daemon task (scheduler + notifications) over one connector.
pub struct DaemonHandle {
    /// Cancels it.
    pub token: CancellationToken,
    /// Ends when it has released its data dir's daemon lock.
    pub join: tauri::async_runtime::JoinHandle<()>,
}

impl DaemonHandle {
    /// Stops the task and waits until it is gone.
    pub async fn stop(self) {
        self.token.cancel();
        let _ = self.join.await;
    }
}

/// The running demo.
pub struct DemoRun {
    /// Simulator and the demo account's credentials.
    pub demo: connector::demo::Demo,
    /// Connector over `<data_dir>/demo`.
    pub conn: Arc<Connector>,
    /// Its background task.
    pub daemon: Option<DaemonHandle>,
}

/// App state (`app.state::<AppState>()`).
pub struct AppState {
    /// The person's data dir.
    pub data_dir: PathBuf,
    /// Connector over it.
    pub main: Arc<Connector>,
    /// The policy read at start, and where from.
    pub policy: Policy,
    /// Where the policy was read from.
    pub policy_path: PathBuf,
    /// User settings (without the policy applied).
    pub settings: Mutex<Settings>,
    /// The demo, while it runs.
    pub demo: tokio::sync::Mutex<Option<DemoRun>>,
    /// Mirror of `demo.is_some()` for synchronous readers (tray, poller).
    pub demo_running: AtomicBool,
    /// The main connector's background task.
    pub main_daemon: tokio::sync::Mutex<Option<DaemonHandle>>,
    /// Account whose relink wizard a "Fix now" asked for, until the UI has read it.
    pub pending_relink: Mutex<Option<String>>,
    /// Whether background tasks run (off in command tests).
    pub background: bool,
    /// Whether a tray icon exists (closing the last window then keeps the app running).
    pub tray: AtomicBool,
    /// When the main window was last created, until its page first asked for the state (the moment
    /// it can show content): logged as the window-open latency, which bench/agent.py reads.
    pub window_opened: Mutex<Option<std::time::Instant>>,
    /// Exports and diagnostics written in this session: the only paths "Show in folder" opens.
    pub written: Mutex<Vec<PathBuf>>,
}

impl AppState {
    /// Remembers a path this app wrote, for "Show in folder".
    pub fn wrote(&self, path: &std::path::Path) {
        lock(&self.written).push(path.to_path_buf());
    }

    /// Whether this app wrote `path` in this session.
    pub fn has_written(&self, path: &std::path::Path) -> bool {
        lock(&self.written).iter().any(|p| p == path)
    }

    /// The connector account commands act on: the demo's while it runs, else the person's.
    pub async fn current(&self) -> Arc<Connector> {
        match &*self.demo.lock().await {
            Some(d) => d.conn.clone(),
            None => self.main.clone(),
        }
    }

    /// Whether the demo runs.
    pub fn is_demo(&self) -> bool {
        self.demo_running.load(Ordering::SeqCst)
    }

    /// User settings.
    pub fn user_settings(&self) -> Settings {
        lock(&self.settings).clone()
    }

    /// Settings with the policy applied.
    pub fn effective_settings(&self) -> Settings {
        crate::settings::effective(&self.user_settings(), &self.policy)
    }

    /// Takes the pending "Fix now" account.
    pub fn take_pending_relink(&self) -> Option<String> {
        lock(&self.pending_relink).take()
    }
}

/// Locks a std mutex; a poisoned one still holds consistent plain data.
pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
