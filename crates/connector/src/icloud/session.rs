//! One account's authenticated conversation with its server. Every response is classified here before
//! anything else reads it, and the first 401 cancels every request of the account that is still in
//! flight and refuses every later one (docs/design.md rule 1).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use caldav::{
    Credentials, DavRequest, PreparedRequest, RawResponse, Transport, TransportError, Url,
};
use tokio_util::sync::CancellationToken;

use super::classify::{classify, Classification, Expect};
use crate::credentials::Secret;
use crate::error::{Error, Result};

/// An account's request executor.
#[derive(Clone)]
pub struct Session {
    transport: Transport,
    apple_id: String,
    secret: Arc<Secret>,
    rejected: Arc<AtomicBool>,
    cancel: CancellationToken,
    sent: Arc<std::sync::atomic::AtomicU64>,
    apple: Arc<AtomicBool>,
}

impl Session {
    /// A session for `apple_id` with its password.
    pub fn new(transport: Transport, apple_id: &str, secret: Secret) -> Self {
        Session {
            transport,
            apple_id: apple_id.to_owned(),
            secret: Arc::new(secret),
            rejected: Arc::new(AtomicBool::new(false)),
            cancel: CancellationToken::new(),
            sent: Arc::new(std::sync::atomic::AtomicU64::new(0)),
            apple: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The transport (to trust hosts discovery returned).
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// Whether the server has rejected the password during this session.
    pub fn was_rejected(&self) -> bool {
        self.rejected.load(Ordering::SeqCst)
    }

    /// Number of requests this session sent.
    pub fn requests_sent(&self) -> u64 {
        self.sent.load(Ordering::SeqCst)
    }

    /// Whether any answer in this session came from Apple's CalDAV front end (it carries
    /// `X-Apple-Request-UUID`, §2.2). Apple's servers get the small multiget batches iCloud clients use
    /// (§3.3); other servers get larger ones, which stock Radicale answers with far less work.
    pub fn server_is_apple(&self) -> bool {
        self.apple.load(Ordering::Relaxed)
    }

    /// Sends `req`, classifies the answer and parses a usable one with `req` (the session's
    /// `Transport::run`); `step` names the request in errors.
    pub async fn run<R: DavRequest>(
        &self,
        req: &R,
        expect: Expect,
        step: &str,
    ) -> Result<R::Response> {
        let r = self.send(&req.request(), expect).await?;
        req.parse(&r).map_err(|e| dav_error(e, step))
    }

    /// Sends one authenticated request and classifies the answer. Returns the response only when it is
    /// usable (`Ok`); every other class becomes the matching [`Error`]. `NotFound`/`Forbidden` are
    /// returned as `Ok(None)`-like errors via [`Error::Protocol`] unless the caller asked for them with
    /// [`Session::send_allowing`].
    pub async fn send(&self, req: &PreparedRequest, expect: Expect) -> Result<RawResponse> {
        match self.send_allowing(req, expect).await? {
            (Classification::Ok, r) => Ok(r),
            (c, r) => Err(status_error(&c, &r)),
        }
    }

    /// Like [`Session::send`] but hands back per-object classes (`NotFound`, `Forbidden`, `Other`) with
    /// the response so the caller decides; account-level classes are still errors.
    pub async fn send_allowing(
        &self,
        req: &PreparedRequest,
        expect: Expect,
    ) -> Result<(Classification, RawResponse)> {
        if self.was_rejected() || self.cancel.is_cancelled() {
            return Err(Error::Rejected {
                apple_id: self.apple_id.clone(),
            });
        }
        let creds = Credentials {
            username: &self.apple_id,
            password: self.secret.expose(),
        };
        self.sent.fetch_add(1, Ordering::SeqCst);
        let resp = tokio::select! {
            r = self.transport.execute(req, Some(&creds)) => r,
            _ = self.cancel.cancelled() => {
                return Err(Error::Rejected { apple_id: self.apple_id.clone() });
            }
        };
        let resp = resp.map_err(transport_error)?;
        // QUIRK(icloud §2.2): every Apple answer carries X-Apple-Request-UUID.
        if resp.headers.contains_key("x-apple-request-uuid") {
            self.apple.store(true, Ordering::Relaxed);
        }
        let class = classify(&resp, expect);
        match &class {
            Classification::Rejected { request_id } => {
                // docs/design.md rule 1: stop at the first 401, cancel the rest, no "double-check".
                self.rejected.store(true, Ordering::SeqCst);
                self.cancel.cancel();
                tracing::warn!(
                    account = %self.apple_id,
                    request_id = request_id.as_deref().unwrap_or("-"),
                    "server rejected the password; pausing the account"
                );
                Err(Error::Rejected {
                    apple_id: self.apple_id.clone(),
                })
            }
            Classification::Ok
            | Classification::NotFound
            | Classification::Forbidden
            | Classification::Other { .. } => Ok((class, resp)),
            _ => Err(status_error(&class, &resp)),
        }
    }
}

/// Maps a transport failure to the engine's error.
pub fn transport_error(e: TransportError) -> Error {
    match e {
        TransportError::Connect { url_host, message } => {
            Error::Unreachable(connect_failure(&url_host, &message))
        }
        TransportError::Timeout { url_host } => Error::Unreachable(format!(
            "{url_host} did not answer in time. Check your internet connection; nothing was \
             changed, and the next sync tries again."
        )),
        TransportError::Body { .. } => Error::Transient(format!(
            "the server's answer was cut off ({e}); nothing was changed, the next sync retries"
        )),
        TransportError::CrossHostRedirect { .. }
        | TransportError::UntrustedHost { .. }
        | TransportError::InsecureScheme { .. }
        | TransportError::TooManyRedirects => Error::Redirected(e.to_string()),
        other => Error::Protocol(other.to_string()),
    }
}

/// A failed connection in words: what happened, and what to do. The cause stays in the sentence
/// (plain words first, the technical detail after), never an internal code.
fn connect_failure(host: &str, message: &str) -> String {
    let m = message.to_ascii_lowercase();
    if m.contains("connection refused") {
        format!(
            "Can't reach the server at {host}: nothing answered there (connection refused). Check \
             the server address and your internet connection; nothing was changed."
        )
    } else if m.starts_with("dns error") {
        format!(
            "Can't find the server {host}: that name could not be looked up. Check the address and \
             your internet connection; nothing was changed."
        )
    } else if m.contains("tls") || m.contains("certificate") {
        format!(
            "Can't connect securely to {host}: the TLS handshake failed ({message}). The server's \
             certificate is not trusted, or it does not speak https on that port; nothing was sent."
        )
    } else {
        format!(
            "Can't reach the server at {host} ({message}). Check your internet connection; nothing \
             was changed."
        )
    }
}

/// What an answer that is not calendar data means for the person, and what to do: a sign-in page is
/// most often a network's login portal (hotel, train, airport) or a proxy; another web page means
/// the address is not a CalDAV server's. Nothing is changed either way.
fn not_dav_sentence(what: &str, r: &RawResponse) -> String {
    let host = r.url.host_str().unwrap_or("the server");
    let mut first = what.chars();
    let what = match first.next() {
        Some(c) => c.to_uppercase().chain(first).collect::<String>(),
        None => String::new(),
    };
    let advice = if what.contains("sign-in page") {
        "This usually means the network wants you to sign in first (a hotel, train or office \
         Wi-Fi) or a proxy is in the way: open any web page in your browser, sign in there, then \
         try again."
    } else {
        "Check the server address: it must be the server's CalDAV address (for iCloud, \
         https://caldav.icloud.com/)."
    };
    format!("{what} at {host}. {advice} Nothing was changed.")
}

/// Maps a non-`Ok` classification to the engine's error.
pub fn status_error(c: &Classification, r: &RawResponse) -> Error {
    let path = r.url.path().to_owned();
    match c {
        Classification::Ok => Error::Protocol("unexpected success".into()),
        Classification::Rejected { .. } => Error::Protocol("401".into()),
        Classification::NotDav { what } => Error::NotDav(not_dav_sentence(what, r)),
        Classification::Throttled {
            status,
            retry_after,
        } => Error::Throttled {
            status: *status,
            retry_after: *retry_after,
        },
        Classification::Transient { status } => Error::Transient(format!(
            "the server had a temporary failure (HTTP {status}) on {path}"
        )),
        Classification::Misdirected => Error::Protocol(format!(
            "the server refused the request as misdirected (HTTP 421) on {path}"
        )),
        Classification::Forbidden => {
            Error::Protocol(format!("the server refused access (HTTP 403) to {path}"))
        }
        Classification::NotFound => {
            Error::Protocol(format!("{path} does not exist on the server (HTTP 404)"))
        }
        Classification::Redirect { location } => Error::Redirected(format!(
            "the server redirected {path} to {}; redirects are not followed with your credentials",
            location.as_deref().unwrap_or("an unnamed location")
        )),
        Classification::Other { status } => {
            Error::Protocol(format!("the server answered HTTP {status} on {path}"))
        }
    }
}

/// Whether a URL is on a loopback address.
pub fn is_loopback(u: &Url) -> bool {
    match u.host() {
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Maps a parse failure to the engine error with the step named.
pub fn dav_error(e: caldav::DavError, step: &str) -> Error {
    match e {
        caldav::DavError::Xml(caldav::XmlError::NotMultistatus { snippet }) => {
            Error::NotDav(format!(
                "the server's answer to {step} is not calendar data (it starts with {snippet:?})"
            ))
        }
        caldav::DavError::Xml(x @ caldav::XmlError::Truncated { .. }) => Error::Transient(format!(
            "the server's answer to {step} was cut off ({x}); nothing was changed, the next sync retries"
        )),
        caldav::DavError::Xml(x @ caldav::XmlError::Malformed { .. }) => Error::Protocol(format!(
            "the server's answer to {step} is not well-formed XML ({x}); nothing was changed"
        )),
        other => Error::Protocol(format!("{step}: {other}")),
    }
}
