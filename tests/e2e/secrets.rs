//! Secrets and TLS (docs/design.md rule 5): a canary password used through link, sync, rejection, relink,
//! the daemon and export never appears in the data dir, logs, outputs, `--json`, process command lines
//! or environments; HTTPS is required except for loopback; a self-signed certificate is refused with
//! an error that says so.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

use e2e::{tree_contains, Env};
use icloud_sim::{Sim, SimConfig};

const OLD: &str = "kqzv-wmxr-tjpl-bnhy";
const NEW: &str = "hfgd-swqa-lkjm-opzx";

fn contains(hay: &[u8], needle: &str) -> bool {
    e2e::bytes_contain(hay, needle.as_bytes())
}

/// Every /proc/<pid>/{cmdline,environ} readable now: none may hold a canary.
fn assert_no_process_holds(canaries: &[&str]) {
    if let Some(p) = e2e::process_holding(canaries) {
        panic!("{p} holds the password");
    }
}

/// Runs the CLI with `-vv` (debug logs), the password fed on stdin after looking at /proc.
fn run_watched(env: &Env, args: &[&str], stdin: Option<&str>) -> (i32, Vec<u8>, Vec<u8>) {
    let mut child = env
        .cmd()
        .arg("-vv")
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(s) = stdin {
        std::thread::sleep(Duration::from_millis(150));
        assert_no_process_holds(&[OLD, NEW]);
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    (out.status.code().unwrap_or(-1), out.stdout, out.stderr)
}

#[tokio::test(flavor = "multi_thread")]
async fn canary_password_never_leaks_through_link_sync_rejection_relink_daemon_and_export() {
    if !e2e::keychain_or_skip() {
        return;
    }
    // Its daemon may notify: not while a test counts notifications.
    let _desktop = e2e::desktop_shared().await;
    let sim = Sim::start(SimConfig {
        password: OLD.into(),
        ..Default::default()
    })
    .await
    .unwrap();
    let env = Env::new();
    let url = sim.front_url();
    let mut outputs: Vec<Vec<u8>> = Vec::new();
    let e = &env;
    let mut step = |args: Vec<String>, stdin: Option<&'static str>, want: i32| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, out, err) = run_watched(e, &args, stdin);
        assert_eq!(code, want, "{args:?}: {}", String::from_utf8_lossy(&err));
        outputs.push(out);
        outputs.push(err);
    };
    let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    tokio::task::block_in_place(|| {
        step(
            s(&[
                "--server-url",
                &url,
                "link",
                "--apple-id",
                "demo@example.com",
                "--password-stdin",
            ]),
            Some(OLD),
            0,
        );
        step(s(&["sync"]), None, 0);
        step(s(&["--json", "sync"]), None, 0);
    });
    sim.set_password(NEW); // Apple revokes the old one
    tokio::task::block_in_place(|| {
        step(s(&["sync"]), None, 3);
        step(s(&["status", "--json"]), None, 3);
        step(s(&["status"]), None, 3);
        step(
            s(&[
                "relink",
                "--apple-id",
                "demo@example.com",
                "--password-stdin",
            ]),
            Some("HFGDSWQALKJMOPZX\n"),
            0,
        );
        step(s(&["--json", "sync"]), None, 0);
        let out = e.dir.path().join("export");
        step(
            s(&["export", "--format", "vdir", "--out", out.to_str().unwrap()]),
            None,
            0,
        );
    });
    // The daemon, with debug logs, for a few ticks.
    let d = env
        .cmd()
        .args(["-vv", "daemon", "--interval", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_no_process_holds(&[OLD, NEW]);
    e2e::sigterm(d.id());
    let dout = tokio::task::spawn_blocking(move || d.wait_with_output().unwrap())
        .await
        .unwrap();
    outputs.push(dout.stdout);
    outputs.push(dout.stderr);

    for (i, o) in outputs.iter().enumerate() {
        for c in [OLD, NEW] {
            assert!(
                !contains(o, c),
                "output #{i} holds the password:\n{}",
                String::from_utf8_lossy(o)
            );
        }
    }
    for c in [OLD, NEW] {
        assert_eq!(
            tree_contains(env.dir.path(), c.as_bytes()),
            None,
            "a file under the data/temp dir holds it"
        );
    }
    // And the keychain does hold the new one, normalised.
    assert_eq!(
        env.keychain_password("demo@example.com").as_deref(),
        Some(NEW)
    );
    env.forget("demo@example.com");
}

/// A loopback listener that counts the connections it accepts (and closes each at once).
fn counting_listener() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = format!("http://{}", l.local_addr().unwrap());
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let h = hits.clone();
    std::thread::spawn(move || {
        for s in l.incoming() {
            h.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            drop(s);
        }
    });
    (addr, hits)
}

#[test]
fn plain_http_to_a_non_loopback_host_is_refused_before_anything_is_sent() {
    if !e2e::keychain_or_skip() {
        return;
    }
    // Every request the CLI sends to a non-loopback host goes through this "proxy", so the listener
    // counts what is sent.
    let (proxy, hits) = counting_listener();
    let env = Env::new();
    let link = |url: &str| {
        let mut c = env.cmd();
        c.args([
            "--server-url",
            url,
            "link",
            "--apple-id",
            "a@b.c",
            "--password-stdin",
        ]);
        for k in [
            "HTTP_PROXY",
            "http_proxy",
            "HTTPS_PROXY",
            "https_proxy",
            "ALL_PROXY",
            "all_proxy",
        ] {
            c.env(k, &proxy);
        }
        c.env_remove("NO_PROXY").env_remove("no_proxy");
        c.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(OLD.as_bytes())
            .unwrap();
        e2e::Run::from(child.wait_with_output().unwrap())
    };
    // Control: an https server is asked for (through the proxy), so the listener does see what is sent.
    let r = link("https://calendar.example.invalid/");
    assert_ne!(r.code, 0);
    let seen = hits.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        seen >= 1,
        "the control request never reached the listener: {}",
        r.stderr
    );
    let r = link("http://calendar.example.invalid/");
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("https://"), "{}", r.stderr);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        hits.load(std::sync::atomic::Ordering::SeqCst),
        seen,
        "plain http to a non-loopback host was refused before anything was sent"
    );
}

#[test]
fn a_self_signed_certificate_is_refused_with_an_error_that_says_so() {
    if !e2e::keychain_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (key, cert) = (dir.path().join("key.pem"), dir.path().join("cert.pem"));
    let ok = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl is installed by scripts/install-deps.sh");
    assert!(ok.success());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = std::process::Command::new("openssl")
        .args(["s_server", "-quiet", "-www", "-accept"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("-cert")
        .arg(&cert)
        .arg("-key")
        .arg(&key)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "openssl s_server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let env = Env::new();
    let r = env.run(
        &[
            "--server-url",
            &format!("https://localhost:{port}/"),
            "link",
            "--apple-id",
            "a@b.c",
            "--password-stdin",
        ],
        Some(OLD),
    );
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(
        r.stderr.contains("TLS") && r.stderr.contains("certificate"),
        "{}",
        r.stderr
    );
    assert!(env.run(&["status", "--json"], None).json()["accounts"]
        .as_array()
        .unwrap()
        .is_empty());
}
