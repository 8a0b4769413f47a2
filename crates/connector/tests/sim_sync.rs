//! The engine in-process against the iCloud simulator, with passwords in a `MemoryKeychain`: sync,
//! lockout protection (docs/design.md rule 1) and the relink loop, without a desktop keychain. The
//! same behaviour through the CLI and the real keychain is tested in `tests/e2e/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use connector::credentials::MemoryKeychain;
use connector::sync::ProgressFn;
use connector::{Connector, Error, OpenOptions, Secret};
use icloud_sim::{Scenario, Sim, SimConfig};

const SERVICE: &str = "calendar-connector-in-process-test";

struct Setup {
    sim: Sim,
    connector: Connector,
    apple_id: String,
    _dir: tempfile::TempDir,
}

fn quiet() -> ProgressFn {
    Arc::new(|_| {})
}

/// A simulator with the default calendars (Home 40 events, Work 25, Reminders 3 todos) and an account
/// linked to it.
async fn linked() -> Setup {
    let cfg = SimConfig::default();
    let apple_id = cfg.apple_id.clone();
    let password = cfg.password.clone();
    let sim = Sim::start(cfg).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let connector = Connector::open_with_keychain(
        OpenOptions {
            data_dir: dir.path().to_path_buf(),
            keyring_service: SERVICE.into(),
        },
        Arc::new(MemoryKeychain::default()),
    )
    .unwrap();
    connector
        .link(&apple_id, &sim.front_url(), Secret::new(password))
        .await
        .unwrap();
    Setup {
        sim,
        connector,
        apple_id,
        _dir: dir,
    }
}

fn account(c: &Connector) -> connector::config::AccountStatus {
    c.status().unwrap().accounts.remove(0)
}

fn reject_every_request(sim: &Sim) {
    sim.set_scenario(Scenario::Reject2_1 {
        joined_header: false,
        with_body: false,
    });
}

#[tokio::test]
async fn a_first_sync_stores_every_event_and_a_second_fetches_nothing() {
    let s = linked().await;
    let (reports, errors) = s.connector.sync(None, quiet(), false).await;
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(reports.len(), 1);
    let a = account(&s.connector);
    assert_eq!(a.state, "active");
    let mut counts: Vec<(String, u64)> = a
        .calendars
        .iter()
        .map(|c| (c.display_name.clone(), c.event_count))
        .collect();
    counts.sort();
    assert!(counts.contains(&("Home".into(), 40)), "{counts:?}");
    assert!(counts.contains(&("Work".into(), 25)), "{counts:?}");

    s.sim.reset_stats();
    let (_, errors) = s.connector.sync(None, quiet(), false).await;
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        s.sim.stats().multiget_hrefs,
        0,
        "nothing changed, nothing fetched"
    );
}

#[tokio::test]
async fn the_events_version_stays_across_a_sync_that_changes_nothing_and_moves_with_a_change() {
    let s = linked().await;
    let sync = || async {
        let (_, errors) = s.connector.sync(None, quiet(), false).await;
        assert!(errors.is_empty(), "{errors:?}");
        s.connector.events_version().unwrap()
    };
    let first = sync().await;
    assert_eq!(sync().await, first, "nothing changed");
    // An event edited on the server: the same count, a new sync token.
    s.sim.modify_events("home", 1);
    let edited = sync().await;
    assert_ne!(edited, first);
    // Hiding a calendar changes what the views show.
    let home = account(&s.connector)
        .calendars
        .into_iter()
        .find(|c| c.display_name == "Home")
        .unwrap()
        .id;
    s.connector
        .set_calendar_hidden(&s.apple_id, &home, true)
        .unwrap();
    assert_ne!(s.connector.events_version().unwrap(), edited);
}

#[tokio::test]
async fn a_revoked_password_pauses_the_account_and_later_syncs_send_nothing() {
    let s = linked().await;
    let (_, errors) = s.connector.sync(None, quiet(), false).await;
    assert!(errors.is_empty(), "{errors:?}");
    reject_every_request(&s.sim);

    let (_, errors) = s.connector.sync(None, quiet(), false).await;
    match &errors[..] {
        [Error::NeedsRelink { reason, .. }] => assert_eq!(reason, "password_revoked"),
        other => panic!("{other:?}"),
    }
    assert!(s.sim.stats().unauthorized >= 1);
    let a = account(&s.connector);
    assert_eq!(a.state, "needs_relink");
    assert_eq!(a.relink_reason.as_deref(), Some("password_revoked"));

    // Rule 1: every later run sends nothing with that password.
    s.sim.reset_stats();
    for _ in 0..3 {
        let (_, errors) = s.connector.sync(None, quiet(), false).await;
        assert!(
            matches!(&errors[..], [Error::NeedsRelink { .. }]),
            "{errors:?}"
        );
    }
    assert_eq!(s.sim.stats().requests, 0);
}

#[tokio::test]
async fn three_refused_checks_make_the_fourth_wait_without_a_request() {
    let s = linked().await;
    reject_every_request(&s.sim);
    let (_, errors) = s.connector.sync(None, quiet(), false).await;
    assert!(
        matches!(&errors[..], [Error::NeedsRelink { .. }]),
        "{errors:?}"
    );

    for n in 0..3 {
        s.sim.reset_stats();
        let err = s
            .connector
            .relink(&s.apple_id, Secret::new("wxyz-wxyz-wxyz-wxyz"), quiet())
            .await
            .unwrap_err();
        match err {
            // A new password that never worked.
            Error::NeedsRelink { reason, .. } => assert_eq!(reason, "password_rejected"),
            other => panic!("check {n}: {other:?}"),
        }
        assert_eq!(s.sim.stats().requests, 1, "check {n}: one request");
    }
    let a = account(&s.connector);
    assert_eq!(a.password_checks_left, 0);
    assert!(a.next_password_check_at.is_some());

    s.sim.reset_stats();
    let err = s
        .connector
        .relink(&s.apple_id, Secret::new("wxyz-wxyz-wxyz-wxyz"), quiet())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::VerificationLimit { .. }), "{err:?}");
    let (_, errors) = s.connector.sync(None, quiet(), true).await;
    assert!(
        matches!(&errors[..], [Error::VerificationLimit { .. }]),
        "Try again waits too: {errors:?}"
    );
    assert_eq!(s.sim.stats().requests, 0);
    assert_eq!(account(&s.connector).state, "needs_relink");
}

#[tokio::test]
async fn relinking_with_an_accepted_password_resumes_without_refetching() {
    let s = linked().await;
    let (_, errors) = s.connector.sync(None, quiet(), false).await;
    assert!(errors.is_empty(), "{errors:?}");
    reject_every_request(&s.sim);
    let (_, errors) = s.connector.sync(None, quiet(), false).await;
    assert!(
        matches!(&errors[..], [Error::NeedsRelink { .. }]),
        "{errors:?}"
    );

    let new = "qrst-qrst-qrst-qrst";
    s.sim.set_scenario(Scenario::Normal);
    s.sim.set_password(new);
    s.sim.reset_stats();
    let report = s
        .connector
        .relink(&s.apple_id, Secret::new(new), quiet())
        .await
        .unwrap();
    assert_eq!(report.apple_id, s.apple_id);
    assert_eq!(s.sim.stats().multiget_hrefs, 0, "the cache was kept");
    let a = account(&s.connector);
    assert_eq!(a.state, "active");
    assert!(a.relink_reason.is_none());
    assert_eq!(a.password_checks_left, 3);
    // The new password is the one the next sync uses.
    let (_, errors) = s.connector.sync(None, quiet(), false).await;
    assert!(errors.is_empty(), "{errors:?}");
}
