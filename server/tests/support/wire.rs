//! A raw HTTP/1.1 client over TCP, for servers on a socket: the `keywatch`
//! binary in a child process, the lab's workload behind its load balancer,
//! the sandbox's own endpoints. Raw rather than a library's, so a test sees
//! the status line and headers as sent and can hold a keep-alive connection
//! and write to it call after call.
//!
//! It blocks (std's sockets), so threads can drive it; async tests call
//! [`send_async`], which runs it on tokio's blocking pool so a server in the
//! same runtime keeps being polled meanwhile.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// How long a read may wait for the server before the call fails.
const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// One request: method, path, headers and body. `Host` and
/// `Content-Length` are added when it is sent.
#[derive(Debug, Clone)]
pub struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    pub fn new(method: &str, path: &str) -> Request {
        Request { method: method.to_owned(), path: path.to_owned(), headers: Vec::new(), body: Vec::new() }
    }

    pub fn get(path: &str) -> Request {
        Request::new("GET", path)
    }

    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Request {
        self.body = body.into();
        self
    }

    /// A JSON body, as the console's server functions and the lab's
    /// application take it.
    pub fn json(self, json: &str) -> Request {
        self.header("Content-Type", "application/json").body(json)
    }
}

/// A response: its status, its head as sent (status line and headers) and
/// its body (de-chunked).
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl Response {
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head
            .lines()
            .skip(1)
            .filter_map(|line| line.split_once(':'))
            .find(|(key, _)| key.trim().eq_ignore_ascii_case(name))
            .map(|(_, value)| value.trim())
    }
}

/// A connection kept open across calls (HTTP/1.1 keep-alive).
pub struct Connection {
    /// `host:port`, sent as `Host`.
    address: String,
    reader: BufReader<TcpStream>,
}

impl Connection {
    /// Connects to `address` (`host:port`).
    pub fn open(address: &str) -> io::Result<Connection> {
        let stream = TcpStream::connect(address)?;
        stream.set_read_timeout(Some(READ_TIMEOUT))?;
        stream.set_nodelay(true)?;
        Ok(Connection { address: address.to_owned(), reader: BufReader::new(stream) })
    }

    /// Sends `request` and reads its response; an error when the
    /// connection fails (the server went away, or never answered).
    pub fn send(&mut self, request: &Request) -> io::Result<Response> {
        let mut head = format!("{} {} HTTP/1.1\r\nHost: {}\r\n", request.method, request.path, self.address);
        for (name, value) in &request.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n", request.body.len()));
        let stream = self.reader.get_mut();
        stream.write_all(head.as_bytes())?;
        stream.write_all(&request.body)?;
        self.read_response(&request.method)
    }

    fn read_response(&mut self, method: &str) -> io::Result<Response> {
        let mut head = self.line()?;
        let status: u16 = head
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| invalid(format!("not a status line: {head:?}")))?;
        let (mut length, mut chunked) = (None, false);
        loop {
            let line = self.line()?;
            head.push_str(&line);
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = Some(value.trim().parse().map_err(|_| invalid(format!("bad length: {line}")))?);
                } else if name.eq_ignore_ascii_case("transfer-encoding") {
                    chunked = value.to_ascii_lowercase().contains("chunked");
                }
            }
        }
        // A HEAD response, or one that may carry none, names no body to read.
        let body = if method == "HEAD" || status < 200 || status == 204 || status == 304 {
            Vec::new()
        } else if chunked {
            self.chunks()?
        } else if let Some(length) = length {
            let mut body = vec![0; length];
            self.reader.read_exact(&mut body)?;
            body
        } else {
            // Neither length nor chunks: the body ends with the connection.
            let mut body = Vec::new();
            self.reader.read_to_end(&mut body)?;
            body
        };
        Ok(Response { status, head, body })
    }

    /// A chunked body, de-chunked (its trailers are read and dropped).
    fn chunks(&mut self) -> io::Result<Vec<u8>> {
        let mut body = Vec::new();
        loop {
            let line = self.line()?;
            let size = line.trim_end().split(';').next().unwrap_or_default().trim();
            let size = usize::from_str_radix(size, 16).map_err(|_| invalid(format!("bad chunk size: {line:?}")))?;
            if size == 0 {
                while !self.line()?.trim_end().is_empty() {}
                return Ok(body);
            }
            let start = body.len();
            body.resize(start + size, 0);
            self.reader.read_exact(&mut body[start..])?;
            self.line()?;
        }
    }

    /// One line with its line ending; an error at the end of the stream.
    fn line(&mut self) -> io::Result<String> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the connection closed"));
        }
        Ok(line)
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// `request` on a connection of its own to `address` (`host:port`),
/// closed after the response.
pub fn send(address: &str, request: &Request) -> io::Result<Response> {
    Connection::open(address)?.send(&request.clone().header("Connection", "close"))
}

/// [`send`] from async code, on tokio's blocking pool.
pub async fn send_async(address: &str, request: Request) -> io::Result<Response> {
    let address = address.to_owned();
    tokio::task::spawn_blocking(move || send(&address, &request)).await.expect("the request's thread")
}

/// `127.0.0.1:<port>`.
pub fn local(port: u16) -> String {
    format!("127.0.0.1:{port}")
}
