//! The one HTTP client: credentials policy, same-host redirects, bounded body reading.

use std::collections::HashSet;
use std::error::Error as StdError;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use url::{Host, Url};

use crate::error::{RunError, TransportError};
use crate::{DavRequest, PreparedRequest, RawResponse, XML_CONTENT_TYPE};

/// Settings for [`Transport`].
#[derive(Debug, Clone)]
pub struct TransportConfig {
    /// `User-Agent` header. QUIRK(icloud §2.7): iCloud has answered 421 to browser-like and to
    /// missing user agents; keep this stable and non-browser.
    pub user_agent: String,
    /// Limit for establishing a connection (QUIRK(icloud §3.6): IPv6 paths have hung).
    pub connect_timeout: Duration,
    /// Limit for a whole request, body included.
    pub request_timeout: Duration,
    /// Bodies larger than this fail with [`TransportError::TooLarge`].
    pub max_response_bytes: usize,
    /// Same-host redirects followed per request.
    pub max_redirects: usize,
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            user_agent: format!("CalendarConnector/{}", env!("CARGO_PKG_VERSION")),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(120),
            max_response_bytes: 64 * 1024 * 1024,
            max_redirects: 5,
        }
    }
}

/// Basic-auth credentials for one request. `Debug` does not show the password.
#[derive(Clone, Copy)]
pub struct Credentials<'a> {
    /// Apple ID (or other user name).
    pub username: &'a str,
    /// App-specific password.
    pub password: &'a str,
}

impl std::fmt::Debug for Credentials<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Sends [`DavRequest`]s. Cheap to clone; clones share the connection pool and trusted hosts.
#[derive(Clone)]
pub struct Transport {
    inner: Arc<Inner>,
}

struct Inner {
    client: reqwest::Client,
    cfg: TransportConfig,
    trusted: RwLock<HashSet<(String, u16)>>,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("cfg", &self.inner.cfg)
            .finish_non_exhaustive()
    }
}

impl Transport {
    /// Builds the client (rustls, gzip, keep-alive pool, no automatic redirects).
    pub fn new(cfg: TransportConfig) -> Result<Self, TransportError> {
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .user_agent(cfg.user_agent.clone())
            .connect_timeout(cfg.connect_timeout)
            .timeout(cfg.request_timeout)
            .gzip(true)
            // Redirects are followed by hand so credentials never leave the trusted host.
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(90))
            .build()
            .map_err(|e| TransportError::Other(root_cause(&e)))?;
        Ok(Transport {
            inner: Arc::new(Inner {
                client,
                cfg,
                trusted: RwLock::new(HashSet::new()),
            }),
        })
    }

    /// Allows credentials to be sent to this URL's (host, port). The connector adds the configured
    /// host and the hosts discovery returns (QUIRK(icloud §1.3): the partition host).
    pub fn trust_host(&self, url: &Url) {
        if let Some(key) = host_key(url) {
            self.inner
                .trusted
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .insert(key);
        }
    }

    /// Whether credentials may be sent to this URL's (host, port).
    pub fn is_trusted(&self, url: &Url) -> bool {
        host_key(url).is_some_and(|k| {
            self.inner
                .trusted
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .contains(&k)
        })
    }

    /// Sends `req` and parses the answer with it (see [`Transport::execute`] for what is sent where).
    pub async fn run<R: DavRequest>(
        &self,
        req: &R,
        creds: Option<&Credentials<'_>>,
    ) -> Result<R::Response, RunError> {
        let resp = self.execute(&req.request(), creds).await?;
        Ok(req.parse(&resp)?)
    }

    /// Sends `req` and reads the whole response.
    ///
    /// With credentials, the request is refused before anything is sent unless the host is
    /// trusted and the scheme is https (plain http is allowed to loopback only). Basic auth is sent
    /// preemptively. Redirects to the same scheme, host and port are re-issued with the same
    /// method and body. With credentials any other redirect fails with
    /// [`TransportError::CrossHostRedirect`]; without them it is followed too, unless it leads from
    /// https to plain http.
    pub async fn execute(
        &self,
        req: &PreparedRequest,
        creds: Option<&Credentials<'_>>,
    ) -> Result<RawResponse, TransportError> {
        self.execute_with_headers(req, creds, &http::HeaderMap::new())
            .await
    }

    /// [`Transport::execute`] with extra request headers (e.g. `If-None-Match` of a conditional GET),
    /// sent again on every same-host redirect.
    pub async fn execute_with_headers(
        &self,
        req: &PreparedRequest,
        creds: Option<&Credentials<'_>>,
        extra: &http::HeaderMap,
    ) -> Result<RawResponse, TransportError> {
        let mut url = req.url.clone();
        let mut redirects = 0;
        loop {
            if creds.is_some() {
                self.check_credentials_allowed(&url)?;
            }
            let resp = self.send_once(req, &url, creds, extra).await?;
            let status = resp.status().as_u16();
            if let Some(target) = redirect_target(&resp, &url) {
                // With credentials a redirect stays on the origin they were meant for. A public
                // request carries nothing to leak, so it may move to another host (QUIRK(icloud
                // §1.9): published calendars answer 301 to another partition), but never from
                // https down to plain http.
                let allowed =
                    same_origin(&url, &target) || (creds.is_none() && !is_downgrade(&url, &target));
                if !allowed {
                    return Err(TransportError::CrossHostRedirect {
                        from: safe_url(&url),
                        to: safe_url(&target),
                    });
                }
                if redirects >= self.inner.cfg.max_redirects {
                    return Err(TransportError::TooManyRedirects);
                }
                redirects += 1;
                tracing::debug!(status, to = %safe_url(&target), "following redirect");
                url = target;
                continue;
            }
            let headers = resp.headers().clone();
            let body = if req.method == http::Method::HEAD {
                Bytes::new()
            } else {
                read_body(resp, self.inner.cfg.max_response_bytes, &url).await?
            };
            return Ok(RawResponse {
                status,
                headers,
                body,
                url,
            });
        }
    }

    fn check_credentials_allowed(&self, url: &Url) -> Result<(), TransportError> {
        if !self.is_trusted(url) {
            return Err(TransportError::UntrustedHost {
                host: host_port(url),
            });
        }
        if url.scheme() != "https" && !is_loopback(url) {
            return Err(TransportError::InsecureScheme { url: safe_url(url) });
        }
        Ok(())
    }

    async fn send_once(
        &self,
        req: &PreparedRequest,
        url: &Url,
        creds: Option<&Credentials<'_>>,
        extra: &http::HeaderMap,
    ) -> Result<reqwest::Response, TransportError> {
        let mut rb = self.inner.client.request(req.method.clone(), url.clone());
        for (name, value) in extra {
            rb = rb.header(name, value);
        }
        if let Some(depth) = req.depth {
            rb = rb.header("Depth", depth.as_str());
        }
        if let Some(body) = &req.body {
            rb = rb
                .header(
                    http::header::CONTENT_TYPE,
                    req.content_type.unwrap_or(XML_CONTENT_TYPE),
                )
                .body(body.clone());
        }
        if let Some(c) = creds {
            // reqwest marks the Authorization header sensitive.
            rb = rb.basic_auth(c.username, Some(c.password));
        }
        let started = Instant::now();
        let result = rb.send().await;
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match result {
            Ok(resp) => {
                // QUIRK(icloud §2.2): log Apple's request id for support; never other headers.
                let request_id = resp
                    .headers()
                    .get("x-apple-request-uuid")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                tracing::debug!(
                    method = %req.method,
                    path = %url.path(),
                    status = resp.status().as_u16(),
                    elapsed_ms,
                    apple_request_uuid = request_id,
                    "dav response"
                );
                Ok(resp)
            }
            Err(e) => {
                let err = map_send_error(&e, url);
                tracing::debug!(method = %req.method, path = %url.path(), elapsed_ms, error = %err, "dav request failed");
                Err(err)
            }
        }
    }
}

async fn read_body(
    mut resp: reqwest::Response,
    limit: usize,
    url: &Url,
) -> Result<Bytes, TransportError> {
    let expected = resp.content_length();
    if expected.is_some_and(|n| n > limit as u64) {
        return Err(TransportError::TooLarge { limit });
    }
    let initial = expected.map_or(8 * 1024, |n| usize::try_from(n).unwrap_or(limit));
    let mut buf: Vec<u8> = Vec::with_capacity(initial.min(limit).min(1024 * 1024));
    let cut_off = |got: usize| expected.map(|m| format!("response ended after {got} of {m} bytes"));
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if buf.len() + chunk.len() > limit {
                    return Err(TransportError::TooLarge { limit });
                }
                buf.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) if e.is_timeout() => {
                return Err(TransportError::Timeout {
                    url_host: host_port(url),
                })
            }
            Err(e) => {
                let message = cut_off(buf.len()).unwrap_or_else(|| root_cause(&e));
                tracing::debug!(path = %url.path(), cause = %root_cause(&e), "response body failed");
                return Err(TransportError::Body { message });
            }
        }
    }
    if expected.is_some_and(|m| (buf.len() as u64) < m) {
        if let Some(message) = cut_off(buf.len()) {
            return Err(TransportError::Body { message });
        }
    }
    Ok(Bytes::from(buf))
}

fn redirect_target(resp: &reqwest::Response, url: &Url) -> Option<Url> {
    if !matches!(resp.status().as_u16(), 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    let location = resp.headers().get(http::header::LOCATION)?.to_str().ok()?;
    url.join(location.trim()).ok()
}

fn map_send_error(e: &reqwest::Error, url: &Url) -> TransportError {
    let url_host = host_port(url);
    if e.is_timeout() {
        return TransportError::Timeout { url_host };
    }
    let message = root_cause(e);
    if e.is_connect() {
        return TransportError::Connect { url_host, message };
    }
    // The connection was established but broke before a complete response: transient like a
    // truncated body (QUIRK(icloud §1.8): iCloud drops connections on some requests).
    if e.is_body() || e.is_decode() || broke_mid_exchange(e) {
        return TransportError::Body { message };
    }
    TransportError::Other(message)
}

fn broke_mid_exchange(e: &(dyn StdError + 'static)) -> bool {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            if matches!(
                io.kind(),
                ConnectionReset | ConnectionAborted | UnexpectedEof | BrokenPipe
            ) {
                return true;
            }
        }
        if err.to_string().contains("connection closed") {
            return true;
        }
        cur = err.source();
    }
    false
}

/// The most specific message in the source chain, readable: "connection refused",
/// "dns error: failed to lookup address information: …", "invalid peer certificate: UnknownIssuer".
fn root_cause(e: &(dyn StdError + 'static)) -> String {
    let mut chain = vec![e];
    let mut cur = e.source();
    while let Some(next) = cur {
        chain.push(next);
        cur = next.source();
    }
    let deepest = chain.last().copied().unwrap_or(e);
    let mut msg = match deepest.downcast_ref::<std::io::Error>().map(|io| io.kind()) {
        Some(std::io::ErrorKind::ConnectionRefused) => "connection refused".to_owned(),
        Some(std::io::ErrorKind::ConnectionReset) => "connection reset by peer".to_owned(),
        Some(std::io::ErrorKind::TimedOut) => "timed out".to_owned(),
        _ => strip_os_error(&deepest.to_string()),
    };
    let dns = chain.iter().any(|c| c.to_string().starts_with("dns error"));
    if dns && !msg.starts_with("dns error") {
        msg = format!("dns error: {msg}");
    }
    // rustls errors read like "invalid peer certificate: UnknownIssuer" or "received corrupt
    // message"; say that it was the TLS handshake, so a self-signed certificate or a plain-HTTP port
    // behind https:// is recognisable.
    let tls = chain.iter().any(|c| {
        let s = c.to_string();
        s.contains("certificate")
            || s.contains("corrupt message")
            || s.contains("tls")
            || s.contains("TLS")
            || s.contains("HandshakeFailure")
            || s.contains("InvalidContentType")
    });
    if tls && !msg.to_ascii_lowercase().contains("tls") {
        msg = format!("TLS handshake failed: {msg}");
    }
    msg
}

fn strip_os_error(s: &str) -> String {
    match s.find(" (os error ") {
        Some(i) => s[..i].to_owned(),
        None => s.to_owned(),
    }
}

fn host_key(url: &Url) -> Option<(String, u16)> {
    Some((
        url.host_str()?.to_ascii_lowercase(),
        url.port_or_known_default()?,
    ))
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme() && host_key(a) == host_key(b)
}

/// From https to anything else: what the first answer's TLS protected would travel in clear.
fn is_downgrade(from: &Url, to: &Url) -> bool {
    from.scheme() == "https" && to.scheme() != "https"
}

fn host_port(url: &Url) -> String {
    match (url.host_str(), url.port_or_known_default()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        _ => String::from("<no host>"),
    }
}

/// scheme://host:port/path: no user info, query or fragment, so it is safe to show and log.
fn safe_url(url: &Url) -> String {
    format!("{}://{}{}", url.scheme(), host_port(url), url.path())
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::DavError;

    #[test]
    fn a_public_redirect_may_not_leave_https() {
        let u = |s: &str| Url::parse(s).unwrap();
        assert!(is_downgrade(
            &u("https://a.example/x"),
            &u("http://b.example/x")
        ));
        assert!(is_downgrade(
            &u("https://a.example/x"),
            &u("http://a.example/x")
        ));
        assert!(!is_downgrade(
            &u("https://a.example/x"),
            &u("https://b.example/x")
        ));
        assert!(!is_downgrade(
            &u("http://a.example/x"),
            &u("https://b.example/x")
        ));
        assert!(!is_downgrade(
            &u("http://127.0.0.1:1/x"),
            &u("http://127.0.0.1:2/x")
        ));
    }

    #[test]
    fn default_user_agent_is_stable_and_not_a_browser() {
        let cfg = TransportConfig::default();
        assert!(cfg.user_agent.starts_with("CalendarConnector/"));
        assert_eq!(cfg.max_redirects, 5);
        assert_eq!(cfg.max_response_bytes, 64 * 1024 * 1024);
    }

    #[test]
    fn trust_is_per_host_and_port_with_default_ports_folded() {
        let t = Transport::new(TransportConfig::default()).unwrap();
        t.trust_host(&Url::parse("https://p62-caldav.icloud.com:443/x/").unwrap());
        assert!(t.is_trusted(&Url::parse("https://P62-caldav.icloud.com/17149682/").unwrap()));
        assert!(!t.is_trusted(&Url::parse("https://p62-caldav.icloud.com:8443/").unwrap()));
        assert!(!t.is_trusted(&Url::parse("https://caldav.icloud.com/").unwrap()));
    }

    #[test]
    fn loopback_hosts() {
        for u in [
            "http://127.0.0.1:1/",
            "http://127.5.0.1/",
            "http://[::1]:8/",
            "http://localhost/",
        ] {
            assert!(is_loopback(&Url::parse(u).unwrap()), "{u}");
        }
        assert!(!is_loopback(&Url::parse("http://10.0.0.1/").unwrap()));
        assert!(!is_loopback(
            &Url::parse("http://localhost.example.com/").unwrap()
        ));
    }

    #[test]
    fn credentials_debug_redacts_password() {
        let c = Credentials {
            username: "me@icloud.com",
            password: "abcd-efgh-ijkl-mnop",
        };
        assert!(!format!("{c:?}").contains("abcd"));
    }

    /// One connection to a listener on loopback: the request as received, and a canned answer.
    async fn answer_once(answer: &'static str) -> (Url, tokio::task::JoinHandle<String>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
        let seen = tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            // The request is small: read until the end of the headers and the body's closing tag.
            while !String::from_utf8_lossy(&got).contains("</D:propfind>") {
                let n = sock.read(&mut buf).await.unwrap();
                assert!(n > 0, "connection closed early");
                got.extend_from_slice(&buf[..n]);
            }
            sock.write_all(answer.as_bytes()).await.unwrap();
            String::from_utf8_lossy(&got).into_owned()
        });
        (url, seen)
    }

    #[tokio::test]
    async fn run_sends_the_request_a_value_builds_and_parses_the_answer_with_it() {
        let body = r#"<?xml version="1.0"?><multistatus xmlns="DAV:"><response><href>/</href><propstat><prop><current-user-principal><href>/17149682/principal/</href></current-user-principal></prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>"#;
        let answer: &'static str = Box::leak(
            format!(
                "HTTP/1.1 207 Multi-Status\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .into_boxed_str(),
        );
        let (url, seen) = answer_once(answer).await;
        let t = Transport::new(TransportConfig::default()).unwrap();
        let req = crate::CurrentUserPrincipal { url: url.clone() };
        let principal = t.run(&req, None).await.unwrap();
        assert_eq!(principal, url.join("/17149682/principal/").unwrap());
        let sent = seen.await.unwrap();
        assert!(sent.starts_with("PROPFIND / HTTP/1.1\r\n"), "{sent}");
        assert!(
            sent.to_ascii_lowercase().contains("\r\ndepth: 0\r\n"),
            "{sent}"
        );
        assert!(sent.contains("current-user-principal"), "{sent}");
    }

    #[tokio::test]
    async fn run_reports_an_answer_the_request_does_not_accept_as_a_dav_error() {
        let (url, _seen) = answer_once(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
        )
        .await;
        let t = Transport::new(TransportConfig::default()).unwrap();
        let err = t
            .run(&crate::CurrentUserPrincipal { url }, None)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                RunError::Dav(DavError::UnexpectedStatus { status: 200 })
            ),
            "{err:?}"
        );
    }

    #[test]
    fn safe_url_drops_query_and_userinfo() {
        let u = Url::parse("https://u:p@h.example/a/b?token=1").unwrap();
        assert_eq!(safe_url(&u), "https://h.example:443/a/b");
    }
}
