//! Server lifecycle: bind, accept, shut down. The state every connection shares is in
//! state.rs, how to start the server in config.rs.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::MockConfig;
use crate::http_front;
use crate::locking::lock;
use crate::state::ServerState;
use crate::tls::TlsIdentity;

/// A running mock server. Dropping it without [`MockServer::shutdown`] leaves the accept loop
/// running until the runtime stops.
pub struct MockServer {
    port: u16,
    state: Arc<ServerState>,
    tls: Option<TlsIdentity>,
    shutdown_tx: watch::Sender<bool>,
    accept_task: JoinHandle<()>,
}

impl MockServer {
    /// Binds 127.0.0.1:`config.port` and starts serving.
    pub async fn start(config: MockConfig) -> anyhow::Result<MockServer> {
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, config.port))).await?;
        let port = listener.local_addr()?.port();
        let tls = if config.tls { Some(TlsIdentity::self_signed()?) } else { None };
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let state = Arc::new(ServerState::new(port, config, shutdown_rx)?);
        let accept_task = tokio::spawn(accept_loop(listener, state.clone(), tls.clone()));
        log::info!("mock server listening on 127.0.0.1:{port}{}", if tls.is_some() { " (TLS)" } else { "" });
        Ok(MockServer { port, state, tls, shutdown_tx, accept_task })
    }

    /// WebSocket URL for clients: `ws://127.0.0.1:PORT/ws/chat` (`wss://` with TLS).
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "wss" } else { "ws" };
        format!("{scheme}://127.0.0.1:{}/ws/chat", self.port)
    }

    /// Base URL of the admin API and media CDN: `http://127.0.0.1:PORT` (`https://` with TLS).
    pub fn http_url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// The self-signed certificate (PEM) clients must trust, when serving TLS.
    pub fn certificate_pem(&self) -> Option<&str> {
        self.tls.as_ref().map(|t| t.cert_pem.as_str())
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Phone number the mock assigns to a push name (same function the server uses).
    pub fn phone_for_push_name(push_name: &str) -> String {
        crate::accounts::phone_for_push_name(push_name)
    }

    /// Number of devices currently logged in (for tests).
    pub fn online_device_count(&self) -> usize {
        let dir = lock(&self.state.directory);
        dir.accounts().map(|a| a.devices.keys().filter(|d| dir.is_online(&a.phone, **d)).count()).sum()
    }

    /// Stops accepting, closes every client connection and waits for the accept loop to end.
    pub async fn shutdown(self) {
        let _ = self.shutdown_tx.send(true);
        let _ = self.accept_task.await;
    }
}

/// How long a client may take to finish the TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

async fn accept_loop(listener: TcpListener, state: Arc<ServerState>, tls: Option<TlsIdentity>) {
    let mut shutdown = state.shutdown.clone();
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    log::trace!("accepted {peer}");
                    let _ = stream.set_nodelay(true);
                    let state = state.clone();
                    match &tls {
                        None => { tokio::spawn(http_front::serve_connection(stream, state)); }
                        Some(tls) => {
                            let acceptor = tls.acceptor.clone();
                            tokio::spawn(async move {
                                match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                                    Ok(Ok(stream)) => http_front::serve_connection(stream, state).await,
                                    Ok(Err(e)) => log::debug!("TLS handshake with {peer} failed: {e}"),
                                    Err(_) => log::debug!("TLS handshake with {peer} timed out"),
                                }
                            });
                        }
                    }
                }
                Err(e) => {
                    // Typically EMFILE; back off a little instead of spinning.
                    log::warn!("accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            },
        }
    }
    log::info!("mock server stopped accepting");
}
