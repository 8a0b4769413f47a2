//! The workspace end-to-end tests, one test binary with a module per area: the CLI binary against the
//! iCloud simulator, a real Radicale, the real Secret Service and a real notification server. Shared
//! helpers (environments, the link set-up, Radicale, cache snapshots, the desktop lock) are in the
//! `e2e` library, `tests/src/lib.rs`.
//!
//! The tests run in parallel threads of this one process. Each has its own data dir, keychain
//! namespace and simulator; the desktop session is shared, so tests that run a daemon hold
//! [`e2e::desktop_shared`] and tests that count notifications or click through dunst hold
//! [`e2e::desktop_exclusive`].
//!
//! Run under `scripts/ci/desktop-session.sh` after `cargo build -p calendar-connector-cli`:
//! `REQUIRE_KEYCHAIN=1 scripts/ci/desktop-session.sh cargo test -p e2e`; one area with
//! `cargo test -p e2e --test e2e notify::`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli_radicale;
mod cli_sim;
mod crash;
mod faults;
mod fuzz;
mod keychain;
mod notify;
mod relink;
mod secrets;
mod soak;
mod subscribe;

/// A test that starts a daemon (the only thing that notifies) without the desktop lock would run beside
/// a test that counts notifications and break its count, now and then. This reads the modules' source:
/// each test that starts a daemon or watches the bus must take the lock.
#[test]
fn every_test_that_can_notify_holds_the_desktop_lock() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("e2e");
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|n| n == "main.rs") {
            continue;
        }
        let src = std::fs::read_to_string(&path).unwrap();
        // From one test attribute to the next: the test and any helper written after it.
        let mut chunks = src.split("#[tokio::test").flat_map(|c| c.split("#[test]"));
        chunks.next(); // what comes before the first test
        for chunk in chunks {
            let notifies = [
                "\"daemon\"",
                "Daemon::start(",
                "Monitor::start(",
                "dunstctl(",
            ]
            .iter()
            .any(|n| chunk.contains(n));
            let locked = chunk.contains("desktop_shared().await")
                || chunk.contains("desktop_exclusive().await");
            if notifies && !locked {
                let name = chunk
                    .split("fn ")
                    .nth(1)
                    .and_then(|s| s.split('(').next())
                    .unwrap_or("?");
                missing.push(format!("{}: {name}", path.display()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "these tests can notify but hold no desktop lock (e2e::desktop_shared): {missing:#?}"
    );
}
