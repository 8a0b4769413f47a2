//! The real OS keychain (Secret Service on Linux; scripts/test.sh provides an unlocked gnome-keyring on
//! a private D-Bus session). Store, read, replace, delete; and what "no keychain" looks like.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use connector::credentials::{service_for_namespace, CredentialStore, KeychainError};
use connector::Secret;

#[test]
fn store_read_replace_delete_through_the_real_secret_service() {
    if !e2e::keychain_or_skip() {
        return;
    }
    let store = CredentialStore::new(service_for_namespace(Some(&format!(
        "test-kc-{}",
        std::process::id()
    ))));
    let who = "kc@example.com";
    store
        .store(who, &Secret::new("abcd-efgh-ijkl-mnop"))
        .unwrap();
    assert_eq!(store.load(who).unwrap().expose(), "abcd-efgh-ijkl-mnop");
    store
        .store(who, &Secret::new("wxyz-wxyz-wxyz-wxyz"))
        .unwrap();
    assert_eq!(
        store.load(who).unwrap().expose(),
        "wxyz-wxyz-wxyz-wxyz",
        "replaced in place"
    );
    store.delete(who).unwrap();
    assert!(matches!(
        store.load(who),
        Err(KeychainError::NoEntry { .. })
    ));
    store.delete(who).unwrap(); // deleting twice is fine
}

#[test]
fn namespaces_are_separate_entries() {
    if !e2e::keychain_or_skip() {
        return;
    }
    let a = CredentialStore::new(service_for_namespace(Some(&format!(
        "test-nsa-{}",
        std::process::id()
    ))));
    let b = CredentialStore::new(service_for_namespace(Some(&format!(
        "test-nsb-{}",
        std::process::id()
    ))));
    a.store("x@example.com", &Secret::new("aaaa-aaaa-aaaa-aaaa"))
        .unwrap();
    assert!(matches!(
        b.load("x@example.com"),
        Err(KeychainError::NoEntry { .. })
    ));
    a.delete("x@example.com").unwrap();
}

#[test]
fn without_a_session_bus_the_cli_says_what_is_missing_and_stores_nothing_in_plaintext() {
    let env = e2e::Env::new();
    let mut c = env.cmd();
    c.env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .args([
            "--server-url",
            "http://127.0.0.1:9/",
            "link",
            "--apple-id",
            "a@b.c",
            "--password-stdin",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"plai-ntex-tcan-aryx")
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("keychain is not available"), "{err}");
    assert!(
        err.contains("Secret Service") || err.contains("D-Bus"),
        "{err}"
    );
    assert_eq!(
        e2e::tree_contains(env.dir.path(), b"plai-ntex-tcan-aryx"),
        None
    );
}
