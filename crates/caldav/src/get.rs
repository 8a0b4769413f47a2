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
        PreparedRequest {
            method: http::Method::GET,
            url: self.url.clone(),
            depth: None,
            content_type: None,
            body: None,
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::raw;

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
