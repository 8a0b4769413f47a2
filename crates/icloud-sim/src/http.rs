//! A small HTTP/1.1 server.
//!
//! Hand-written rather than hyper because the simulator must misbehave in ways a correct server library
//! will not: two `WWW-Authenticate` lines in exact case (§2.1), or a body cut off while `Content-Length`
//! promises more and the connection dropped.

use std::io;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

const MAX_HEAD: u64 = 64 * 1024;
const MAX_BODY: usize = 256 * 1024 * 1024;

pub(crate) struct Request {
    pub(crate) method: String,
    /// The request target as sent (still percent-encoded, may carry a query).
    pub(crate) target: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    keep_alive: bool,
}

impl Request {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The target without its query, still percent-encoded.
    pub(crate) fn raw_path(&self) -> &str {
        let t = self.target.as_str();
        let t = match t.find("://") {
            Some(i) => t[i + 3..].find('/').map_or("/", |j| &t[i + 3 + j..]),
            None => t,
        };
        t.split(['?', '#']).next().unwrap_or("/")
    }

    #[cfg(feature = "testing")]
    pub(crate) fn query(&self) -> Option<&str> {
        self.target.split_once('?').map(|(_, q)| q)
    }
}

pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    /// Send half the body, claim all of it in `Content-Length`, then close.
    pub(crate) truncate: bool,
    /// Like `truncate`, but end with a TCP reset instead of a clean close.
    pub(crate) reset: bool,
    /// Instead of `body`, stream a generated multistatus of this many bytes (chunked).
    pub(crate) huge: Option<u64>,
    pub(crate) close: bool,
}

impl Response {
    pub(crate) fn new(status: u16) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            truncate: false,
            reset: false,
            huge: None,
            close: false,
        }
    }

    pub(crate) fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    pub(crate) fn xml(status: u16, body: String) -> Self {
        let mut r = Response::new(status).header("Content-Type", "text/xml");
        r.body = crate::xml::restore_raw_bytes(body);
        r
    }

    pub(crate) fn with_body(mut self, content_type: &str, body: Vec<u8>) -> Self {
        self.headers
            .push(("Content-Type".to_owned(), content_type.to_owned()));
        self.body = body;
        self
    }
}

pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        207 => "Multi-Status",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        410 => "Gone",
        412 => "Precondition Failed",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        421 => "Misdirected Request",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        507 => "Insufficient Storage",
        _ => "Unknown",
    }
}

fn bad(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_owned())
}

async fn read_line(r: &mut BufReader<OwnedReadHalf>, line: &mut Vec<u8>) -> io::Result<usize> {
    line.clear();
    let n = (&mut *r).take(MAX_HEAD).read_until(b'\n', line).await?;
    if n > 0 && line.last() != Some(&b'\n') {
        return Err(bad("header line too long"));
    }
    while matches!(line.last(), Some(b'\n' | b'\r')) {
        line.pop();
    }
    Ok(n)
}

/// Reads one request; `None` at a clean end of the connection.
async fn read_request(
    r: &mut BufReader<OwnedReadHalf>,
    w: &mut OwnedWriteHalf,
) -> io::Result<Option<Request>> {
    let mut line = Vec::new();
    // Tolerate stray CRLFs between pipelined requests (RFC 9112 §2.2).
    loop {
        if read_line(r, &mut line).await? == 0 {
            return Ok(None);
        }
        if !line.is_empty() {
            break;
        }
    }
    let start = String::from_utf8_lossy(&line).into_owned();
    let mut parts = start.split_whitespace();
    let (Some(method), Some(target), version) = (
        parts.next(),
        parts.next(),
        parts.next().unwrap_or("HTTP/1.0"),
    ) else {
        return Err(bad("bad request line"));
    };
    let mut headers = Vec::new();
    let mut total = 0usize;
    loop {
        let n = read_line(r, &mut line).await?;
        total += n;
        if n == 0 || total as u64 > MAX_HEAD {
            return Err(bad("header section too large or cut"));
        }
        if line.is_empty() {
            break;
        }
        let l = String::from_utf8_lossy(&line);
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    let mut req = Request {
        method: method.to_owned(),
        target: target.to_owned(),
        headers,
        body: Vec::new(),
        keep_alive: true,
    };
    let connection = req.header("Connection").unwrap_or("").to_ascii_lowercase();
    req.keep_alive = if version == "HTTP/1.1" {
        !connection.contains("close")
    } else {
        connection.contains("keep-alive")
    };
    if req
        .header("Expect")
        .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"))
    {
        w.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
    }
    if req
        .header("Transfer-Encoding")
        .is_some_and(|t| t.to_ascii_lowercase().contains("chunked"))
    {
        loop {
            read_line(r, &mut line).await?;
            let size_text = String::from_utf8_lossy(&line);
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| bad("bad chunk size"))?;
            if size == 0 {
                // Trailers up to the empty line.
                while read_line(r, &mut line).await? > 0 && !line.is_empty() {}
                break;
            }
            if req.body.len() + size > MAX_BODY {
                return Err(bad("body too large"));
            }
            let at = req.body.len();
            req.body.resize(at + size, 0);
            r.read_exact(&mut req.body[at..]).await?;
            read_line(r, &mut line).await?;
        }
    } else if let Some(len) = req.header("Content-Length") {
        let len: usize = len.parse().map_err(|_| bad("bad Content-Length"))?;
        if len > MAX_BODY {
            return Err(bad("body too large"));
        }
        req.body.resize(len, 0);
        r.read_exact(&mut req.body).await?;
    }
    Ok(Some(req))
}

/// Streams a `bytes`-long multistatus in chunks, generated as it goes (never held whole).
async fn write_huge(w: &mut OwnedWriteHalf, mut head: String, bytes: u64) -> io::Result<()> {
    const PREFIX: &[u8] =
        b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<multistatus xmlns=\"DAV:\">";
    const SUFFIX: &[u8] = b"</multistatus>";
    const UNIT: &[u8] = b"<response><href>/1/calendars/home/filler.ics</href><propstat><prop><getetag>\"0\"</getetag></prop><status>HTTP/1.1 200 OK</status></propstat></response>\n";
    head.push_str("Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
    w.write_all(head.as_bytes()).await?;
    let block: Vec<u8> = UNIT.repeat(64 * 1024 / UNIT.len());
    let mut chunk = Vec::with_capacity(block.len() + 32);
    fn send(data: &[u8], chunk: &mut Vec<u8>) {
        chunk.clear();
        chunk.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
        chunk.extend_from_slice(data);
        chunk.extend_from_slice(b"\r\n");
    }
    let fixed = (PREFIX.len() + SUFFIX.len()) as u64;
    let mut left = bytes.saturating_sub(fixed);
    send(
        &PREFIX[..PREFIX
            .len()
            .min(usize::try_from(bytes).unwrap_or(usize::MAX))],
        &mut chunk,
    );
    w.write_all(&chunk).await?;
    while left > 0 {
        let n = if left >= block.len() as u64 {
            block.len()
        } else if left >= UNIT.len() as u64 {
            (left as usize / UNIT.len()) * UNIT.len()
        } else {
            left as usize
        };
        if n >= UNIT.len() {
            send(&block[..n], &mut chunk);
        } else {
            send(&b" ".repeat(n), &mut chunk);
        }
        w.write_all(&chunk).await?;
        left -= n as u64;
    }
    if bytes >= fixed {
        send(SUFFIX, &mut chunk);
        w.write_all(&chunk).await?;
    }
    w.write_all(b"0\r\n\r\n").await?;
    w.flush().await
}

async fn write_response(w: &mut OwnedWriteHalf, req: &Request, resp: &Response) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {} {}\r\n", resp.status, reason(resp.status));
    for (k, v) in &resp.headers {
        head.push_str(k);
        head.push_str(": ");
        head.push_str(v);
        head.push_str("\r\n");
    }
    if let Some(bytes) = resp.huge {
        return write_huge(w, head, bytes).await;
    }
    let cut = resp.truncate || resp.reset;
    let claimed = if cut && resp.body.is_empty() {
        4096
    } else {
        resp.body.len()
    };
    head.push_str(&format!("Content-Length: {claimed}\r\n"));
    if resp.close || cut || !req.keep_alive {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    if req.method != "HEAD" {
        let sent = if cut {
            resp.body.len() / 2
        } else {
            resp.body.len()
        };
        out.extend_from_slice(&resp.body[..sent]);
    }
    w.write_all(&out).await?;
    w.flush().await
}

/// Serves requests on one connection until it closes.
pub(crate) async fn serve(stream: TcpStream, handler: impl Fn(&Request) -> Response) {
    let _ = stream.set_nodelay(true);
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::with_capacity(64 * 1024, r);
    loop {
        let req = match read_request(&mut r, &mut w).await {
            Ok(Some(req)) => req,
            Ok(None) => break,
            Err(e) => {
                tracing::debug!("bad request: {e}");
                let resp = Response::new(400);
                let dummy = Request {
                    method: "GET".into(),
                    target: "/".into(),
                    headers: Vec::new(),
                    body: Vec::new(),
                    keep_alive: false,
                };
                let _ = write_response(&mut w, &dummy, &resp).await;
                break;
            }
        };
        let resp = handler(&req);
        if write_response(&mut w, &req, &resp).await.is_err() {
            break;
        }
        if resp.reset {
            // Let the client read the head and part of the body, then abort: SO_LINGER 0 makes the
            // close send RST instead of FIN.
            tokio::time::sleep(std::time::Duration::from_millis(30)).await;
            if let Ok(stream) = r.into_inner().reunite(w) {
                let _ = stream.set_zero_linger();
                drop(stream);
            }
            return;
        }
        if resp.close || resp.truncate || resp.huge.is_some() || !req.keep_alive {
            let _ = w.shutdown().await;
            break;
        }
    }
}
