//! Failure scenarios and request counters.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How the simulator misbehaves. Names follow docs/icloud.md sections.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum Scenario {
    /// Answer like iCloud on a good day.
    #[default]
    Normal,
    /// Every request gets the §2.1 401, even with the right password.
    Reject2_1 {
        /// Send both challenges comma-joined in one `WWW-Authenticate` line instead of two lines.
        joined_header: bool,
        /// Add a small body (the real one is empty, `Content-Length: 0`).
        with_body: bool,
    },
    /// 503, with this `Retry-After` value verbatim ("5" or an HTTP-date) when set (§2.6).
    Throttle2_6 {
        /// `Retry-After` header value.
        retry_after: Option<String>,
    },
    /// An empty answer with this status, e.g. 500.
    ServerError {
        /// The HTTP status.
        status: u16,
    },
    /// The real answer, but the body is cut in half and the connection closed (FIN) while
    /// `Content-Length` promises the whole: broken at the HTTP level.
    TruncatedBody,
    /// The real answer; `Content-Length` promises the whole body, half of it is sent, then the
    /// connection is reset (TCP RST), as when a proxy or the server dies mid-body.
    ConnectionResetMidBody,
    /// The real answer cut in half, with a `Content-Length` that matches what is sent: the HTTP
    /// exchange is well-formed and the connection stays open, only the XML ends early.
    TruncatedXml,
    /// 207 whose body is not well-formed XML (mismatched tags).
    MalformedXml,
    /// 200 with an empty body (`Content-Length: 0`).
    EmptyOk,
    /// Every object a multiget asks for is changed on the server (new SUMMARY, so a new etag) just
    /// before it is served: the listing said etag A, the multiget answers B with changed data.
    EtagChangesBetweenListingAndFetch,
    /// The calendar with this slug is deleted from the server when the scenario first applies to a
    /// request (that request and every later one on it get 404; the home listing no longer names it).
    CalendarDisappears {
        /// The calendar's slug.
        slug: String,
    },
    /// A 207 of `bytes` bytes (chunked, no `Content-Length`), generated while it is sent and never
    /// held in memory, e.g. 1 GiB.
    HugeResponse {
        /// Total body size.
        bytes: u64,
    },
    /// 200 `text/html` Apple sign-in page instead of DAV.
    HtmlSignIn,
    /// 302 to another host.
    RedirectOtherHost {
        /// The `Location` header.
        location: String,
    },
    /// A sync-collection carrying a token gets this status (403/409/410/412) with
    /// `<D:error><D:valid-sync-token/></D:error>`; token-less ones work (§3.2).
    TokenExpired3_2 {
        /// The HTTP status.
        status: u16,
    },
    /// In multiget answers every nth requested href comes back as a 404 `<response>` (§3.3).
    MultigetItem404_3_3 {
        /// 1-based period; 0 disables.
        every_nth: usize,
    },
}

/// What a DAV request is, for [`Stats`] and for scenario filters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RequestKind {
    /// PROPFIND.
    Propfind,
    /// REPORT sync-collection.
    SyncCollection,
    /// REPORT calendar-multiget.
    Multiget,
    /// GET or HEAD.
    Get,
    /// Anything else (OPTIONS, PUT, DELETE, calendar-query, ...).
    Other,
}

/// Counters of DAV requests (control requests under `/__sim/` are not counted).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Every DAV request.
    pub requests: u64,
    /// Requests that carried an `Authorization` header.
    pub authenticated: u64,
    /// 401s sent.
    pub unauthorized: u64,
    /// PROPFIND requests.
    pub propfind: u64,
    /// REPORT sync-collection requests.
    pub sync_collection: u64,
    /// REPORT calendar-multiget requests.
    pub multiget: u64,
    /// Hrefs asked for in all multigets.
    pub multiget_hrefs: u64,
    /// GET/HEAD requests.
    pub get: u64,
    /// Everything else.
    pub other: u64,
    /// Requests per listener: `"front"` / `"partition"`.
    pub by_host: BTreeMap<String, u64>,
    /// Response body bytes of DAV requests (what the client downloaded, headers aside).
    #[serde(default)]
    pub bytes_down: u64,
    /// GETs of published calendars (`/published/2/<token>`, no credentials; also counted in `get`).
    #[serde(default)]
    pub published_get: u64,
    /// Of those, the ones that carried `If-None-Match`.
    #[serde(default)]
    pub if_none_match: u64,
    /// 304 Not Modified answers sent.
    #[serde(default)]
    pub not_modified: u64,
}

/// A scenario plus when it starts to apply (test builds only).
#[cfg(feature = "testing")]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Armed {
    pub(crate) scenario: Scenario,
    /// Only requests of this kind are affected (and counted for `skip`).
    pub(crate) only: Option<RequestKind>,
    /// This many more matching requests pass untouched first.
    pub(crate) skip: u64,
}

#[cfg(feature = "testing")]
impl Armed {
    pub(crate) fn new(scenario: Scenario) -> Self {
        Armed {
            scenario,
            only: None,
            skip: 0,
        }
    }

    /// The scenario this request gets; counts the request towards `skip`.
    pub(crate) fn apply_to(&mut self, kind: RequestKind) -> Scenario {
        if self.only.is_some_and(|only| only != kind) {
            return Scenario::Normal;
        }
        if self.skip > 0 {
            self.skip -= 1;
            return Scenario::Normal;
        }
        self.scenario.clone()
    }
}

/// Body of `POST /__sim/scenario` when more than a bare [`Scenario`] is sent.
#[cfg(feature = "testing")]
#[derive(Debug, Deserialize)]
pub(crate) struct ScenarioRequest {
    pub(crate) scenario: Scenario,
    #[serde(default)]
    pub(crate) after_requests: u64,
    #[serde(default)]
    pub(crate) only: Option<RequestKind>,
}
