//! Helpers for the end-to-end tests (`tests/e2e/main.rs`, one test binary with a module per area): run
//! the CLI binary in a private data dir and keychain namespace, start a real Radicale, read status JSON,
//! and take turns on the desktop session ([`desktop_shared`], [`desktop_exclusive`]).
//!
//! The tests of all modules run as threads of one process, in parallel. What each test owns is private:
//! its temp/data dir, keychain namespace ([`Env::new`]), simulator and ports (bound to port 0). The test
//! process itself is shared: no test sets environment variables or the current dir (a child gets its
//! variables through `Command::env`), and processes are stopped by their pid, never by name. The
//! session bus, the notification server (dunst) and what it shows are shared by everything running, so
//! tests that watch or drive them take the desktop lock.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

/// Path of a workspace binary (built by `cargo build --workspace` / `cargo test --workspace`).
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/debug/deps/e2e-xxxx → target/debug/NAME
    let dir = exe.parent().unwrap().parent().unwrap();
    let p = dir.join(name);
    assert!(
        p.exists(),
        "{} is not built; run cargo build --workspace",
        p.display()
    );
    p
}

/// A CLI command for a data dir and keychain namespace.
pub fn cli_command(data: &Path, ns: &str) -> Command {
    let mut c = Command::new(bin("calendar-connector-cli"));
    c.arg("--data-dir").arg(data);
    c.env("CALENDAR_CONNECTOR_KEYRING_NAMESPACE", ns);
    c.env_remove("RUST_LOG");
    c
}

/// Runs the CLI and collects its output.
pub fn run_cli(data: &Path, ns: &str, args: &[&str], stdin: Option<&str>) -> Run {
    let mut c = cli_command(data, ns);
    c.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    c.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = c.spawn().unwrap();
    if let Some(s) = stdin {
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    }
    child.wait_with_output().unwrap().into()
}

/// True when the OS keychain can be used; otherwise skips the test (prints why) — or fails it when
/// `REQUIRE_KEYCHAIN` is set, as scripts/test.sh does, so CI never passes by skipping.
pub fn keychain_or_skip() -> bool {
    match connector::credentials::CredentialStore::check_available() {
        Ok(()) => true,
        Err(e) => {
            if std::env::var_os("REQUIRE_KEYCHAIN").is_some() {
                panic!("REQUIRE_KEYCHAIN is set but the keychain is unavailable: {e}");
            }
            eprintln!("skipping: {e}");
            false
        }
    }
}

/// Turns on the desktop session: see [`desktop_shared`] and [`desktop_exclusive`].
static DESKTOP: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

/// Held for its whole run by a test that may put something on the session-wide desktop without
/// watching it: any test that runs `daemon` (the only command that shows notifications). Such tests
/// run beside each other, never beside a [`desktop_exclusive`] one.
pub async fn desktop_shared() -> tokio::sync::RwLockReadGuard<'static, ()> {
    DESKTOP.read().await
}

/// Held for its whole run by a test that observes or drives the whole desktop: it counts every
/// notification on the session bus (`dbus-monitor`), or acts on dunst globally (`dunstctl close-all`,
/// `dunstctl action 0`: the first notification on screen, whoever showed it). While it runs no other
/// test that can notify runs. Not poisoned by a failing test (a tokio lock).
pub async fn desktop_exclusive() -> tokio::sync::RwLockWriteGuard<'static, ()> {
    DESKTOP.write().await
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// One isolated user: a data dir and a keychain namespace of its own.
pub struct Env {
    /// Temp dir (data dir inside).
    pub dir: tempfile::TempDir,
    /// Keychain namespace.
    pub ns: String,
}

/// What a CLI run returned.
#[derive(Debug)]
pub struct Run {
    /// Exit code.
    pub code: i32,
    /// Stdout.
    pub stdout: String,
    /// Stderr.
    pub stderr: String,
}

impl Run {
    /// Stdout as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// A run's exit code and output, for assertion messages.
pub fn show(r: &Run) -> String {
    format!(
        "exit {}\n--- stdout\n{}\n--- stderr\n{}",
        r.code, r.stdout, r.stderr
    )
}

impl Default for Env {
    fn default() -> Self {
        Self::new()
    }
}

impl Env {
    /// A fresh environment.
    pub fn new() -> Env {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        Env {
            dir: tempfile::tempdir().unwrap(),
            ns: format!("test-{}-{n}", std::process::id()),
        }
    }

    /// The data dir.
    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The CLI's log file so far (log lines go there; the terminal gets them only with `-v`).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data().join("logs").join("cli.log")).unwrap_or_default()
    }

    /// What the CLI logged after `mark` (a length of [`Env::log`] taken earlier).
    pub fn log_since(&self, mark: usize) -> String {
        self.log().get(mark..).unwrap_or_default().to_owned()
    }

    /// A CLI command with the global options set.
    pub fn cmd(&self) -> Command {
        cli_command(&self.data(), &self.ns)
    }

    /// Runs the CLI with args (blocking).
    pub fn run(&self, args: &[&str], stdin: Option<&str>) -> Run {
        run_cli(&self.data(), &self.ns, args, stdin)
    }

    /// Async wrapper of [`Env::run`] so an in-process simulator keeps serving.
    pub async fn run_async(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let data = self.data();
        let ns = self.ns.clone();
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let stdin = stdin.map(str::to_owned);
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run_cli(&data, &ns, &args, stdin.as_deref())
        })
        .await
        .unwrap()
    }

    /// `status --json`.
    pub async fn status(&self) -> serde_json::Value {
        let r = self.run_async(&["status", "--json"], None).await;
        // 3: an account needs a relink, 4: one is backing off; the report is complete either way.
        assert!(
            [0, 3, 4].contains(&r.code),
            "status failed ({}): {}",
            r.code,
            r.stderr
        );
        r.json()
    }

    /// Links `apple_id` at `url` with `password` on stdin.
    pub async fn link(&self, url: &str, apple_id: &str, password: &str) -> Run {
        self.run_async(
            &[
                "--server-url",
                url,
                "link",
                "--apple-id",
                apple_id,
                "--password-stdin",
            ],
            Some(password),
        )
        .await
    }

    /// A fresh environment with `apple_id` linked (and synced once) to the server at `url`; fails
    /// the test when the link does.
    pub async fn linked(url: &str, apple_id: &str, password: &str) -> Env {
        let env = Env::new();
        let r = env.link(url, apple_id, password).await;
        assert_eq!(r.code, 0, "link failed:\n{}", show(&r));
        env
    }

    /// Apple revokes the password (the simulator now takes only `new`): the next sync pauses the
    /// account after one request, exit 3.
    pub async fn revoke(&self, sim: &icloud_sim::Sim, new: &str) {
        sim.set_password(new);
        let r = self.run_async(&["sync"], None).await;
        assert_eq!(
            r.code,
            3,
            "the revoked password pauses the account:\n{}",
            show(&r)
        );
    }

    /// A fresh environment with `apple_id` linked and synced, after which Apple revoked the password
    /// (the simulator takes only `new`): the account needs a relink.
    pub async fn paused(sim: &icloud_sim::Sim, apple_id: &str, password: &str, new: &str) -> Env {
        let env = Env::linked(&sim.front_url(), apple_id, password).await;
        env.revoke(sim, new).await;
        env
    }

    /// Removes this environment's keychain entries.
    pub fn forget(&self, apple_id: &str) {
        let _ = connector::credentials::CredentialStore::new(
            connector::credentials::service_for_namespace(Some(&self.ns)),
        )
        .delete(apple_id);
    }
}

/// Event counts per calendar display name from status JSON.
pub fn counts(status: &serde_json::Value) -> std::collections::BTreeMap<String, u64> {
    let mut m = std::collections::BTreeMap::new();
    for a in status["accounts"].as_array().unwrap() {
        for c in a["calendars"].as_array().unwrap() {
            m.insert(
                c["display_name"].as_str().unwrap().to_owned(),
                c["event_count"].as_u64().unwrap(),
            );
        }
    }
    m
}

/// Whether any file under `dir` contains `needle`.
pub fn tree_contains(dir: &Path, needle: &[u8]) -> Option<PathBuf> {
    tree_contains_skipping(dir, needle, &[])
}

/// Like [`tree_contains`], but does not descend into directories named in `skip` (a keyring's own
/// store, say).
pub fn tree_contains_skipping(dir: &Path, needle: &[u8], skip: &[&str]) -> Option<PathBuf> {
    for entry in std::fs::read_dir(dir).ok()? {
        let p = entry.ok()?.path();
        if p.is_dir() {
            if skip.iter().any(|s| p.file_name().is_some_and(|n| n == *s)) {
                continue;
            }
            if let Some(f) = tree_contains_skipping(&p, needle, skip) {
                return Some(f);
            }
        } else if let Ok(b) = std::fs::read(&p) {
            if bytes_contain(&b, needle) {
                return Some(p);
            }
        }
    }
    None
}

/// Whether `needle` occurs in `hay`.
pub fn bytes_contain(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// The first `/proc/<pid>/cmdline` or `/proc/<pid>/environ` readable now that holds one of
/// `canaries`.
pub fn process_holding(canaries: &[&str]) -> Option<String> {
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let p = entry.path();
        let is_pid = p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()));
        if !is_pid {
            continue;
        }
        for f in ["cmdline", "environ"] {
            if let Ok(b) = std::fs::read(p.join(f)) {
                if canaries.iter().any(|c| bytes_contain(&b, c.as_bytes())) {
                    return Some(format!("{} {f}", p.display()));
                }
            }
        }
    }
    None
}

/// A real Radicale server in a temp dir, stopped on drop.
pub struct Radicale {
    /// Its URL.
    pub url: String,
    /// Storage root (collections/collection-root).
    pub root: PathBuf,
    child: std::process::Child,
    _dir: tempfile::TempDir,
}

/// The radicale executable: $RADICALE_BIN or .venv-radicale at the workspace root.
pub fn radicale_bin() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("RADICALE_BIN") {
        return Some(PathBuf::from(p));
    }
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv-radicale/bin/radicale");
    p.exists().then_some(p)
}

impl Radicale {
    /// Prepares storage with `users` (name:password); `seed` may write collections before the start.
    pub fn start(users: &[(&str, &str)], seed: impl FnOnce(&Path)) -> Radicale {
        let bin = radicale_bin()
            .expect("Radicale is not installed: run scripts/install-deps.sh (or set RADICALE_BIN)");
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("collections");
        std::fs::create_dir_all(root.join("collection-root")).unwrap();
        seed(&root.join("collection-root"));
        let users_file = dir.path().join("users");
        let lines: Vec<String> = users.iter().map(|(u, p)| format!("{u}:{p}")).collect();
        std::fs::write(&users_file, lines.join("\n") + "\n").unwrap();
        // The port is picked by binding port 0 and letting it go before Radicale binds it. Two tests
        // of this binary starting Radicale at once could pick the same port in that gap: the second
        // Radicale fails to bind, and its readiness check reaches the first one (whose users answer
        // 401). One start at a time closes that gap within the process.
        static STARTING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _one_at_a_time = STARTING.lock().unwrap_or_else(|p| p.into_inner());
        for _attempt in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let conf = dir.path().join("radicale.conf");
            std::fs::write(
                &conf,
                format!(
                    "[server]\nhosts = 127.0.0.1:{port}\n[auth]\ntype = htpasswd\nhtpasswd_filename = {}\nhtpasswd_encryption = plain\ndelay = 0\n[rights]\ntype = owner_only\n[storage]\nfilesystem_folder = {}\n[logging]\nlevel = warning\n",
                    users_file.display(),
                    root.display()
                ),
            )
            .unwrap();
            let mut child = Command::new(&bin)
                .arg("--config")
                .arg(&conf)
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn()
                .unwrap();
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
            loop {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // port taken or config error: retry with another port
                }
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Radicale {
                        url: format!("http://127.0.0.1:{port}/"),
                        root: root.join("collection-root"),
                        child,
                        _dir: dir,
                    };
                }
                if std::time::Instant::now() > deadline {
                    let _ = child.kill();
                    panic!("Radicale did not start");
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }
        panic!("Radicale could not start on a free port");
    }
}

impl Drop for Radicale {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Env {
    /// The password this environment's keychain holds for `apple_id`, if any.
    pub fn keychain_password(&self, apple_id: &str) -> Option<String> {
        connector::credentials::CredentialStore::new(connector::credentials::service_for_namespace(
            Some(&self.ns),
        ))
        .load(apple_id)
        .ok()
        .map(|s| s.expose().to_owned())
    }
}

/// Sends SIGTERM to `pid` (through kill(1): the tests have no libc dependency).
pub fn sigterm(pid: u32) {
    let ok = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "kill -TERM {pid} failed");
}

/// Waits up to `limit` for `child` to exit; `None` when it is still running then.
pub async fn wait_exit(
    child: &mut std::process::Child,
    limit: std::time::Duration,
) -> Option<std::process::ExitStatus> {
    let deadline = std::time::Instant::now() + limit;
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return Some(s);
        }
        if std::time::Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

impl Env {
    /// Like [`Env::run_async`] with extra environment variables (e.g. the clock offset).
    pub async fn run_env_async(&self, args: &[&str], envs: &[(&str, &str)]) -> Run {
        let mut c = self.cmd();
        c.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in envs {
            c.env(k, v);
        }
        tokio::task::spawn_blocking(move || Run::from(c.output().unwrap()))
            .await
            .unwrap()
    }

    /// The cache database file.
    pub fn cache_file(&self) -> PathBuf {
        self.data().join("cache.sqlite3")
    }
}

/// `%XX` decoding of an href (the simulator lists '@' as `%40`, [`icloud_sim::Sim::objects`] gives
/// it plain).
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What a cache file holds, read through a read-only connection (safe while another process writes).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct CacheSnapshot {
    /// `PRAGMA integrity_check` ("ok" when sound).
    pub integrity: String,
    /// Per calendar slug (last path segment): (decoded href, etag) of stored objects.
    pub objects: std::collections::BTreeMap<String, std::collections::BTreeSet<(String, String)>>,
    /// Per calendar slug: (decoded href, etag) of quarantined objects.
    pub quarantined:
        std::collections::BTreeMap<String, std::collections::BTreeSet<(String, String)>>,
}

impl CacheSnapshot {
    /// Stored objects of one calendar.
    pub fn count(&self, slug: &str) -> usize {
        self.objects.get(slug).map_or(0, |s| s.len())
    }

    /// Stored and quarantined objects of one calendar together.
    pub fn everything(&self, slug: &str) -> std::collections::BTreeSet<(String, String)> {
        let mut all = self.objects.get(slug).cloned().unwrap_or_default();
        all.extend(self.quarantined.get(slug).cloned().unwrap_or_default());
        all
    }
}

/// Opens `db` read-only and reads its integrity and contents.
pub fn read_cache(db: &Path) -> CacheSnapshot {
    use rusqlite::{Connection, OpenFlags};
    let conn = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .unwrap_or_else(|e| panic!("open {} read-only: {e}", db.display()));
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .unwrap();
    let integrity: Vec<String> = conn
        .prepare("PRAGMA integrity_check")
        .unwrap()
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut snap = CacheSnapshot {
        integrity: integrity.join("; "),
        ..Default::default()
    };
    for (table, into) in [
        ("objects", &mut snap.objects),
        ("quarantine", &mut snap.quarantined),
    ] {
        let sql = format!(
            "SELECT c.path, o.href, COALESCE(o.etag, '') FROM {table} o JOIN calendars c ON c.id = o.calendar_id"
        );
        let mut st = conn.prepare(&sql).unwrap();
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .unwrap();
        for row in rows {
            let (path, href, etag) = row.unwrap();
            let slug = path
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or("")
                .to_owned();
            into.entry(slug)
                .or_default()
                .insert((percent_decode(&href), etag));
        }
    }
    snap
}

/// What the simulator serves for a calendar as (href, etag) pairs.
pub fn server_set(
    sim: &icloud_sim::Sim,
    slug: &str,
) -> std::collections::BTreeSet<(String, String)> {
    sim.objects(slug)
        .into_iter()
        .map(|(h, e, _)| (percent_decode(&h), e))
        .collect()
}

/// How many objects the simulator serves in a calendar.
pub fn server_count(sim: &icloud_sim::Sim, slug: &str) -> u64 {
    sim.objects(slug).len() as u64
}

/// What a [`tripwire`] saw: whether anything connected, and the bytes it sent.
pub struct Tripwire {
    /// Its loopback port.
    pub port: u16,
    /// Whether anything connected.
    pub hit: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// What was sent to it (read for up to 2 s per connection).
    pub seen: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
}

/// A listener on another loopback port that records whether anything connects, and what it sent.
pub async fn tripwire() -> Tripwire {
    use std::sync::atomic::Ordering;
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hit = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let (h, s) = (hit.clone(), seen.clone());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            h.store(true, Ordering::SeqCst);
            let s = s.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                while let Ok(Ok(n)) =
                    tokio::time::timeout(std::time::Duration::from_secs(2), stream.read(&mut buf))
                        .await
                {
                    if n == 0 {
                        break;
                    }
                    s.lock().unwrap().extend_from_slice(&buf[..n]);
                }
            });
        }
    });
    Tripwire { port, hit, seen }
}

/// Peak resident memory (`VmHWM`, KiB) of a running process, if it can be read.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// A simulator event calendar (`slug`, display `name`) of `events` generated events.
pub fn event_calendar(slug: &str, name: &str, events: usize) -> icloud_sim::CalendarSpec {
    icloud_sim::CalendarSpec {
        slug: slug.into(),
        display_name: name.into(),
        color: "#1BADF8FF".into(),
        component: icloud_sim::Component::Vevent,
        events,
        read_only: false,
    }
}
