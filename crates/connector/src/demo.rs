//! Demo mode: the built-in iCloud simulator on loopback, so a newcomer sees the whole flow (link,
//! sync, agenda, and later a simulated revocation) without an Apple ID.

use crate::credentials::service_for_namespace;

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
