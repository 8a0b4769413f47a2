//! The relink loop against the iCloud simulator (docs/icloud.md §2 and §4, docs/design.md rules 1, 2 and 7):
//! the first §2.1 401 pauses an account after exactly one request and nothing is sent with that password
//! again; the reason comes from context; `relink` verifies with one request, replaces the keychain entry
//! and resumes without refetching; verification attempts are capped at 3 per 15 minutes across
//! processes; throttling, 5xx, truncated, HTML and cross-host answers are errors that delete nothing and
//! never ask for a new password. Every test has its own data dir, keychain namespace and simulator.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Stdio;
use std::sync::atomic::Ordering;
use std::time::Duration;

use e2e::{counts, server_count, show, Env, Run};
use icloud_sim::{RequestKind, Scenario, Sim, SimConfig};

const ID: &str = "demo@example.com";
/// The password the simulator accepts at first.
const PW: &str = "abcd-efgh-ijkl-mnop";
/// The replacement app-specific password (16 lowercase letters, docs/icloud.md §4.2).
const NEW: &str = "qrst-uvwx-yzab-cdef";
/// A well-formed password the simulator never accepts.
const WRONG: &str = "wxyz-wxyz-wxyz-wxyz";

use e2e::event_calendar as cal;

async fn sim_with_password(password: &str) -> Sim {
    Sim::start(SimConfig {
        calendars: vec![cal("home", "Home", 40), cal("work", "Work", 25)],
        password: password.into(),
        ..Default::default()
    })
    .await
    .unwrap()
}

async fn default_sim() -> Sim {
    sim_with_password(PW).await
}

/// Linked and synced once with `password`.
async fn linked_with(sim: &Sim, password: &str) -> Env {
    Env::linked(&sim.front_url(), ID, password).await
}

async fn linked(sim: &Sim) -> Env {
    linked_with(sim, PW).await
}

async fn account(env: &Env) -> serde_json::Value {
    let st = env.status().await;
    let accounts = st["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 1, "{st:#}");
    accounts[0].clone()
}

async fn sync(env: &Env, extra: &[&str]) -> Run {
    let mut args = vec!["sync"];
    args.extend_from_slice(extra);
    env.run_async(&args, None).await
}

async fn relink(env: &Env, password: &str) -> Run {
    env.run_async(
        &["relink", "--apple-id", ID, "--password-stdin"],
        Some(password),
    )
    .await
}

fn assert_guidance(text: &str, context: &str) {
    for needle in [
        "account.apple.com",
        "Sign-In and Security",
        "App-Specific Passwords",
        "Nothing cached is lost",
    ] {
        assert!(
            text.contains(needle),
            "guidance lacks {needle:?} ({context}):\n{text}"
        );
    }
}

/// Asserts the account is paused for `reason` with the full guidance in status and on stderr.
async fn assert_paused(env: &Env, reason: &str, sync_run: &Run) {
    assert_eq!(sync_run.code, 3, "{}", show(sync_run));
    assert_guidance(&sync_run.stderr, "stderr of the sync that exits 3");
    let a = account(env).await;
    assert_eq!(a["state"], "needs_relink", "{a:#}");
    assert_eq!(a["icloud_app_specific_password_required"], true, "{a:#}");
    assert_eq!(a["relink_reason"], reason, "{a:#}");
    let g = a["guidance"]
        .as_str()
        .unwrap_or_else(|| panic!("guidance is a string when needs_relink: {a:#}"));
    assert_guidance(g, "status --json guidance");
    if reason == "password_revoked" {
        assert!(
            g.contains("revokes every app-specific password"),
            "revoked guidance says why:\n{g}"
        );
    }
}

/// Links, syncs, then Apple stops accepting the password (it revoked it): the account is paused.
async fn paused_account(sim: &Sim) -> Env {
    Env::paused(sim, ID, PW, NEW).await
}

async fn rejection_pauses_after_exactly_one_request(joined_header: bool, with_body: bool) {
    let sim = default_sim().await;
    let env = linked(&sim).await;
    let before = counts(&env.status().await);
    sim.set_scenario(Scenario::Reject2_1 {
        joined_header,
        with_body,
    });
    sim.reset_stats();
    let r = sync(&env, &[]).await;
    let st = sim.stats();
    assert_eq!(
        st.requests,
        1,
        "the first 401 stops everything, no double-check: {st:?}\n{}",
        show(&r)
    );
    assert_eq!(st.unauthorized, 1, "{st:?}");
    assert_paused(&env, "password_revoked", &r).await;
    assert_eq!(
        counts(&env.status().await),
        before,
        "nothing cached is lost"
    );

    // Later syncs (every account, one account) send nothing with that password — even when the server
    // would accept it again: only the person decides to try again.
    for round in 0..2 {
        if round == 1 {
            sim.set_scenario(Scenario::Normal);
        }
        for extra in [&[][..], &["--apple-id", ID][..]] {
            sim.reset_stats();
            let r = sync(&env, extra).await;
            assert_eq!(r.code, 3, "sync {extra:?}: {}", show(&r));
            assert_eq!(
                sim.stats().requests,
                0,
                "sync {extra:?} (round {round}) sent a request for a paused account:\n{}",
                show(&r)
            );
            assert_guidance(&r.stderr, "a later sync still explains");
        }
    }
    sim.reset_stats();
    let _ = env.status().await;
    assert_eq!(sim.stats().requests, 0, "status is offline");
    assert_eq!(counts(&env.status().await), before);
    env.forget(ID);
}

#[tokio::test(flavor = "multi_thread")]
async fn icloud_2_1_two_header_lines_401_pauses_after_exactly_one_request_and_later_syncs_send_nothing(
) {
    if e2e::keychain_or_skip() {
        rejection_pauses_after_exactly_one_request(false, false).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn icloud_2_1_comma_joined_401_with_body_pauses_after_exactly_one_request_and_later_syncs_send_nothing(
) {
    if e2e::keychain_or_skip() {
        rejection_pauses_after_exactly_one_request(true, true).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn icloud_2_1_401_in_the_middle_of_a_pass_stops_at_that_request() {
    if !e2e::keychain_or_skip() {
        return;
    }
    let sim = default_sim().await;
    let env = linked(&sim).await;
    sim.add_events("home", 5);
    sim.add_events("work", 5);
    let before = counts(&env.status().await);
    // The home-set listing goes through; the first sync-collection gets the 401.
    sim.set_scenario_for(
        Scenario::Reject2_1 {
            joined_header: false,
            with_body: false,
        },
        RequestKind::SyncCollection,
        0,
    );
    sim.reset_stats();
    let r = sync(&env, &[]).await;
    let st = sim.stats();
    assert_eq!(st.unauthorized, 1, "{st:?}\n{}", show(&r));
    assert_eq!(
        st.sync_collection, 1,
        "no request to the other calendar after the 401: {st:?}"
    );
    assert_eq!(st.multiget, 0, "{st:?}");
    assert_paused(&env, "password_revoked", &r).await;
    assert_eq!(counts(&env.status().await), before);
    sim.reset_stats();
    let r = sync(&env, &[]).await;
    assert_eq!(r.code, 3, "{}", show(&r));
    assert_eq!(sim.stats().requests, 0);
    env.forget(ID);
}

#[tokio::test(flavor = "multi_thread")]
async fn reason_app_specific_password_required_when_the_stored_secret_is_not_an_asp() {
    if !e2e::keychain_or_skip() {
        return;
    }
    // A server that accepts the Apple ID password itself (iCloud does not): link works, with a warning.
    let sim = sim_with_password("NotAnAsp123").await;
    let env = linked_with(&sim, "NotAnAsp123").await;
    sim.set_password(NEW);
    let r = sync(&env, &[]).await;
    assert_paused(&env, "app_specific_password_required", &r).await;
    env.forget(ID);
}

#[tokio::test(flavor = "multi_thread")]
async fn reason_password_revoked_when_a_password_that_synced_is_rejected() {
    if !e2e::keychain_or_skip() {
        return;
    }
    let sim = default_sim().await;
    let env = linked(&sim).await;
    sim.set_password("new1-new1-new1-new1"); // Apple revoked it (e.g. the Apple ID password changed)
    sim.reset_stats();
    let r = sync(&env, &[]).await;
    assert_eq!(sim.stats().requests, 1, "{:?}", sim.stats());
    assert_paused(&env, "password_revoked", &r).await;
    env.forget(ID);
}

#[tokio::test(flavor = "multi_thread")]
async fn reason_password_rejected_when_the_password_never_completed_a_sync() {
    if !e2e::keychain_or_skip() {
        return;
    }
    let sim = default_sim().await;
    let env = Env::new();
    let r = env
        .run_async(
            &[
                "--server-url",
                &sim.front_url(),
                "link",
                "--apple-id",
                ID,
                "--password-stdin",
                "--no-sync",
            ],
            Some(PW),
        )
        .await;
    assert_eq!(r.code, 0, "{}", show(&r));
    sim.set_scenario(Scenario::Reject2_1 {
        joined_header: false,
        with_body: false,
    });
    sim.reset_stats();
    let r = sync(&env, &[]).await;
    assert_eq!(sim.stats().requests, 1, "{:?}", sim.stats());
    assert_paused(&env, "password_rejected", &r).await;
    env.forget(ID);
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_password_at_link_time_exits_3_stores_nothing_and_points_to_account_apple_com() {
    if !e2e::keychain_or_skip() {
        return;
    }
    let sim = default_sim().await;
    let env = Env::new();
    let r = env.link(&sim.front_url(), ID, WRONG).await;
    assert_eq!(r.code, 3, "{}", show(&r));
    assert!(r.stderr.contains("account.apple.com"), "{}", show(&r));
    let st = sim.stats();
    assert_eq!(st.unauthorized, 1, "{st:?}");
    assert_eq!(st.requests, 1, "nothing after the 401: {st:?}");
    assert!(
        env.status().await["accounts"]
            .as_array()
            .unwrap()
            .is_empty(),
        "no account saved"
    );
    assert_eq!(env.keychain_password(ID), None, "nothing in the keychain");
    env.forget(ID);
}

#[tokio::test(flavor = "multi_thread")]
async fn relink_verifies_with_one_request_and_resumes_without_refetching() {
    if !e2e::keychain_or_skip() {
        return;
    }
    let sim = default_sim().await;
    let env = paused_account(&sim).await;
    let before = counts(&env.status().await);
    sim.reset_stats();
    // Pasted with spaces, upper case, no hyphens and a newline (docs/icloud.md §4.2).
    let r = relink(&env, "  QRSTUVWXYZABCDEF\n").await;
    assert_eq!(r.code, 0, "{}", show(&r));
    let st = sim.stats();
    assert_eq!(
        st.unauthorized, 0,
        "the normalised password was sent: {st:?}"
    );
    assert!(st.requests >= 1, "{st:?}");
    assert_eq!(
        st.multiget_hrefs + st.get,
        0,
        "nothing changed on the server, so nothing is fetched again: {st:?}"
    );
    assert_eq!(
        env.keychain_password(ID).as_deref(),
        Some(NEW),
        "the keychain entry is replaced by the normalised password"
    );
    let a = account(&env).await;
    assert_eq!(a["state"], "active", "{a:#}");
    assert_eq!(a["icloud_app_specific_password_required"], false, "{a:#}");
    assert!(a["relink_reason"].is_null(), "{a:#}");
    assert!(a["guidance"].is_null(), "{a:#}");
    assert!(a["last_successful_sync"].is_string(), "{a:#}");
    assert_eq!(
        counts(&env.status().await),
        before,
        "nothing cached is lost"
    );
    // It keeps working with the new password.
    sim.reset_stats();
    let r = sync(&env, &[]).await;
    assert_eq!(r.code, 0, "{}", show(&r));
    assert_eq!(sim.stats().unauthorized, 0);
    env.forget(ID);
}

#[tokio::test(flavor = "multi_thread")]
async fn relink_with_server_changes_fetches_exactly_the_changed() {
    if !e2e::keychain_or_skip() {
        return;
    }
    let sim = default_sim().await;
    let env = paused_account(&sim).await;
    let added = sim.add_events("home", 3);
    let modified = sim.modify_events("home", 2);
    let deleted = sim.delete_events("work", 1);
    assert_eq!((added.len(), modified.len(), deleted.len()), (3, 2, 1));
    sim.reset_stats();
    let r = relink(&env, NEW).await;
    assert_eq!(r.code, 0, "{}", show(&r));
    let st = sim.stats();
    assert_eq!(
        st.multiget_hrefs + st.get,
        5,
        "only the 3 added and 2 modified are fetched, with the stored sync tokens: {st:?}"
    );
    let c = counts(&env.status().await);
    assert_eq!(c["Home"], server_count(&sim, "home"));
    assert_eq!(c["Work"], server_count(&sim, "work"));
    env.forget(ID);
}

#[tokio::test(flavor = "multi_thread")]
async fn rejected_relink_sends_one_request_and_keeps_the_cache_and_the_old_keychain_entry() {
    if !e2e::keychain_or_skip() {
        return;
    }
    let sim = default_sim().await;
    let env = paused_account(&sim).await;
    let before = counts(&env.status().await);
    sim.reset_stats();
    let r = relink(&env, WRONG).await;
    assert_eq!(r.code, 3, "{}", show(&r));
    let st = sim.stats();
    assert_eq!(st.requests, 1, "exactly one verification request: {st:?}");
    assert_eq!(st.unauthorized, 1, "{st:?}");
    assert!(r.stderr.contains("account.apple.com"), "{}", show(&r));
    let a = account(&env).await;
    assert_eq!(a["state"], "needs_relink", "{a:#}");
    assert_eq!(a["icloud_app_specific_password_required"], true, "{a:#}");
    assert_eq!(counts(&env.status().await), before, "the cache is kept");
    assert_eq!(
        env.keychain_password(ID).as_deref(),
        Some(PW),
        "a rejected password is never saved; the old entry stays"
    );
    // Still no traffic from plain syncs.
    sim.reset_stats();
    let r = sync(&env, &[]).await;
    assert_eq!(r.code, 3, "{}", show(&r));
    assert_eq!(sim.stats().requests, 0);
    // The right password then works.
    let r = relink(&env, NEW).await;
    assert_eq!(r.code, 0, "{}", show(&r));
    assert_eq!(account(&env).await["state"], "active");
    assert_eq!(env.keychain_password(ID).as_deref(), Some(NEW));
    assert_eq!(counts(&env.status().await), before);
    env.forget(ID);
}

fn assert_names_a_time(stderr: &str) {
    let lower = stderr.to_lowercase();
    let at = lower
        .find("try again after")
        .unwrap_or_else(|| panic!("stderr says when it becomes possible:\n{stderr}"));
    let rest = &stderr[at + "try again after".len()..];
    let rest: String = rest.chars().take(40).collect();
    let b = rest.as_bytes();
    let has_clock = b
        .windows(3)
        .any(|w| w[0].is_ascii_digit() && w[1] == b':' && w[2].is_ascii_digit());
    assert!(
        has_clock,
        "a time (HH:MM) follows \"try again after\":\n{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn fourth_verification_within_15_minutes_is_refused_locally() {
    if !e2e::keychain_or_skip() {
        return;
    }
    let sim = default_sim().await;
    let env = paused_account(&sim).await;
    // Three verification attempts, each its own process: two relinks and one "try again".
    for (i, attempt) in ["relink", "relink", "retry-auth"].iter().enumerate() {
        sim.reset_stats();
        let r = if *attempt == "relink" {
            relink(&env, WRONG).await
        } else {
            sync(&env, &["--retry-auth"]).await
        };
        assert_eq!(r.code, 3, "attempt {} ({attempt}): {}", i + 1, show(&r));
        assert_eq!(
            sim.stats().requests,
            1,
            "attempt {} ({attempt}) sends one verification: {:?}",
            i + 1,
            sim.stats()
        );
    }
    // The fourth is refused without a request — even with the right password.
    sim.reset_stats();
    let r = relink(&env, NEW).await;
    assert_eq!(r.code, 3, "{}", show(&r));
    assert_eq!(
        sim.stats().requests,
        0,
        "the 4th attempt sends nothing: {}",
        show(&r)
    );
    assert_names_a_time(&r.stderr);
    sim.reset_stats();
    let r = sync(&env, &["--retry-auth"]).await;
    assert_eq!(r.code, 3, "{}", show(&r));
    assert_eq!(sim.stats().requests, 0, "{}", show(&r));
    assert_names_a_time(&r.stderr);
    let a = account(&env).await;
    assert_eq!(a["state"], "needs_relink", "{a:#}");
    assert_eq!(
        env.keychain_password(ID).as_deref(),
        Some(PW),
        "a refused attempt saves nothing"
    );
    env.forget(ID);
}

#[tokio::test(flavor = "multi_thread")]
async fn only_refusals_count_towards_the_limit_and_a_password_that_works_resets_it() {
    if !e2e::keychain_or_skip() {
        return;
    }
    let sim = default_sim().await;
    let env = paused_account(&sim).await;
    // One "Try again" and one paste of the old password: two refusals.
    assert_eq!(sync(&env, &["--retry-auth"]).await.code, 3);
    assert_eq!(relink(&env, WRONG).await.code, 3);
    // A check that gets no answer from Apple (the server is down) is not a refusal.
    sim.set_scenario(Scenario::ServerError { status: 503 });
    let r = relink(&env, NEW).await;
    assert_ne!(r.code, 0, "{}", show(&r));
    sim.set_scenario(Scenario::Normal);
    // The right password: accepted (the third check), and the count starts again.
    let r = relink(&env, NEW).await;
    assert_eq!(r.code, 0, "{}", show(&r));
    // Apple revokes that one too, later the same quarter hour: the new password must not be blocked.
    let newer = "wxyz-abcd-efgh-ijkl";
    sim.set_password(newer);
    assert_eq!(sync(&env, &[]).await.code, 3);
    sim.reset_stats();
    let r = relink(&env, newer).await;
    assert_eq!(r.code, 0, "a success reset the limit: {}", show(&r));
    assert_eq!(account(&env).await["state"], "active");
    env.forget(ID);
}

#[tokio::test(flavor = "multi_thread")]
async fn sync_retry_auth_sends_one_verification_and_resumes_when_accepted() {
    if !e2e::keychain_or_skip() {
        return;
    }
    let sim = default_sim().await;
    let env = linked(&sim).await;
    let before = counts(&env.status().await);
    // A glitch on Apple's side (§2.5): the same password is rejected once.
    sim.set_scenario(Scenario::Reject2_1 {
        joined_header: true,
        with_body: false,
    });
    let r = sync(&env, &[]).await;
    assert_paused(&env, "password_revoked", &r).await;
    // Still rejected: one verification request, still paused.
    sim.reset_stats();
    let r = sync(&env, &["--retry-auth"]).await;
    assert_eq!(r.code, 3, "{}", show(&r));
    assert_eq!(sim.stats().requests, 1, "{:?}", sim.stats());
    assert_eq!(account(&env).await["state"], "needs_relink");
    // Accepted again: the person says "Try again" and sync resumes without refetching.
    sim.set_scenario(Scenario::Normal);
    sim.reset_stats();
    let r = sync(&env, &[]).await;
    assert_eq!(r.code, 3, "plain sync still sends nothing: {}", show(&r));
    assert_eq!(sim.stats().requests, 0);
    let r = sync(&env, &["--retry-auth"]).await;
    assert_eq!(r.code, 0, "{}", show(&r));
    let st = sim.stats();
    assert_eq!(st.unauthorized, 0, "{st:?}");
    assert_eq!(st.multiget_hrefs + st.get, 0, "{st:?}");
    let a = account(&env).await;
    assert_eq!(a["state"], "active", "{a:#}");
    assert_eq!(a["icloud_app_specific_password_required"], false, "{a:#}");
    assert_eq!(counts(&env.status().await), before);
    assert_eq!(env.keychain_password(ID).as_deref(), Some(PW));
    env.forget(ID);
}

#[tokio::test(flavor = "multi_thread")]
async fn restarted_daemon_sends_no_request_for_an_account_that_needs_relink() {
    if !e2e::keychain_or_skip() {
        return;
    }
    // Its daemon may notify: not while a test counts notifications.
    let _desktop = e2e::desktop_shared().await;
    let sim = default_sim().await;
    let env = paused_account(&sim).await;
    for run in 0..2 {
        sim.reset_stats();
        let log = env.dir.path().join(format!("daemon-{run}.log"));
        let mut child = env
            .cmd()
            .args(["-v", "daemon", "--interval", "1"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(3000)).await;
        let early = child.try_wait().unwrap();
        e2e::sigterm(child.id());
        let status = e2e::wait_exit(&mut child, Duration::from_secs(5)).await;
        let stderr = std::fs::read_to_string(&log).unwrap_or_default();
        assert!(
            early.is_none(),
            "daemon run {run} exited early ({early:?}):\n{stderr}"
        );
        let Some(status) = status else {
            let _ = child.kill();
            panic!("daemon run {run} ignored SIGTERM for 5 s:\n{stderr}");
        };
        assert_eq!(status.code(), Some(0), "daemon run {run}:\n{stderr}");
        assert_eq!(
            sim.stats().requests,
            0,
            "daemon run {run} sent requests for a paused account:\n{stderr}"
        );
    }
    assert_eq!(account(&env).await["state"], "needs_relink");
    env.forget(ID);
}

#[tokio::test(flavor = "multi_thread")]
async fn throttle_503_retry_after_is_floored_doubled_and_respected() {
    if !e2e::keychain_or_skip() {
        return;
    }
    let sim = default_sim().await;
    let env = linked(&sim).await;
    let before = counts(&env.status().await);
    sim.delete_events("home", 30);
    sim.set_scenario(Scenario::Throttle2_6 {
        retry_after: Some("5".into()),
    });
    let r = sync(&env, &[]).await;
    let ended = chrono::Utc::now();
    assert_eq!(r.code, 4, "{}", show(&r));
    let a = account(&env).await;
    assert_eq!(a["state"], "backoff", "{a:#}");
    assert_eq!(a["icloud_app_specific_password_required"], false, "{a:#}");
    let next = a["next_attempt_at"]
        .as_str()
        .unwrap_or_else(|| panic!("next_attempt_at is set after throttling: {a:#}"));
    let next = chrono::DateTime::parse_from_rfc3339(next)
        .unwrap_or_else(|e| panic!("next_attempt_at {next:?} is not RFC 3339: {e}"));
    let wait = (next.with_timezone(&chrono::Utc) - ended).num_milliseconds() as f64 / 1000.0;
    assert!(
        (7.0..=13.0).contains(&wait),
        "Retry-After 5 s, floored at 2 s and doubled → about 10 s from now, got {wait:.1} s: {a:#}"
    );
    assert_eq!(counts(&env.status().await), before, "nothing deleted");
    // Before then: not a single request, still exit 4.
    sim.set_scenario(Scenario::Normal);
    sim.reset_stats();
    let r = sync(&env, &[]).await;
    assert_eq!(r.code, 4, "{}", show(&r));
    assert_eq!(
        sim.stats().requests,
        0,
        "a sync before next_attempt_at waits:\n{}",
        show(&r)
    );
    assert_eq!(counts(&env.status().await), before, "nothing deleted");
    // After it: the deletions are applied from a complete listing.
    let left = next.with_timezone(&chrono::Utc) - chrono::Utc::now();
    if let Ok(d) = left.to_std() {
        tokio::time::sleep(d + Duration::from_millis(500)).await;
    }
    let r = sync(&env, &[]).await;
    assert_eq!(r.code, 0, "{}", show(&r));
    assert_eq!(
        counts(&env.status().await)["Home"],
        server_count(&sim, "home")
    );
    assert_eq!(account(&env).await["state"], "active");
    env.forget(ID);
}

/// A failure that is neither a credential problem nor allowed to delete anything.
async fn failure_is_not_a_relink(scenario: Scenario, code: i32, words: &str) {
    let sim = default_sim().await;
    let env = linked(&sim).await;
    let before = counts(&env.status().await);
    sim.delete_events("home", 30);
    sim.delete_events("work", 20);
    sim.set_scenario(scenario.clone());
    let r = sync(&env, &[]).await;
    assert_eq!(r.code, code, "{scenario:?}: {}", show(&r));
    assert!(
        r.stderr.contains(words),
        "{scenario:?}: stderr lacks {words:?}:\n{}",
        show(&r)
    );
    let a = account(&env).await;
    assert_ne!(a["state"], "needs_relink", "{scenario:?}: {a:#}");
    assert_eq!(
        a["icloud_app_specific_password_required"], false,
        "{scenario:?}: {a:#}"
    );
    assert!(a["relink_reason"].is_null(), "{scenario:?}: {a:#}");
    assert!(!a["last_error"].is_null(), "{scenario:?}: {a:#}");
    assert_eq!(
        counts(&env.status().await),
        before,
        "{scenario:?}: nothing deleted"
    );
    assert_eq!(env.keychain_password(ID).as_deref(), Some(PW));
    env.forget(ID);
}

#[tokio::test(flavor = "multi_thread")]
async fn server_error_500_exits_4_deletes_nothing_and_asks_for_no_password() {
    if e2e::keychain_or_skip() {
        failure_is_not_a_relink(Scenario::ServerError { status: 500 }, 4, "500").await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn truncated_body_exits_4_deletes_nothing_and_asks_for_no_password() {
    if e2e::keychain_or_skip() {
        failure_is_not_a_relink(Scenario::TruncatedBody, 4, "cut off").await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn html_sign_in_page_exits_1_deletes_nothing_and_is_not_a_relink() {
    if e2e::keychain_or_skip() {
        failure_is_not_a_relink(
            Scenario::HtmlSignIn,
            1,
            "sign-in page instead of calendar data",
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn redirect_to_another_host_sends_no_credentials_and_deletes_nothing() {
    if !e2e::keychain_or_skip() {
        return;
    }
    let e2e::Tripwire { port, hit, seen } = e2e::tripwire().await;
    let sim = default_sim().await;
    let env = linked(&sim).await;
    let before = counts(&env.status().await);
    sim.delete_events("home", 30);
    sim.set_scenario(Scenario::RedirectOtherHost {
        location: format!("http://127.0.0.1:{port}/17149682/calendars/"),
    });
    let r = sync(&env, &[]).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got = String::from_utf8_lossy(&seen.lock().unwrap()).into_owned();
    assert!(
        !hit.load(Ordering::SeqCst),
        "the other host got a connection (credentials must never leave):\n{got}\n{}",
        show(&r)
    );
    assert_eq!(r.code, 1, "{}", show(&r));
    assert!(
        r.stderr.to_lowercase().contains("redirect"),
        "stderr mentions the redirect:\n{}",
        show(&r)
    );
    let a = account(&env).await;
    assert_ne!(a["state"], "needs_relink", "{a:#}");
    assert_eq!(a["icloud_app_specific_password_required"], false, "{a:#}");
    assert_eq!(counts(&env.status().await), before, "nothing deleted");
    env.forget(ID);
}

#[tokio::test(flavor = "multi_thread")]
async fn status_json_has_every_account_field_in_both_states() {
    if !e2e::keychain_or_skip() {
        return;
    }
    let sim = default_sim().await;
    let env = linked(&sim).await;
    let check = |a: &serde_json::Value| {
        for k in [
            "apple_id",
            "server_url",
            "state",
            "icloud_app_specific_password_required",
            "relink_reason",
            "guidance",
            "last_successful_sync",
            "last_error",
            "next_attempt_at",
            "calendars",
            "quarantined",
        ] {
            assert!(a.get(k).is_some(), "status --json lacks {k}: {a:#}");
        }
        for c in a["calendars"].as_array().unwrap() {
            for k in ["id", "display_name", "color", "event_count", "read_only"] {
                assert!(c.get(k).is_some(), "calendar lacks {k}: {c:#}");
            }
        }
        assert!(a["quarantined"].is_array(), "{a:#}");
    };
    let a = account(&env).await;
    check(&a);
    assert_eq!(a["apple_id"], ID);
    assert_eq!(a["state"], "active");
    assert_eq!(a["icloud_app_specific_password_required"], false);
    assert!(a["next_attempt_at"].is_null(), "{a:#}");
    sim.set_password(NEW);
    let r = sync(&env, &[]).await;
    assert_eq!(r.code, 3, "{}", show(&r));
    let a = account(&env).await;
    check(&a);
    assert_eq!(a["state"], "needs_relink");
    assert_eq!(a["icloud_app_specific_password_required"], true);
    // `--json` before the command means the same; the exit code says "needs a relink" (3) for fleet
    // scripts that do not parse JSON.
    let r = env.run_async(&["--json", "status"], None).await;
    assert_eq!(r.code, 3, "{}", show(&r));
    assert_eq!(r.json()["accounts"][0]["state"], "needs_relink");
    env.forget(ID);
}
