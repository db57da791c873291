//! `baileys-shard-mock [--port N] [--tls [--cert-out FILE]]`: prints `ws://127.0.0.1:PORT/ws/chat`
//! as its first stdout line, logs to stderr, and runs until SIGINT/SIGTERM.
//!
//! With `--tls` the first line is `wss://127.0.0.1:PORT/ws/chat` and the second the path of the
//! self-signed certificate's PEM: `FILE` when given (left in place), else a file in the temp
//! directory that is removed at shutdown.

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

const USAGE: &str = "usage: baileys-shard-mock [--port N] [--tls [--cert-out FILE]]   (port 0 = any free port)";

/// What the command line asks for.
#[derive(Debug, Default, PartialEq)]
struct Args {
    port: u16,
    tls: bool,
    cert_out: Option<std::path::PathBuf>,
}

fn parse_args(args: &[String]) -> Result<Args, String> {
    let mut parsed = Args::default();
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        // `--name=value` or `--name value`.
        let (name, inline) = match a.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_owned())),
            _ => (a, None),
        };
        let mut value = |what: &str| -> Result<String, String> {
            if let Some(v) = inline.clone() {
                return Ok(v);
            }
            i += 1;
            args.get(i).cloned().ok_or_else(|| format!("{what} needs a value"))
        };
        match name {
            "--port" | "-p" => {
                let v = value("--port")?;
                parsed.port = v.parse().map_err(|_| format!("invalid port {v:?}"))?;
            }
            "--tls" => parsed.tls = true,
            "--cert-out" => parsed.cert_out = Some(value("--cert-out")?.into()),
            "--help" | "-h" => return Err(USAGE.into()),
            _ => return Err(format!("unknown argument {a:?}; {USAGE}")),
        }
        i += 1;
    }
    if parsed.cert_out.is_some() && !parsed.tls {
        return Err(format!("--cert-out needs --tls; {USAGE}"));
    }
    Ok(parsed)
}

/// Writes the certificate where the user asked, or to a temp file we remove at shutdown;
/// returns (path, whether it is ours to remove).
fn write_certificate(pem: &str, cert_out: Option<&std::path::Path>, port: u16) -> std::io::Result<(std::path::PathBuf, bool)> {
    let (path, ours) = match cert_out {
        Some(p) => (p.to_owned(), false),
        None => (std::env::temp_dir().join(format!("baileys-shard-mock-{}-{port}.pem", std::process::id())), true),
    };
    std::fs::write(&path, pem)?;
    Ok((path, ours))
}

#[tokio::main]
async fn main() {
    let level = log_level();
    let _ = log::set_logger(Box::leak(Box::new(StderrLogger { level })));
    log::set_max_level(level);

    let args: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse_args(&args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let server = match MockServer::start(MockConfig { port: args.port, tls: args.tls, ..Default::default() }.with_env()).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("baileys-shard-mock: cannot start: {e}");
            std::process::exit(1);
        }
    };
    let mut cert_file = None;
    if let Some(pem) = server.certificate_pem() {
        match write_certificate(pem, args.cert_out.as_deref(), server.port()) {
            Ok(written) => cert_file = Some(written),
            Err(e) => {
                eprintln!("baileys-shard-mock: cannot write the TLS certificate: {e}");
                std::process::exit(1);
            }
        }
    }
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", server.url());
        if let Some((path, _)) = &cert_file {
            let _ = writeln!(out, "{}", path.display());
        }
        let _ = out.flush();
    }

    wait_for_signal().await;
    log::info!("signal received, shutting down");
    server.shutdown().await;
    if let Some((path, true)) = &cert_file {
        let _ = std::fs::remove_file(path);
    }
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

#[cfg(test)]
mod tests {
    use super::{parse_args, Args};

    fn parse(args: &[&str]) -> Result<Args, String> {
        parse_args(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn arguments() {
        assert_eq!(parse(&[]), Ok(Args::default()));
        assert_eq!(parse(&["--port", "7"]).unwrap().port, 7);
        assert_eq!(parse(&["--port=8", "--tls"]), Ok(Args { port: 8, tls: true, cert_out: None }));
        let a = parse(&["--tls", "--cert-out", "/tmp/c.pem"]).unwrap();
        assert_eq!(a.cert_out.as_deref(), Some(std::path::Path::new("/tmp/c.pem")));
        assert!(parse(&["--cert-out=/tmp/c.pem"]).unwrap_err().contains("needs --tls"));
        assert!(parse(&["--port"]).is_err());
        assert!(parse(&["--bogus"]).is_err());
    }
}
