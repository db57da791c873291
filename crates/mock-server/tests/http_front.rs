//! The HTTP front as a plain HTTP/1.1 client sees it: chunked request bodies, keep-alive, the
//! admin body limit, and the same routes over TLS (`MockConfig::tls`) for a client that trusts
//! the mock's self-signed certificate.

use std::sync::Arc;
use std::time::Duration;

use baileys_shard_mock::{MockConfig, MockServer};
use base64::Engine as _;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::rustls;

/// A well-formed QR whose ref no connection was given: the mock answers 404 naming the ref,
/// which shows it read the whole body.
fn qr_with_ref(pairing_ref: &str) -> String {
    let key = base64::prelude::BASE64_STANDARD.encode([7u8; 32]);
    format!("{pairing_ref},{key},{key},{key}")
}

/// `body` as chunks of at most 5 bytes, ended by the last chunk.
fn chunked(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for piece in body.chunks(5) {
        out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        out.extend_from_slice(piece);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// Reads one response with a `Content-Length` body from a kept-alive connection.
async fn read_response<S: AsyncRead + Unpin>(reader: &mut BufReader<S>) -> (u16, String, String) {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        let n = tokio::time::timeout(Duration::from_secs(10), reader.read_line(&mut line)).await.expect("response timed out").unwrap();
        assert!(n > 0, "connection closed mid-response; head so far: {head:?}");
        if line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let len = head
        .lines()
        .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("content-length")).map(|(_, v)| v.trim().parse().unwrap()))
        .unwrap_or(0usize);
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body).await.unwrap();
    (status, head, String::from_utf8_lossy(&body).into_owned())
}

/// Posts a chunked QR and then asks for health on the same connection (keep-alive).
async fn chunked_post_then_health<S: AsyncRead + AsyncWrite + Unpin>(stream: S) {
    let mut conn = BufReader::new(stream);
    let head = "POST /admin/mock-phone/scan-qr HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    conn.get_mut().write_all(head.as_bytes()).await.unwrap();
    conn.get_mut().write_all(&chunked(qr_with_ref("chunked-ref").as_bytes())).await.unwrap();
    let (status, _, body) = read_response(&mut conn).await;
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("chunked-ref"), "{body}");

    conn.get_mut().write_all(b"GET /admin/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").await.unwrap();
    let (status, _, body) = read_response(&mut conn).await;
    assert_eq!((status, body.trim()), (200, "ok"));
}

#[tokio::test]
async fn chunked_admin_bodies_and_keep_alive() {
    let mock = MockServer::start(MockConfig::default()).await.unwrap();
    assert!(mock.url().starts_with("ws://") && mock.certificate_pem().is_none());
    chunked_post_then_health(TcpStream::connect(("127.0.0.1", mock.port())).await.unwrap()).await;

    // The admin body limit holds for a chunked body too, which declares no length.
    let mut conn = BufReader::new(TcpStream::connect(("127.0.0.1", mock.port())).await.unwrap());
    let head = "POST /admin/mock-phone/scan-qr HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    conn.get_mut().write_all(head.as_bytes()).await.unwrap();
    let big = vec![b'x'; 16 * 1024];
    for _ in 0..5 {
        let _ = conn.get_mut().write_all(format!("{:x}\r\n", big.len()).as_bytes()).await;
        let _ = conn.get_mut().write_all(&big).await;
        let _ = conn.get_mut().write_all(b"\r\n").await;
    }
    let (status, _, body) = read_response(&mut conn).await;
    assert_eq!(status, 413, "{body}");
    mock.shutdown().await;
}

/// A TLS client that trusts only the mock's certificate.
fn tls_connector(cert_pem: &str) -> tokio_rustls::TlsConnector {
    let b64: String = cert_pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::prelude::BASE64_STANDARD.decode(b64).expect("certificate PEM");
    let mut roots = rustls::RootCertStore::empty();
    roots.add(rustls::pki_types::CertificateDer::from(der)).expect("mock certificate as a root");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

#[tokio::test]
async fn tls_serves_the_same_routes_for_localhost_and_127_0_0_1() {
    let mock = MockServer::start(MockConfig { tls: true, ..Default::default() }).await.unwrap();
    assert_eq!(mock.url(), format!("wss://127.0.0.1:{}/ws/chat", mock.port()));
    assert_eq!(mock.http_url(), format!("https://127.0.0.1:{}", mock.port()));
    let connector = tls_connector(mock.certificate_pem().expect("a certificate with TLS on"));

    for name in ["127.0.0.1", "localhost"] {
        let tcp = TcpStream::connect(("127.0.0.1", mock.port())).await.unwrap();
        let server_name = rustls::pki_types::ServerName::try_from(name.to_owned()).unwrap();
        let tls = connector.connect(server_name, tcp).await.unwrap_or_else(|e| panic!("TLS to {name}: {e}"));
        chunked_post_then_health(tls).await;
    }

    // The WebSocket upgrade answers over TLS as over TCP.
    let tcp = TcpStream::connect(("127.0.0.1", mock.port())).await.unwrap();
    let mut tls = connector.connect(rustls::pki_types::ServerName::try_from("localhost").unwrap(), tcp).await.unwrap();
    tls.write_all(
        b"GET /ws/chat HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .await
    .unwrap();
    let mut conn = BufReader::new(tls);
    let (status, head, _) = read_response(&mut conn).await;
    assert_eq!(status, 101, "{head}");
    assert!(head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "{head}");

    // A plain-HTTP client gets no answer from the TLS port.
    let mut plain = TcpStream::connect(("127.0.0.1", mock.port())).await.unwrap();
    plain.write_all(b"GET /admin/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), plain.read_to_end(&mut out)).await;
    assert!(!String::from_utf8_lossy(&out).contains("200 OK"), "plain HTTP answered on the TLS port");
    mock.shutdown().await;
}
