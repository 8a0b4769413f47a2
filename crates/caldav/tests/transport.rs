//! Transport against a tiny raw-HTTP/1.1 server on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use caldav::{
    Credentials, DavRequest, Depth, PreparedRequest, Propfind, Transport, TransportConfig,
    TransportError, Url, DAV,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A request as the server saw it: head (request line + headers) and body.
#[derive(Debug, Clone)]
struct Seen {
    head: String,
    body: Vec<u8>,
}

impl Seen {
    fn request_line(&self) -> &str {
        self.head.lines().next().unwrap_or("")
    }
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    }
}

/// Serves each connection with `respond(request, port)`, then closes it.
async fn serve<F>(respond: F) -> (Url, Arc<Mutex<Vec<Seen>>>)
where
    F: Fn(&Seen, u16) -> Vec<u8> + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let respond = Arc::new(respond);
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let log = log.clone();
            let respond = respond.clone();
            tokio::spawn(async move {
                let mut data = Vec::new();
                let mut buf = [0u8; 4096];
                let head_end = loop {
                    if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => data.extend_from_slice(&buf[..n]),
                    }
                };
                let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
                let mut req = Seen {
                    head,
                    body: Vec::new(),
                };
                let len: usize = req
                    .header("content-length")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                while data.len() < head_end + len {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => data.extend_from_slice(&buf[..n]),
                    }
                }
                req.body = data[head_end..head_end + len].to_vec();
                let out = respond(&req, port);
                log.lock().unwrap().push(req);
                let _ = sock.write_all(&out).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    (
        Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap(),
        seen,
    )
}

fn response(status: &str, extra_headers: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n{extra_headers}\r\n{body}",
        body.len()
    )
    .into_bytes()
}

const MULTISTATUS: &str = r#"<multistatus xmlns="DAV:"><response><href>/new/</href><propstat><prop><displayname>x</displayname></prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>"#;

fn transport() -> Transport {
    Transport::new(TransportConfig::default()).unwrap()
}

const CREDS: Credentials<'static> = Credentials {
    username: "me@icloud.com",
    password: "abcd-efgh-ijkl-mnop",
};

fn propfind(url: Url) -> PreparedRequest {
    Propfind {
        url,
        depth: Depth::Zero,
        props: vec![(DAV, "displayname")],
    }
    .request()
}

#[tokio::test]
async fn same_host_redirect_is_followed_with_same_method_body_and_credentials() {
    let (base, seen) = serve(|req, _| {
        if req.request_line().contains(" /old/ ") {
            response("301 Moved Permanently", "Location: /new/\r\n", "")
        } else {
            response(
                "207 Multi-Status",
                "X-Apple-Request-UUID: abc\r\n",
                MULTISTATUS,
            )
        }
    })
    .await;
    let t = transport();
    t.trust_host(&base);
    let req = propfind(base.join("/old/").unwrap());
    let resp = t.execute(&req, Some(&CREDS)).await.unwrap();
    assert_eq!(resp.status, 207);
    assert_eq!(resp.url.path(), "/new/");
    assert_eq!(&resp.body[..], MULTISTATUS.as_bytes());

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    let second = &seen[1];
    assert!(
        second.request_line().starts_with("PROPFIND /new/ "),
        "{}",
        second.head
    );
    assert_eq!(second.body, req.body.clone().unwrap());
    assert_eq!(second.header("depth").as_deref(), Some("0"));
    assert_eq!(
        second.header("content-type").as_deref(),
        Some("application/xml; charset=utf-8")
    );
    assert!(second
        .header("user-agent")
        .unwrap()
        .starts_with("CalendarConnector/"));
    // Basic base64("me@icloud.com:abcd-efgh-ijkl-mnop")
    assert_eq!(
        second.header("authorization").as_deref(),
        Some("Basic bWVAaWNsb3VkLmNvbTphYmNkLWVmZ2gtaWprbC1tbm9w")
    );
}

#[tokio::test]
async fn cross_host_redirect_is_refused_and_nothing_sent_there() {
    let (other, other_seen) = serve(|_, _| response("207 Multi-Status", "", MULTISTATUS)).await;
    let target = other.join("/steal/").unwrap();
    let (base, seen) =
        serve(move |_, _| response("302 Found", &format!("Location: {target}\r\n"), "")).await;
    let t = transport();
    t.trust_host(&base);
    let err = t
        .execute(&propfind(base.clone()), Some(&CREDS))
        .await
        .unwrap_err();
    match &err {
        TransportError::CrossHostRedirect { from, to } => {
            assert_eq!(from, &format!("http://127.0.0.1:{}/", base.port().unwrap()));
            assert!(to.ends_with("/steal/"), "{to}");
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.is_transient());
    assert_eq!(seen.lock().unwrap().len(), 1);
    assert!(other_seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_public_request_follows_a_redirect_to_another_host() {
    let (other, other_seen) = serve(|_, _| response("200 OK", "", "BEGIN:VCALENDAR")).await;
    let target = other.join("/published/2/moved").unwrap();
    let (base, seen) = serve(move |_, _| {
        response(
            "301 Moved Permanently",
            &format!("Location: {target}\r\n"),
            "",
        )
    })
    .await;
    let t = transport();
    t.trust_host(&base);
    let get = PreparedRequest::get(&base.join("/published/2/old").unwrap());
    let resp = t.execute(&get, None).await.unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(&resp.body[..], b"BEGIN:VCALENDAR");
    assert_eq!(resp.url.port(), other.port());
    assert_eq!(seen.lock().unwrap().len(), 1);
    {
        let there = other_seen.lock().unwrap();
        assert_eq!(there.len(), 1);
        assert_eq!(there[0].header("authorization"), None);
    }
    // The same redirect with credentials is refused, and nothing reaches the other host.
    let err = t
        .execute(&propfind(base.clone()), Some(&CREDS))
        .await
        .unwrap_err();
    assert!(
        matches!(err, TransportError::CrossHostRedirect { .. }),
        "{err:?}"
    );
    assert_eq!(other_seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn redirect_loop_stops_at_max_redirects() {
    let (base, seen) =
        serve(|_, _| response("307 Temporary Redirect", "Location: /loop/\r\n", "")).await;
    let cfg = TransportConfig {
        max_redirects: 2,
        ..TransportConfig::default()
    };
    let t = Transport::new(cfg).unwrap();
    let err = t.execute(&propfind(base), None).await.unwrap_err();
    assert!(matches!(err, TransportError::TooManyRedirects), "{err:?}");
    assert_eq!(seen.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn body_shorter_than_content_length_is_body_error() {
    let (base, _) = serve(|_, _| {
        b"HTTP/1.1 207 Multi-Status\r\nContent-Length: 100\r\nConnection: close\r\n\r\n<multistatus"
            .to_vec()
    })
    .await;
    let err = transport()
        .execute(&propfind(base), None)
        .await
        .unwrap_err();
    match &err {
        TransportError::Body { message } => {
            assert!(message.starts_with("response ended after "), "{message}");
            assert!(message.ends_with(" of 100 bytes"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.is_transient());
}

#[tokio::test]
async fn response_over_cap_is_too_large() {
    let big = "x".repeat(5000);
    let chunked = format!(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{big}\r\n{:x}\r\n{big}\r\n0\r\n\r\n",
        big.len(),
        big.len()
    );
    let (base, _) = serve(move |req, _| {
        if req.request_line().contains(" /chunked ") {
            chunked.clone().into_bytes()
        } else {
            response("200 OK", "", &big)
        }
    })
    .await;
    let cfg = TransportConfig {
        max_response_bytes: 8000,
        ..TransportConfig::default()
    };
    let t = Transport::new(cfg).unwrap();
    let get = |path: &str| PreparedRequest {
        method: http::Method::GET,
        url: base.join(path).unwrap(),
        depth: None,
        content_type: None,
        body: None,
    };
    let ok = t.execute(&get("/small"), None).await.unwrap();
    assert_eq!(ok.body.len(), 5000);
    let err = t.execute(&get("/chunked"), None).await.unwrap_err();
    assert!(
        matches!(err, TransportError::TooLarge { limit: 8000 }),
        "{err:?}"
    );

    let tiny = Transport::new(TransportConfig {
        max_response_bytes: 100,
        ..TransportConfig::default()
    })
    .unwrap();
    let err = tiny.execute(&get("/small"), None).await.unwrap_err();
    assert!(
        matches!(err, TransportError::TooLarge { limit: 100 }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "response body larger than the limit of 100 bytes"
    );
}

#[tokio::test]
async fn connection_refused_is_connect_error_with_plain_message() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
    let err = transport().execute(&propfind(url), None).await.unwrap_err();
    assert!(err.is_transient());
    assert_eq!(
        err.to_string(),
        format!("could not connect to 127.0.0.1:{port}: connection refused")
    );
}

#[tokio::test]
async fn credentials_to_untrusted_host_are_refused_before_sending() {
    let (base, seen) = serve(|_, _| response("207 Multi-Status", "", MULTISTATUS)).await;
    let t = transport();
    let err = t
        .execute(&propfind(base.clone()), Some(&CREDS))
        .await
        .unwrap_err();
    assert!(
        matches!(err, TransportError::UntrustedHost { .. }),
        "{err:?}"
    );
    assert!(!err.to_string().contains(CREDS.password));
    assert!(seen.lock().unwrap().is_empty());
    // Without credentials the same host is fine.
    let resp = t.execute(&propfind(base), None).await.unwrap();
    assert_eq!(resp.status, 207);
    assert_eq!(seen.lock().unwrap()[0].header("authorization"), None);
}

#[tokio::test]
async fn credentials_over_plain_http_to_non_loopback_are_refused() {
    let t = transport();
    let url = Url::parse("http://caldav.example.invalid/").unwrap();
    t.trust_host(&url);
    let err = t.execute(&propfind(url), Some(&CREDS)).await.unwrap_err();
    assert!(
        matches!(err, TransportError::InsecureScheme { .. }),
        "{err:?}"
    );
}
