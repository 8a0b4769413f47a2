//! Error types. Display strings are user-facing; none of them ever carries credentials.

/// The body could not be read as a WebDAV multistatus.
#[derive(Debug, thiserror::Error)]
pub enum XmlError {
    /// The body is not a `DAV:multistatus` document (HTML, JSON, empty, another root element).
    #[error("server did not answer with a WebDAV multistatus (body starts with {snippet:?})")]
    NotMultistatus {
        /// At most 80 characters of the body, control characters replaced: safe to log.
        snippet: String,
    },
    /// The document ended before the root element closed (a body cut off in transit).
    #[error("the server's XML ended early at byte {position}: {message}")]
    Truncated {
        /// Byte offset where it ended.
        position: u64,
        /// What was still open.
        message: String,
    },
    /// Not well-formed (mismatched tags, bad characters, unknown entities…).
    #[error("malformed XML from server at byte {position}: {message}")]
    Malformed {
        /// Byte offset in the body.
        position: u64,
        /// What the parser found wrong.
        message: String,
    },
    /// An href that cannot be resolved to a URL (empty, or not a URL reference).
    #[error("server sent an unusable href {href:?}")]
    BadHref {
        /// The href as sent.
        href: String,
    },
}

/// A response that does not answer the request as expected.
#[derive(Debug, thiserror::Error)]
pub enum DavError {
    /// The status code is not the one this request expects (207 for PROPFIND/REPORT).
    #[error("server answered with unexpected HTTP status {status}")]
    UnexpectedStatus {
        /// The status received.
        status: u16,
    },
    /// The body is not a usable multistatus.
    #[error(transparent)]
    Xml(#[from] XmlError),
    /// A property the request needs was absent.
    #[error("server response for {url} lacks the {name} property")]
    MissingProperty {
        /// Property name (local part).
        name: &'static str,
        /// The resource it was asked of.
        url: String,
    },
    /// A URL in the response could not be used.
    #[error("invalid URL in server response: {0}")]
    BadUrl(String),
}

/// A request could not be sent or its response not received.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// Connection refused, DNS failure, TLS failure.
    #[error("could not connect to {url_host}: {message}")]
    Connect {
        /// `host:port` connected to.
        url_host: String,
        /// Root cause, e.g. "connection refused", "invalid peer certificate: UnknownIssuer".
        message: String,
    },
    /// Connect or request timeout.
    #[error("timed out waiting for {url_host}")]
    Timeout {
        /// `host:port` waited for.
        url_host: String,
    },
    /// The connection broke while the body was being received.
    #[error("response body was cut off: {message}")]
    Body {
        /// What happened, e.g. "response ended after 10 of 200 bytes".
        message: String,
    },
    /// The response body exceeded the configured cap.
    #[error("response body larger than the limit of {limit} bytes")]
    TooLarge {
        /// The cap in bytes.
        limit: usize,
    },
    /// The server redirected to another scheme, host or port; not followed.
    #[error(
        "server redirected from {from} to {to}, a different scheme, host or port; not followed"
    )]
    CrossHostRedirect {
        /// Where the redirect came from (no query, no user info).
        from: String,
        /// Where it pointed (no query, no user info).
        to: String,
    },
    /// Credentials would have gone to a host nobody trusted; nothing was sent.
    #[error("refusing to send credentials to untrusted host {host}")]
    UntrustedHost {
        /// `host:port`.
        host: String,
    },
    /// Credentials would have gone over plain http to a non-loopback host; nothing was sent.
    #[error("refusing to send credentials over plain http to {url}: use https:// (only loopback servers may use http)")]
    InsecureScheme {
        /// The URL (no query, no user info).
        url: String,
    },
    /// More redirects than the configured maximum.
    #[error("too many redirects")]
    TooManyRedirects,
    /// Anything else (building the client, invalid request).
    #[error("HTTP error: {0}")]
    Other(String),
}

impl TransportError {
    /// Whether trying again later may succeed without anything changing on our side.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            TransportError::Connect { .. }
                | TransportError::Timeout { .. }
                | TransportError::Body { .. }
        )
    }
}

/// Why [`crate::Transport::run`] failed: the request did not get an answer, or the answer was not
/// what the request accepts.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Sending or receiving failed.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The answer could not be parsed (or had a status the request does not accept).
    #[error(transparent)]
    Dav(#[from] DavError),
}
