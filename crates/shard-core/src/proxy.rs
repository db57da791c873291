//! A shard's proxy (Baileys' `agent` / `fetchAgent`, or the `proxy` socket option): an HTTP
//! CONNECT or SOCKS5 proxy that the chat WebSocket is dialled through ([`Proxy::connect`]) and
//! that media HTTP goes through (ureq's own proxy support, [`Proxy::for_ureq`]).
//!
//! Fleets give each account its own exit address this way; a shard without one connects
//! directly, whatever the others use.

use anyhow::{bail, Context};
use percent_encoding::percent_decode_str;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyProtocol {
    /// `http://`: a tunnel opened with `CONNECT host:port`.
    HttpConnect,
    /// `socks5://` (names resolved here) or `socks5h://` (names resolved by the proxy).
    Socks5 { remote_dns: bool },
}

#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    pub protocol: ProxyProtocol,
    pub host: String,
    pub port: u16,
    credentials: Option<(String, String)>,
    url: String,
}

impl std::fmt::Debug for Proxy {
    // Without the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Proxy({:?} {}:{})", self.protocol, self.host, self.port)
    }
}

impl Proxy {
    /// `http://[user:pass@]host[:port]`, `socks5://…` or `socks5h://…` (user and password
    /// percent-encoded, as in any URL).
    pub fn parse(url: &str) -> Result<Proxy, String> {
        let bad = |why: &str| format!("proxy {:?} {why}", redacted(url));
        let uri: http::Uri = url.parse().map_err(|_| bad("is not a URL such as socks5://127.0.0.1:1080"))?;
        let (protocol, default_port) = match uri.scheme_str() {
            Some("http") => (ProxyProtocol::HttpConnect, 80),
            Some("socks5") => (ProxyProtocol::Socks5 { remote_dns: false }, 1080),
            Some("socks5h") => (ProxyProtocol::Socks5 { remote_dns: true }, 1080),
            _ => return Err(bad("must be an http://, socks5:// or socks5h:// URL")),
        };
        let authority = uri.authority().ok_or_else(|| bad("has no host"))?.as_str();
        let credentials = match authority.rsplit_once('@') {
            Some((userinfo, _)) => {
                let (user, pass) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                let decode = |s: &str| {
                    percent_decode_str(s).decode_utf8().map(|c| c.into_owned()).map_err(|_| bad("has credentials that are not UTF-8"))
                };
                Some((decode(user)?, decode(pass)?))
            }
            None => None,
        };
        let host = uri.host().filter(|h| !h.is_empty()).ok_or_else(|| bad("has no host"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
        Ok(Proxy { protocol, host, port: uri.port_u16().unwrap_or(default_port), credentials, url: url.to_owned() })
    }

    /// A TCP stream to `host:port` through the proxy, ready for TLS or plain bytes.
    pub async fn connect(&self, host: &str, port: u16) -> anyhow::Result<TcpStream> {
        let proxy = (self.host.as_str(), self.port);
        let tcp = TcpStream::connect(proxy).await.with_context(|| format!("cannot reach the proxy {}:{}", self.host, self.port))?;
        tcp.set_nodelay(true).context("cannot set TCP_NODELAY")?;
        match self.protocol {
            ProxyProtocol::HttpConnect => self.http_connect(tcp, host, port).await,
            ProxyProtocol::Socks5 { remote_dns } => {
                let stream = if remote_dns {
                    self.socks5(tcp, (host, port)).await?
                } else {
                    let addr = tokio::net::lookup_host((host, port)).await?.next().with_context(|| format!("{host} has no address"))?;
                    self.socks5(tcp, addr).await?
                };
                Ok(stream)
            }
        }
    }

    async fn socks5<'t>(&self, tcp: TcpStream, target: impl tokio_socks::IntoTargetAddr<'t>) -> anyhow::Result<TcpStream> {
        let stream = match &self.credentials {
            Some((user, pass)) => tokio_socks::tcp::Socks5Stream::connect_with_password_and_socket(tcp, target, user, pass).await,
            None => tokio_socks::tcp::Socks5Stream::connect_with_socket(tcp, target).await,
        }
        .with_context(|| format!("the SOCKS5 proxy {}:{} refused the connection", self.host, self.port))?;
        Ok(stream.into_inner())
    }

    async fn http_connect(&self, mut tcp: TcpStream, host: &str, port: u16) -> anyhow::Result<TcpStream> {
        let target = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
        let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
        if let Some((user, pass)) = &self.credentials {
            use base64::Engine as _;
            let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
            request.push_str(&format!("Proxy-Authorization: Basic {token}\r\n"));
        }
        request.push_str("\r\n");
        tcp.write_all(request.as_bytes()).await.context("the proxy closed the connection")?;
        // The reply's head, byte by byte up to its blank line: the tunnel's first bytes follow
        // it and must stay unread.
        let mut reader = BufReader::with_capacity(1, &mut tcp);
        let mut status = String::new();
        reader.read_line(&mut status).await.context("the proxy closed the connection")?;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).await? == 0 {
                bail!("the proxy closed the connection during its reply");
            }
            if line == "\r\n" || line == "\n" {
                break;
            }
        }
        let code = status.split_whitespace().nth(1).unwrap_or_default();
        if !code.starts_with('2') {
            bail!("the HTTP proxy {}:{} answered CONNECT {target} with {:?}", self.host, self.port, status.trim());
        }
        Ok(tcp)
    }

    /// The same proxy for ureq (media uploads and downloads).
    pub fn for_ureq(&self) -> Result<ureq::Proxy, String> {
        // ureq knows socks5:// as "the proxy resolves"; a local lookup is only a privacy
        // difference for media hosts, which are WhatsApp's.
        let url = self.url.replacen("socks5h://", "socks5://", 1);
        ureq::Proxy::new(&url).map_err(|e| format!("proxy {:?}: {e}", redacted(&self.url)))
    }
}

/// `url` without a password, for messages.
fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => format!("{}***{}", &url[..scheme_end + 3], &url[at..]),
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;
    use tokio::net::TcpListener;

    #[test]
    fn proxy_urls_are_read_with_their_credentials_and_bad_ones_refused_without_the_password() {
        let p = Proxy::parse("socks5h://bot%40x:s%3Acret@proxy.example:9050").unwrap();
        assert_eq!(p.protocol, ProxyProtocol::Socks5 { remote_dns: true });
        assert_eq!((p.host.as_str(), p.port), ("proxy.example", 9050));
        assert_eq!(p.credentials, Some(("bot@x".into(), "s:cret".into())));
        assert_eq!(Proxy::parse("http://[::1]").unwrap().port, 80);
        assert_eq!(Proxy::parse("http://[::1]").unwrap().host, "::1");
        let err = Proxy::parse("ftp://user:hunter2@host").unwrap_err();
        assert!(err.contains("socks5://") && !err.contains("hunter2"), "{err}");
        assert!(Proxy::parse("socks5://").is_err());
        assert!(format!("{:?}", Proxy::parse("http://u:hunter2@h:1").unwrap()).contains("h:1"));
    }

    #[tokio::test]
    async fn http_connect_sends_credentials_and_keeps_the_tunnels_first_bytes() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut head = vec![0u8; 4096];
            let n = s.read(&mut head).await.unwrap();
            // The reply and the tunnel's first bytes in one write.
            s.write_all(b"HTTP/1.1 200 Connection established\r\nVia: test\r\n\r\nhello").await.unwrap();
            String::from_utf8_lossy(&head[..n]).into_owned()
        });
        let proxy = Proxy::parse(&format!("http://bot:pw@127.0.0.1:{port}")).unwrap();
        let mut tunnel = proxy.connect("chat.example", 443).await.unwrap();
        let mut first = [0u8; 5];
        tunnel.read_exact(&mut first).await.unwrap();
        assert_eq!(&first, b"hello");
        let head = server.await.unwrap();
        assert!(head.starts_with("CONNECT chat.example:443 HTTP/1.1\r\n"), "{head}");
        assert!(head.contains("Proxy-Authorization: Basic Ym90OnB3\r\n"), "{head}");
    }

    #[tokio::test]
    async fn a_refused_connect_is_an_error_naming_the_answer() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut head = vec![0u8; 4096];
            let _ = s.read(&mut head).await;
            s.write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n").await.unwrap();
        });
        let err = Proxy::parse(&format!("http://127.0.0.1:{port}")).unwrap().connect("a.example", 443).await.unwrap_err();
        assert!(err.to_string().contains("407"), "{err}");
    }
}
