//! OPTIONS (RFC 4918 §10.1): which DAV compliance classes and methods the server offers.

use url::Url;

use crate::error::DavError;
use crate::{DavRequest, PreparedRequest, RawResponse};

/// OPTIONS on a resource.
#[derive(Debug, Clone)]
pub struct Options {
    /// Resource to ask about.
    pub url: Url,
}

/// What OPTIONS advertised.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DavCapabilities {
    /// Tokens of all `DAV` headers, e.g. `1`, `2`, `calendar-access`.
    pub dav: Vec<String>,
    /// Tokens of all `Allow` headers, e.g. `PROPFIND`, `REPORT`.
    pub allow: Vec<String>,
}

impl DavCapabilities {
    /// Whether the server claims CalDAV (RFC 4791 §5.1).
    pub fn calendar_access(&self) -> bool {
        self.dav
            .iter()
            .any(|t| t.eq_ignore_ascii_case("calendar-access"))
    }
}

impl DavRequest for Options {
    type Response = DavCapabilities;

    /// The request to send.
    fn request(&self) -> PreparedRequest {
        PreparedRequest {
            method: http::Method::OPTIONS,
            url: self.url.clone(),
            depth: None,
            content_type: None,
            body: None,
        }
    }

    /// Accepts any 2xx.
    fn parse(&self, resp: &RawResponse) -> Result<Self::Response, DavError> {
        if !(200..300).contains(&resp.status) {
            return Err(DavError::UnexpectedStatus {
                status: resp.status,
            });
        }
        Ok(DavCapabilities {
            dav: tokens(&resp.headers, "dav"),
            allow: tokens(&resp.headers, http::header::ALLOW.as_str()),
        })
    }
}

fn tokens(headers: &http::HeaderMap, name: &str) -> Vec<String> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::raw;

    #[test]
    fn options_collects_tokens_from_repeated_headers() {
        let o = Options {
            url: Url::parse("https://caldav.icloud.com/").unwrap(),
        };
        assert_eq!(o.request().method, http::Method::OPTIONS);
        let mut resp = raw(200, "", "https://caldav.icloud.com/");
        let h = &mut resp.headers;
        h.append(
            "dav",
            http::HeaderValue::from_static("1, 2, access-control"),
        );
        h.append(
            "dav",
            http::HeaderValue::from_static("calendar-access,calendar-schedule"),
        );
        h.append(
            "allow",
            http::HeaderValue::from_static("OPTIONS, GET, PROPFIND, REPORT"),
        );
        let caps = o.parse(&resp).unwrap();
        assert_eq!(
            caps.dav,
            [
                "1",
                "2",
                "access-control",
                "calendar-access",
                "calendar-schedule"
            ]
        );
        assert_eq!(caps.allow, ["OPTIONS", "GET", "PROPFIND", "REPORT"]);
        assert!(caps.calendar_access());
    }
}
