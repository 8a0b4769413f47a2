//! The response classifier. Every response is classified before anything else reads it, so that a 401,
//! a sign-in page or a throttle can never be mistaken for data (docs/design.md rules 1, 3, 7).

use std::time::Duration;

use caldav::RawResponse;

/// What the caller expects the body to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// A 207 multistatus (PROPFIND, REPORT).
    Multistatus,
    /// An object body (GET).
    Object,
    /// Only the status matters (OPTIONS).
    Status,
}

/// The classes a response can fall into.
#[derive(Debug, Clone, PartialEq)]
pub enum Classification {
    /// Usable answer.
    Ok,
    /// QUIRK(icloud §2.1): the 401 every credential failure looks like.
    Rejected {
        /// `X-Apple-Request-UUID` for support (§2.2).
        request_id: Option<String>,
    },
    /// Not calendar data: HTML, a sign-in page, an empty or non-XML body.
    NotDav {
        /// What was seen, in words.
        what: String,
    },
    /// 503/429.
    Throttled {
        /// Status code.
        status: u16,
        /// Effective wait (floored and doubled, §2.6), or None when the server gave none.
        retry_after: Option<Duration>,
    },
    /// Other 5xx.
    Transient {
        /// Status code.
        status: u16,
    },
    /// QUIRK(icloud §2.7): 421.
    Misdirected,
    /// QUIRK(icloud §2.8): 403 is per-object, never an auth failure.
    Forbidden,
    /// 404 / 410.
    NotFound,
    /// A redirect the transport did not follow.
    Redirect {
        /// Location header.
        location: Option<String>,
    },
    /// Any other status (400, 409, 412, …).
    Other {
        /// Status code.
        status: u16,
    },
}

/// QUIRK(icloud §2.6): the advertised Retry-After has been shorter than the real block; floor it at
/// 2 s and double it. Accepts delta-seconds or an HTTP-date.
pub fn effective_retry_after(value: Option<&str>, now: std::time::SystemTime) -> Option<Duration> {
    let v = value?.trim();
    let advertised = if let Ok(secs) = v.parse::<u64>() {
        Duration::from_secs(secs)
    } else {
        let when = httpdate_parse(v)?;
        when.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(advertised.max(Duration::from_secs(2)) * 2)
}

fn httpdate_parse(v: &str) -> Option<std::time::SystemTime> {
    let dt = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let secs = u64::try_from(dt.timestamp()).ok()?;
    Some(std::time::UNIX_EPOCH + Duration::from_secs(secs))
}

fn body_start(body: &[u8]) -> &[u8] {
    let b = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    &b[start..b.len().min(start + 512)]
}

fn looks_like_html(body: &[u8]) -> bool {
    let head = String::from_utf8_lossy(body_start(body)).to_ascii_lowercase();
    head.starts_with("<!doctype html") || head.starts_with("<html") || head.contains("<html")
}

fn html_what(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(64 * 1024)]).to_ascii_lowercase();
    if [
        "sign in", "sign-in", "signin", "idmsa", "login", "log in", "password",
    ]
    .iter()
    .any(|w| text.contains(w))
    {
        "the server answered with a sign-in page instead of calendar data".into()
    } else {
        "the server answered with a web page instead of calendar data".into()
    }
}

/// Classifies one response.
pub fn classify(resp: &RawResponse, expect: Expect) -> Classification {
    let header = |name: &str| {
        resp.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    match resp.status {
        // QUIRK(icloud §2.1): same 401 whether the challenges come as two lines or comma-joined, with
        // or without a body, whatever the Server header says. §2.5: Apple changes these without
        // notice, so the status alone decides; the challenge text is never required.
        401 => Classification::Rejected {
            request_id: header("x-apple-request-uuid"),
        },
        429 | 503 => Classification::Throttled {
            status: resp.status,
            retry_after: effective_retry_after(
                header("retry-after").as_deref(),
                std::time::SystemTime::now(),
            ),
        },
        421 => Classification::Misdirected,
        403 => Classification::Forbidden,
        404 | 410 => Classification::NotFound,
        300..=399 => Classification::Redirect {
            location: header("location"),
        },
        // 501 Not Implemented is an answer about the request, not a passing failure.
        501 => Classification::Other { status: 501 },
        500..=599 => Classification::Transient {
            status: resp.status,
        },
        200..=299 => {
            if looks_like_html(&resp.body) {
                return Classification::NotDav {
                    what: html_what(&resp.body),
                };
            }
            match expect {
                Expect::Multistatus => {
                    let start = body_start(&resp.body);
                    if start.is_empty() {
                        Classification::NotDav {
                            what:
                                "the server sent an empty answer where calendar data was expected"
                                    .into(),
                        }
                    } else if !start.starts_with(b"<") {
                        Classification::NotDav {
                            what: "the server's answer is not XML calendar data".into(),
                        }
                    } else if resp.status != 207 {
                        Classification::NotDav {
                            what: format!(
                                "the server answered HTTP {} where a WebDAV multistatus (207) was expected",
                                resp.status
                            ),
                        }
                    } else {
                        Classification::Ok
                    }
                }
                Expect::Object | Expect::Status => Classification::Ok,
            }
        }
        other => Classification::Other { status: other },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderMap, HeaderValue};

    fn resp(status: u16, headers: &[(&'static str, &str)], body: &str) -> RawResponse {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        RawResponse {
            status,
            headers: h,
            body: bytes::Bytes::from(body.to_owned()),
            url: caldav::Url::parse("https://caldav.icloud.com/").unwrap(),
        }
    }

    #[test]
    fn icloud_2_1_two_challenge_lines_is_rejected() {
        let r = resp(
            401,
            &[
                ("server", "AppleHttpServer/b866cf47a603"),
                ("www-authenticate", "Basic realm=\"MMCalDav\""),
                (
                    "www-authenticate",
                    "X-MobileMe-AuthToken realm=\"MMCalDav\"",
                ),
                ("x-apple-request-uuid", "1b0e-42"),
                ("content-length", "0"),
            ],
            "",
        );
        assert_eq!(
            classify(&r, Expect::Multistatus),
            Classification::Rejected {
                request_id: Some("1b0e-42".into())
            }
        );
    }

    #[test]
    fn icloud_2_1_comma_joined_challenges_with_body_and_other_server_is_rejected() {
        let r = resp(
            401,
            &[
                ("server", "nginx"),
                (
                    "www-authenticate",
                    "Basic realm=\"MMCalDav\", X-MobileMe-AuthToken realm=\"MMCalDav\"",
                ),
            ],
            "<html>Unauthorized</html>",
        );
        assert!(matches!(
            classify(&r, Expect::Multistatus),
            Classification::Rejected { .. }
        ));
    }

    #[test]
    fn icloud_2_6_retry_after_seconds_is_floored_and_doubled() {
        let r = resp(503, &[("retry-after", "1")], "");
        assert_eq!(
            classify(&r, Expect::Multistatus),
            Classification::Throttled {
                status: 503,
                retry_after: Some(Duration::from_secs(4))
            }
        );
        let r = resp(503, &[("retry-after", "30")], "");
        assert!(matches!(
            classify(&r, Expect::Multistatus),
            Classification::Throttled { retry_after: Some(d), .. } if d == Duration::from_secs(60)
        ));
        let r = resp(429, &[], "");
        assert!(matches!(
            classify(&r, Expect::Multistatus),
            Classification::Throttled {
                status: 429,
                retry_after: None
            }
        ));
    }

    #[test]
    fn icloud_2_6_retry_after_http_date() {
        let now = std::time::UNIX_EPOCH + Duration::from_secs(1_445_412_480); // Wed, 21 Oct 2015 07:28:00 GMT
        let d = effective_retry_after(Some("Wed, 21 Oct 2015 07:28:10 GMT"), now);
        assert_eq!(d, Some(Duration::from_secs(20)));
        let past = effective_retry_after(Some("Wed, 21 Oct 2015 07:00:00 GMT"), now);
        assert_eq!(past, Some(Duration::from_secs(4)));
        assert_eq!(effective_retry_after(Some("soon"), now), None);
    }

    #[test]
    fn icloud_2_7_421_is_misdirected() {
        assert_eq!(
            classify(&resp(421, &[], ""), Expect::Multistatus),
            Classification::Misdirected
        );
    }

    #[test]
    fn icloud_2_8_403_is_per_object_not_auth() {
        assert_eq!(
            classify(&resp(403, &[], ""), Expect::Object),
            Classification::Forbidden
        );
    }

    #[test]
    fn sign_in_page_with_200_is_not_dav() {
        let r = resp(
            200,
            &[("content-type", "text/html")],
            "<!DOCTYPE html><html><title>Sign in to iCloud</title><form>Apple ID</form></html>",
        );
        match classify(&r, Expect::Multistatus) {
            Classification::NotDav { what } => assert!(what.contains("sign-in page"), "{what}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn empty_or_non_xml_200_where_multistatus_expected_is_not_dav() {
        assert!(matches!(
            classify(&resp(200, &[], ""), Expect::Multistatus),
            Classification::NotDav { .. }
        ));
        assert!(matches!(
            classify(&resp(207, &[], "   "), Expect::Multistatus),
            Classification::NotDav { .. }
        ));
        assert!(matches!(
            classify(&resp(207, &[], "{\"a\":1}"), Expect::Multistatus),
            Classification::NotDav { .. }
        ));
        assert_eq!(
            classify(
                &resp(
                    207,
                    &[],
                    "\u{feff}<?xml version=\"1.0\"?><multistatus xmlns=\"DAV:\"/>"
                ),
                Expect::Multistatus
            ),
            Classification::Ok
        );
    }

    #[test]
    fn redirect_and_5xx_and_404() {
        assert!(matches!(
            classify(
                &resp(302, &[("location", "https://idmsa.apple.com/")], ""),
                Expect::Multistatus
            ),
            Classification::Redirect { location: Some(_) }
        ));
        assert_eq!(
            classify(&resp(500, &[], ""), Expect::Multistatus),
            Classification::Transient { status: 500 }
        );
        assert_eq!(
            classify(&resp(404, &[], ""), Expect::Object),
            Classification::NotFound
        );
    }
}
