//! Shared by the integration tests: opt-in logging and a minimal HTTP client for the admin API.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use std::time::Duration;

use tokio::net::TcpStream;

/// `MOCK_TEST_LOG=debug cargo test ...` prints the mock's and the client's logs to stderr.
pub struct TestLogger(log::LevelFilter);

impl log::Log for TestLogger {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.level() <= self.0
    }
    fn log(&self, r: &log::Record) {
        if self.enabled(r.metadata()) {
            eprintln!("[{} {}] {}", r.level(), r.target(), r.args());
        }
    }
    fn flush(&self) {}
}

pub fn init_logging() {
    if let Some(level) = std::env::var("MOCK_TEST_LOG").ok().and_then(|v| v.parse().ok()) {
        if log::set_logger(Box::leak(Box::new(TestLogger(level)))).is_ok() {
            log::set_max_level(level);
        }
    }
}

/// A one-shot HTTP/1.1 request over a raw socket: returns (status, body).
pub async fn http(port: u16, method: &str, path: &str, body: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.expect("connect admin");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(body).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
        .await
        .expect("admin response timed out")
        .unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}
