//! Dials the chat server's WebSocket with `TCP_NODELAY` set, through the shard's proxy if it
//! has one (`crate::proxy`).
//!
//! whatsapp-rust's own `TokioWebSocketTransportFactory` leaves Nagle's algorithm on. Every
//! stanza is one small write (a message, a receipt, an ack), so a write that follows another
//! within a round trip waits for the server's delayed ACK: up to 40 ms on Linux. A bot's reply
//! sent right after the receipt of the message it answers paid that wait, and so did every
//! second message of a burst. Baileys' `ws` socket sets no-delay; so does this factory.
//! Everything else is as in the engine's factory: same TLS connector (the certificate chain of
//! the Noise layer is verified by the engine), same `Origin`, same transport wrapper.

use std::sync::{Arc, OnceLock};

use anyhow::Context;
use async_trait::async_trait;
use tokio::net::TcpStream;
use tokio_websockets::{ClientBuilder, Connector};
use wacore::net::{Transport, TransportEvent, TransportFactory, WHATSAPP_WEB_ORIGIN};
use whatsapp_rust_tokio_transport::{default_tls_connector, from_websocket};

use crate::proxy::Proxy;

pub struct NoDelayWebSocketFactory {
    uri: http::Uri,
    /// The shard's proxy, if it has one.
    proxy: Option<Proxy>,
    /// Baileys' `connectTimeoutMs`: TCP connect, TLS and the WebSocket upgrade together.
    connect_timeout: std::time::Duration,
    /// Told how each attempt ended (`None`: connected), so the shard can say why it cannot connect.
    on_attempt: Option<AttemptListener>,
}

/// Gets `None` for a dial that connected, the error of one that did not.
pub type AttemptListener = Arc<dyn Fn(Option<&anyhow::Error>) + Send + Sync>;

/// Baileys 6.7.21's default `connectTimeoutMs`.
pub const DEFAULT_CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// Parses `waWebSocketUrl`: a `ws://` or `wss://` URL with a host.
pub fn parse_ws_url(url: &str) -> Result<http::Uri, String> {
    let uri: http::Uri = url.parse().map_err(|e| format!("waWebSocketUrl {url:?} is not a URL ({e})"))?;
    match uri.scheme_str() {
        Some("ws" | "wss") if uri.host().is_some_and(|h| !h.is_empty()) => Ok(uri),
        _ => Err(format!("waWebSocketUrl {url:?} is not a ws:// or wss:// URL with a host")),
    }
}

/// One TLS connector for every shard, built on the first `wss://` dial: its root store is the
/// same for all, and building it per shard would hold one copy per shard.
fn tls_connector() -> &'static Connector {
    static CONNECTOR: OnceLock<Connector> = OnceLock::new();
    CONNECTOR.get_or_init(default_tls_connector)
}

impl NoDelayWebSocketFactory {
    pub fn new(url: &str, connect_timeout: std::time::Duration) -> Result<Self, String> {
        Ok(NoDelayWebSocketFactory { uri: parse_ws_url(url)?, proxy: None, connect_timeout, on_attempt: None })
    }

    /// Dials through `proxy` (HTTP CONNECT or SOCKS5) instead of directly.
    pub fn through(mut self, proxy: Option<Proxy>) -> Self {
        self.proxy = proxy;
        self
    }

    /// Tells `listener` how each dial ended.
    pub fn reporting_to(mut self, listener: AttemptListener) -> Self {
        self.on_attempt = Some(listener);
        self
    }

    fn tls(&self) -> bool {
        self.uri.scheme_str() == Some("wss")
    }

    async fn dial(&self) -> anyhow::Result<TcpStream> {
        let host = self.host();
        let port = self.uri.port_u16().unwrap_or(if self.tls() { 443 } else { 80 });
        #[cfg(feature = "insecure-test-server")]
        let checked = self.loopback_addresses(host, port).await?;
        if let Some(proxy) = &self.proxy {
            return proxy.connect(host, port).await;
        }
        // The testing build connects to the very addresses it checked (no second lookup).
        #[cfg(feature = "insecure-test-server")]
        let stream = TcpStream::connect(&checked[..]).await.with_context(|| format!("cannot reach {host}:{port}"))?;
        #[cfg(not(feature = "insecure-test-server"))]
        let stream = TcpStream::connect((host, port)).await.with_context(|| format!("cannot reach {host}:{port}"))?;
        stream.set_nodelay(true).context("cannot set TCP_NODELAY")?;
        Ok(stream)
    }

    /// The testing build (feature `insecure-test-server`) skips the check of WhatsApp's
    /// certificate chain, so it would trust any server that answers: it talks only to servers
    /// on this machine. The server's host (and the proxy's) must resolve to loopback addresses
    /// only; a name that resolves elsewhere is refused as an address outside would be.
    #[cfg(feature = "insecure-test-server")]
    async fn loopback_addresses(&self, host: &str, port: u16) -> anyhow::Result<Vec<std::net::SocketAddr>> {
        let resolve = |host: &str, port: u16| {
            let host = host.to_owned();
            async move {
                let addrs: Vec<_> =
                    tokio::net::lookup_host((host.as_str(), port)).await.with_context(|| format!("cannot resolve {host}"))?.collect();
                loopback_only(&host, &addrs).map(|()| addrs)
            }
        };
        if let Some(proxy) = &self.proxy {
            resolve(&proxy.host, proxy.port).await?;
        }
        resolve(host, port).await
    }

    /// `Uri::host` keeps the brackets of an IPv6 literal; the resolver does not want them.
    fn host(&self) -> &str {
        self.uri.host().unwrap_or_default().trim_start_matches('[').trim_end_matches(']')
    }
}

#[async_trait]
impl TransportFactory for NoDelayWebSocketFactory {
    async fn create_transport(&self) -> Result<(Arc<dyn Transport>, async_channel::Receiver<TransportEvent>), anyhow::Error> {
        // A server that accepts and then says nothing must not hold the shard forever.
        let result = tokio::time::timeout(self.connect_timeout, self.connect()).await.unwrap_or_else(|_| {
            Err(anyhow::anyhow!("timed out connecting to {} after {} ms (connectTimeoutMs)", self.uri, self.connect_timeout.as_millis()))
        });
        if let Some(listener) = &self.on_attempt {
            listener(result.as_ref().err());
        }
        result
    }
}

impl NoDelayWebSocketFactory {
    async fn connect(&self) -> Result<(Arc<dyn Transport>, async_channel::Receiver<TransportEvent>), anyhow::Error> {
        let tcp = self.dial().await?;
        let connector = if self.tls() { tls_connector() } else { &Connector::Plain };
        let stream = connector.wrap(self.host(), tcp).await.context("TLS handshake failed")?;
        let origin = http::HeaderValue::from_static(WHATSAPP_WEB_ORIGIN);
        let (ws, _) = ClientBuilder::from_uri(self.uri.clone())
            .add_header(http::header::ORIGIN, origin)
            .context("cannot set the Origin header")?
            .connect_on(stream)
            .await
            .context("WebSocket upgrade failed")?;
        Ok(from_websocket(ws))
    }
}

/// `Ok` when every address `host` resolved to is a loopback address (see `loopback_addresses`).
#[cfg(any(test, feature = "insecure-test-server"))]
fn loopback_only(host: &str, addrs: &[std::net::SocketAddr]) -> anyhow::Result<()> {
    match addrs.iter().find(|a| !a.ip().is_loopback()) {
        _ if addrs.is_empty() => anyhow::bail!("{host} resolves to no address"),
        Some(outside) => anyhow::bail!(
            "this testing build of baileys-shard skips WhatsApp's certificate checks, so it connects only to servers \
             on this machine (loopback addresses); {host} is {}",
            outside.ip()
        ),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    #[test]
    fn the_testing_build_takes_loopback_addresses_only() {
        let addr = |a: &str| a.parse::<std::net::SocketAddr>().unwrap();
        assert!(loopback_only("127.0.0.1", &[addr("127.0.0.1:80")]).is_ok());
        assert!(loopback_only("localhost", &[addr("127.0.0.1:80"), addr("[::1]:80")]).is_ok());
        assert!(loopback_only("127.9.9.9", &[addr("127.9.9.9:80")]).is_ok());
        // A name that resolves elsewhere, even partly, is refused; so is one that resolves to nothing.
        let err = loopback_only("mock.example", &[addr("127.0.0.1:80"), addr("192.0.2.7:80")]).unwrap_err().to_string();
        assert!(err.contains("loopback") && err.contains("mock.example is 192.0.2.7"), "{err}");
        assert!(loopback_only("10.0.0.5", &[addr("10.0.0.5:443")]).is_err());
        assert!(loopback_only("[2001:db8::1]", &[addr("[2001:db8::1]:443")]).is_err());
        assert!(loopback_only("nothing.example", &[]).is_err());
    }

    #[test]
    fn only_websocket_urls_with_a_host_are_taken() {
        assert!(NoDelayWebSocketFactory::new("ws://127.0.0.1:1234/ws/chat", DEFAULT_CONNECT_TIMEOUT).is_ok());
        assert!(NoDelayWebSocketFactory::new("wss://web.whatsapp.com/ws/chat", DEFAULT_CONNECT_TIMEOUT).is_ok());
        assert!(NoDelayWebSocketFactory::new("http://127.0.0.1/ws", DEFAULT_CONNECT_TIMEOUT).is_err());
        assert!(NoDelayWebSocketFactory::new("ws:///nohost", DEFAULT_CONNECT_TIMEOUT).is_err());
        assert!(NoDelayWebSocketFactory::new("not a url", DEFAULT_CONNECT_TIMEOUT).is_err());
    }

    #[test]
    fn an_ipv6_host_is_dialled_without_its_brackets() {
        assert_eq!(NoDelayWebSocketFactory::new("ws://[::1]:8080/ws/chat", DEFAULT_CONNECT_TIMEOUT).unwrap().host(), "::1");
    }

    #[tokio::test]
    async fn the_dialled_socket_has_nagle_off() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://127.0.0.1:{}/ws/chat", listener.local_addr().unwrap().port());
        let factory = NoDelayWebSocketFactory::new(&url, DEFAULT_CONNECT_TIMEOUT).unwrap();
        let (stream, accepted) = tokio::join!(factory.dial(), listener.accept());
        accepted.unwrap();
        assert!(stream.unwrap().nodelay().unwrap());
    }

    #[tokio::test]
    async fn every_attempt_is_reported_to_the_listener() {
        // A port nobody listens on: bound, then released.
        let port = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let record = seen.clone();
        let factory = NoDelayWebSocketFactory::new(&format!("ws://127.0.0.1:{port}/ws/chat"), DEFAULT_CONNECT_TIMEOUT)
            .unwrap()
            .reporting_to(Arc::new(move |failure| record.lock().unwrap().push(failure.map(|e| format!("{e:#}")))));
        assert!(factory.create_transport().await.is_err());
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        assert!(seen[0].as_deref().is_some_and(|e| e.contains(&format!("cannot reach 127.0.0.1:{port}"))), "{seen:?}");
    }

    #[tokio::test]
    async fn a_server_that_accepts_and_stays_silent_times_out_at_connect_timeout() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://127.0.0.1:{}/ws/chat", listener.local_addr().unwrap().port());
        let factory = NoDelayWebSocketFactory::new(&url, std::time::Duration::from_millis(150)).unwrap();
        let (result, accepted) = tokio::join!(factory.create_transport(), listener.accept());
        let _held_open = accepted.unwrap();
        let err = result.err().expect("a silent server must time out").to_string();
        assert!(err.contains("timed out connecting") && err.contains("150 ms"), "{err}");
    }
}
