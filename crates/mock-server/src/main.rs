//! `baileys-shard-mock --port N`: prints `ws://127.0.0.1:PORT/ws/chat` as its first stdout line,
//! logs to stderr, and runs until SIGINT/SIGTERM.

use std::io::Write as _;

use baileys_shard_mock::{MockConfig, MockServer};

/// Minimal stderr logger: stdout is reserved for the URL line that `testing.js` reads.
/// Level from `MOCK_LOG` (or `RUST_LOG`): error, warn, info (default), debug, trace.
struct StderrLogger {
    level: log::LevelFilter,
}

impl log::Log for StderrLogger {
    fn enabled(&self, meta: &log::Metadata) -> bool {
        meta.level() <= self.level && meta.target().starts_with("baileys_shard_mock")
    }

    fn log(&self, record: &log::Record) {
        if self.enabled(record.metadata()) {
            let _ = writeln!(std::io::stderr().lock(), "[mock {}] {}", record.level(), record.args());
        }
    }

    fn flush(&self) {}
}

fn log_level() -> log::LevelFilter {
    let raw = std::env::var("MOCK_LOG").or_else(|_| std::env::var("RUST_LOG")).unwrap_or_default();
    // Accept `debug` as well as env_logger-style `crate=debug,...` (take the last level named).
    let level = raw.rsplit([',', '=']).next().unwrap_or("").trim().to_ascii_lowercase();
    level.parse().unwrap_or(log::LevelFilter::Info)
}

fn parse_port(args: &[String]) -> Result<u16, String> {
    let mut port = 0u16;
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        let value = if let Some(v) = a.strip_prefix("--port=") {
            v.to_owned()
        } else if a == "--port" || a == "-p" {
            i += 1;
            args.get(i).cloned().ok_or("--port needs a value")?
        } else if a == "--help" || a == "-h" {
            return Err("usage: baileys-shard-mock [--port N]   (0 = any free port)".into());
        } else {
            return Err(format!("unknown argument {a:?}; usage: baileys-shard-mock [--port N]"));
        };
        port = value.parse().map_err(|_| format!("invalid port {value:?}"))?;
        i += 1;
    }
    Ok(port)
}

#[tokio::main]
async fn main() {
    let level = log_level();
    let _ = log::set_logger(Box::leak(Box::new(StderrLogger { level })));
    log::set_max_level(level);

    let args: Vec<String> = std::env::args().skip(1).collect();
    let port = match parse_port(&args) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let server = match MockServer::start(MockConfig { port, ..Default::default() }.with_env()).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("baileys-shard-mock: cannot start: {e}");
            std::process::exit(1);
        }
    };
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", server.url());
        let _ = out.flush();
    }

    wait_for_signal().await;
    log::info!("signal received, shutting down");
    server.shutdown().await;
    std::process::exit(0);
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
