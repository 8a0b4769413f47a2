//! A raw HTTP/1.1 client, so tests see exactly what goes over the wire.

use base64::Engine as _;
use icloud_sim::{Sim, SimConfig};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

pub const DSID: &str = "17149682";

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    /// Header lines in order, names as sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn header_lines(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The `<response>` elements of a multistatus, as text.
    pub fn responses(&self) -> Vec<String> {
        let t = self.text();
        t.split("<response>")
            .skip(1)
            .map(|s| s.split("</response>").next().unwrap().to_owned())
            .collect()
    }
}

/// The text of the first `<tag>…</tag>` in `s`.
pub fn between<'a>(s: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = s.find(open)? + open.len();
    let end = s[start..].find(close)? + start;
    Some(&s[start..end])
}

pub fn basic(user: &str, pass: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
    )
}

pub fn good_auth() -> String {
    basic("demo@example.com", "abcd-efgh-ijkl-mnop")
}

pub fn host_port(url: &str) -> String {
    url.trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned()
}

pub struct Conn {
    stream: BufReader<TcpStream>,
}

impl Conn {
    pub async fn open(url: &str) -> Conn {
        Conn {
            stream: BufReader::new(TcpStream::connect(host_port(url)).await.unwrap()),
        }
    }

    pub async fn send_raw(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) {
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: sim\r\nUser-Agent: CalendarConnector/test\r\n"
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        let mut bytes = req.into_bytes();
        bytes.extend_from_slice(body);
        self.stream.get_mut().write_all(&bytes).await.unwrap();
    }

    pub async fn read_head(&mut self) -> (u16, Vec<(String, String)>) {
        let mut line = String::new();
        self.stream.read_line(&mut line).await.unwrap();
        let status: u16 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        let mut headers = Vec::new();
        loop {
            line.clear();
            self.stream.read_line(&mut line).await.unwrap();
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let (k, v) = l.split_once(':').unwrap();
            headers.push((k.to_owned(), v.trim().to_owned()));
        }
        (status, headers)
    }

    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Resp {
        self.send_raw(method, path, headers, body).await;
        let (status, headers) = self.read_head().await;
        let resp = Resp {
            status,
            headers,
            body: Vec::new(),
        };
        let len: usize = resp.header("Content-Length").unwrap().parse().unwrap();
        let mut body = vec![0; len];
        self.stream.read_exact(&mut body).await.unwrap();
        Resp { body, ..resp }
    }

    /// Everything until the connection ends, and the error it ended with (None for a clean EOF).
    pub async fn read_until_error(&mut self) -> (Vec<u8>, Option<std::io::Error>) {
        let mut got = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            match self.stream.read(&mut buf).await {
                Ok(0) => return (got, None),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => return (got, Some(e)),
            }
        }
    }

    /// Everything until the server closes the connection.
    pub async fn read_to_end(&mut self) -> Vec<u8> {
        let mut rest = Vec::new();
        self.stream.read_to_end(&mut rest).await.unwrap();
        rest
    }
}

/// One request on a fresh connection, authenticated with the default credentials.
pub async fn dav(base: &str, method: &str, path: &str, depth: Option<&str>, body: &str) -> Resp {
    let auth = good_auth();
    let mut headers = vec![
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/xml; charset=utf-8"),
    ];
    if let Some(d) = depth {
        headers.push(("Depth", d));
    }
    Conn::open(base)
        .await
        .request(method, path, &headers, body.as_bytes())
        .await
}

pub async fn start() -> Sim {
    Sim::start(SimConfig {
        base_date: base_date(),
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

pub fn base_date() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2025, 6, 2).unwrap()
}

pub fn cal_path(slug: &str) -> String {
    format!("/{DSID}/calendars/{slug}/")
}

pub fn sync_body(token: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><d:sync-collection xmlns:d="DAV:"><d:sync-token>{token}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>"#
    )
}

pub fn multiget_body(hrefs: &[String]) -> String {
    let mut s = String::from(
        r#"<?xml version="1.0" encoding="utf-8"?><c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop>"#,
    );
    for h in hrefs {
        s.push_str(&format!("<d:href>{h}</d:href>"));
    }
    s.push_str("</c:calendar-multiget>");
    s
}

/// href '@' → '%40', as listings serve it.
pub fn listed(href: &str) -> String {
    href.replace('@', "%40")
}
