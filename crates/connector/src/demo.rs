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
    /// The `webcal://` link of the public calendar the demo publishes, to try subscribing.
    pub published_link: String,
}

/// Token of the demo's public calendar.
const PUBLISHED_TOKEN: &str = "MDEyMzQ1Njc4OWRlbW8";

/// The demo's public calendar: three all-day events in the coming days, named and coloured the way
/// iCloud publishes a shared calendar (QUIRK(icloud §1.9)).
fn published_calendar(today: chrono::NaiveDate) -> Vec<u8> {
    let mut s = String::from(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Apple Inc.//iCloud 2.0//EN\r\nCALSCALE:GREGORIAN\r\n\
         X-WR-CALNAME:Team holidays (public)\r\nX-APPLE-CALENDAR-COLOR:#FF2968\r\n",
    );
    for (days, what) in [
        (2, "Founders' day"),
        (5, "Summer party"),
        (9, "Office closed"),
    ] {
        let start = today + chrono::Duration::days(days);
        let end = start + chrono::Duration::days(1);
        s.push_str(&format!(
            "BEGIN:VEVENT\r\nUID:demo-public-{days}@calendarconnector.invalid\r\nDTSTAMP:{stamp}T000000Z\r\n\
             DTSTART;VALUE=DATE:{start}\r\nDTEND;VALUE=DATE:{end}\r\nSUMMARY:{what}\r\nTRANSP:TRANSPARENT\r\nEND:VEVENT\r\n",
            stamp = today.format("%Y%m%d"),
            start = start.format("%Y%m%d"),
            end = end.format("%Y%m%d"),
        ));
    }
    s.push_str("END:VCALENDAR\r\n");
    s.into_bytes()
}

/// Starts the simulator with its default calendars, events around today.
pub async fn start() -> Result<Demo, crate::Error> {
    let base = icloud_sim::SimConfig::default();
    let cfg = icloud_sim::SimConfig {
        published: vec![(
            PUBLISHED_TOKEN.to_owned(),
            published_calendar(base.base_date),
        )],
        ..base
    };
    let apple_id = cfg.apple_id.clone();
    let password = cfg.password.clone();
    let sim = icloud_sim::Sim::start(cfg)
        .await
        .map_err(|e| crate::Error::Io(format!("could not start the demo server: {e}")))?;
    let published_link = sim.published_link(PUBLISHED_TOKEN);
    Ok(Demo {
        sim,
        apple_id,
        password,
        published_link,
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
