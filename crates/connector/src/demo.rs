//! Demo mode: the built-in iCloud simulator on loopback, so a newcomer sees the whole flow (link,
//! sync, agenda, and later a simulated revocation) without an Apple ID.

use std::path::Path;

use crate::credentials::{service_for_namespace, Secret};
use crate::{Connector, LinkReport, OpenOptions};

/// Keychain namespace of the demo account (never the real service).
pub const DEMO_NAMESPACE: &str = "demo";

/// The demo's keychain service.
pub fn demo_keyring_service() -> String {
    service_for_namespace(Some(DEMO_NAMESPACE))
}

/// A running simulator plus the credentials of its demo account.
pub struct Demo {
    /// The simulator.
    pub sim: icloud_sim::Sim,
    /// Its Apple ID.
    pub apple_id: String,
    /// Its accepted app-specific password (the demo's, not a secret of anyone's).
    pub password: String,
}

/// Starts the simulator with its default calendars, events around today.
pub async fn start() -> Result<Demo, crate::Error> {
    let cfg = icloud_sim::SimConfig::default();
    let apple_id = cfg.apple_id.clone();
    let password = cfg.password.clone();
    let sim = icloud_sim::Sim::start(cfg)
        .await
        .map_err(|e| crate::Error::Io(format!("could not start the demo server: {e}")))?;
    Ok(Demo {
        sim,
        apple_id,
        password,
    })
}

/// The demo, linked: its simulator, a connector over the demo's own data dir and keychain name, and
/// the link's report. The one demo set-up the CLI and the desktop app share.
pub struct LinkedDemo {
    /// The simulator and the demo account's credentials.
    pub demo: Demo,
    /// The connector over `dir`.
    pub conn: Connector,
    /// What the link found.
    pub report: LinkReport,
}

/// Removes the demo's account (and its keychain entry) and data under `dir`, if any.
pub fn forget(dir: &Path) {
    if !dir.exists() {
        return;
    }
    if let Ok(c) = Connector::open(OpenOptions {
        data_dir: dir.to_path_buf(),
        keyring_service: demo_keyring_service(),
    }) {
        for id in c.account_ids().unwrap_or_default() {
            if let Err(e) = c.unlink(&id) {
                tracing::warn!("could not remove the demo account: {e}");
            }
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// Starts the simulator and links its account into `dir` (the first sync is the caller's, so it can
/// show progress). On failure nothing is left running: the simulator is stopped and a half-made
/// demo account removed.
pub async fn start_linked(dir: &Path) -> Result<LinkedDemo, crate::Error> {
    let demo = start().await?;
    let conn = match Connector::open(OpenOptions {
        data_dir: dir.to_path_buf(),
        keyring_service: demo_keyring_service(),
    }) {
        Ok(c) => c,
        Err(e) => {
            demo.sim.shutdown().await;
            return Err(e);
        }
    };
    match conn
        .link(
            &demo.apple_id,
            &demo.sim.front_url(),
            Secret::new(demo.password.clone()),
        )
        .await
    {
        Ok(report) => Ok(LinkedDemo { demo, conn, report }),
        Err(e) => {
            drop(conn);
            forget(dir);
            demo.sim.shutdown().await;
            Err(e)
        }
    }
}
