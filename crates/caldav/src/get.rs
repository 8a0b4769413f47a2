//! GET of one calendar object.
//!
//! QUIRK(icloud §1.8): never GET a collection; iCloud answers 400 or drops the connection.

use url::Url;

use crate::error::DavError;
use crate::{DavRequest, PreparedRequest, RawResponse};

/// GET one item.
#[derive(Debug, Clone)]
pub struct Get {
    /// The item (not a collection).
    pub url: Url,
}

/// The body and etag of a fetched item.
#[derive(Debug, Clone)]
pub struct GetResult {
    /// The body as received.
    pub data: Vec<u8>,
    /// The `ETag` header, surrounding whitespace trimmed.
    pub etag: Option<String>,
}

impl DavRequest for Get {
    type Response = GetResult;

    /// The request to send.
    fn request(&self) -> PreparedRequest {
        PreparedRequest::get(&self.url)
    }

    /// Accepts 200 only.
    fn parse(&self, resp: &RawResponse) -> Result<Self::Response, DavError> {
        if resp.status != 200 {
            return Err(DavError::UnexpectedStatus {
                status: resp.status,
            });
        }
        let etag = resp
            .headers
            .get(http::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty());
        Ok(GetResult {
            data: resp.body.to_vec(),
            etag,
        })
    }
}

/// A conditional GET of a whole published calendar (an `.ics` feed): sends `If-None-Match` /
/// `If-Modified-Since` from the previous answer, so an unchanged feed costs one 304 and no body.
#[derive(Debug, Clone)]
pub struct ConditionalGet {
    /// The feed.
    pub url: Url,
    /// The `ETag` of the last answer stored.
    pub etag: Option<String>,
    /// The `Last-Modified` of the last answer stored.
    pub last_modified: Option<String>,
}

/// What a [`ConditionalGet`] got back.
#[derive(Debug, Clone)]
pub enum ConditionalResult {
    /// 304: unchanged since the stored answer.
    NotModified,
    /// 200: the body and its validators.
    Fetched {
        /// The body as received.
        data: Vec<u8>,
        /// `ETag`, trimmed.
        etag: Option<String>,
        /// `Last-Modified`, as sent.
        last_modified: Option<String>,
        /// `Content-Type`, as sent.
        content_type: Option<String>,
    },
}

fn header(resp: &RawResponse, name: http::header::HeaderName) -> Option<String> {
    resp.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

impl ConditionalGet {
    /// The request to send (a plain GET; the validators go in [`ConditionalGet::headers`]).
    pub fn request(&self) -> PreparedRequest {
        PreparedRequest::get(&self.url)
    }

    /// `If-None-Match` and `If-Modified-Since` for the stored validators (values that are not valid
    /// header text are left out: the answer is then a full 200, never wrong).
    pub fn headers(&self) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        let mut put = |name, value: &Option<String>| {
            if let Some(v) = value
                .as_deref()
                .and_then(|v| http::HeaderValue::from_str(v).ok())
            {
                h.insert(name, v);
            }
        };
        put(http::header::IF_NONE_MATCH, &self.etag);
        put(http::header::IF_MODIFIED_SINCE, &self.last_modified);
        h
    }

    /// 304 is [`ConditionalResult::NotModified`], 200 the body; anything else is
    /// [`DavError::UnexpectedStatus`].
    pub fn parse(&self, resp: &RawResponse) -> Result<ConditionalResult, DavError> {
        match resp.status {
            304 => Ok(ConditionalResult::NotModified),
            200 => Ok(ConditionalResult::Fetched {
                data: resp.body.to_vec(),
                etag: header(resp, http::header::ETAG),
                last_modified: header(resp, http::header::LAST_MODIFIED),
                content_type: header(resp, http::header::CONTENT_TYPE),
            }),
            status => Err(DavError::UnexpectedStatus { status }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::raw;

    #[test]
    fn conditional_get_sends_validators_and_reads_304() {
        let g = ConditionalGet {
            url: Url::parse("https://h/published/2/x").unwrap(),
            etag: Some("\"e1\"".into()),
            last_modified: Some("Sat, 05 Dec 2026 01:00:00 GMT".into()),
        };
        let h = g.headers();
        assert_eq!(h.get(http::header::IF_NONE_MATCH).unwrap(), "\"e1\"");
        assert!(h.contains_key(http::header::IF_MODIFIED_SINCE));
        let r = g.parse(&raw(304, "", "https://h/published/2/x")).unwrap();
        assert!(matches!(r, ConditionalResult::NotModified));
        let mut ok = raw(200, "BEGIN:VCALENDAR", "https://h/published/2/x");
        ok.headers
            .insert(http::header::ETAG, http::HeaderValue::from_static("\"e2\""));
        match g.parse(&ok).unwrap() {
            ConditionalResult::Fetched { data, etag, .. } => {
                assert_eq!(data, b"BEGIN:VCALENDAR");
                assert_eq!(etag.as_deref(), Some("\"e2\""));
            }
            other => panic!("{other:?}"),
        }
        assert!(g.parse(&raw(404, "", "https://h/")).is_err());
        let fresh = ConditionalGet {
            url: g.url.clone(),
            etag: None,
            last_modified: None,
        };
        assert!(fresh.headers().is_empty());
    }

    #[test]
    fn get_returns_body_and_etag() {
        let g = Get {
            url: Url::parse("https://h/c/a.ics").unwrap(),
        };
        let req = g.request();
        assert_eq!(req.method, http::Method::GET);
        assert!(req.body.is_none() && req.depth.is_none());
        let mut resp = raw(200, "BEGIN:VCALENDAR\r\n", "https://h/c/a.ics");
        resp.headers.insert(
            http::header::ETAG,
            http::HeaderValue::from_static(" \"abc\" "),
        );
        let r = g.parse(&resp).unwrap();
        assert_eq!(r.data, b"BEGIN:VCALENDAR\r\n");
        assert_eq!(r.etag.as_deref(), Some("\"abc\""));
    }

    #[test]
    fn icloud_1_8_get_400_is_unexpected_status_not_auth() {
        let g = Get {
            url: Url::parse("https://h/").unwrap(),
        };
        let err = g.parse(&raw(400, "", "https://h/")).unwrap_err();
        assert!(matches!(err, DavError::UnexpectedStatus { status: 400 }));
    }
}
