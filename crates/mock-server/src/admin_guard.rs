//! Who may use the admin API. The mock listens on 127.0.0.1 only, but a web page the user
//! opens could still reach it: by DNS rebinding (its own name, resolved to 127.0.0.1 — the
//! request then carries that name as `Host`) or by a cross-site request (it carries the page's
//! `Origin`). So an admin request must name this machine in `Host` and, when it has an
//! `Origin`, come from a page on this machine too. Clients that are not browsers (Node's fetch,
//! curl, the test helpers) send `Host: 127.0.0.1:PORT` and no `Origin`.

use std::net::IpAddr;

/// `Ok` when the request's `Host` (and `Origin`, if any) name this machine; else why not.
pub fn check(host: Option<&str>, origin: Option<&str>) -> Result<(), String> {
    let host = host.ok_or("the admin API needs a Host header naming this machine (127.0.0.1, localhost)")?;
    if !is_loopback_name(strip_port(host)) {
        return Err(format!("the admin API answers requests to this machine only; Host {host:?} is not a loopback name or address"));
    }
    if let Some(origin) = origin {
        let from_here = origin.split_once("://").is_some_and(|(scheme, rest)| {
            matches!(scheme, "http" | "https") && is_loopback_name(strip_port(rest.split('/').next().unwrap_or_default()))
        });
        if !from_here {
            return Err(format!("the admin API does not answer web pages from elsewhere; Origin {origin:?} is not on this machine"));
        }
    }
    Ok(())
}

/// `host[:port]` or `[v6][:port]` → the host alone (IPv6 without its brackets).
fn strip_port(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default();
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    }
}

fn is_loopback_name(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn requests_naming_this_machine_pass() {
        for host in ["127.0.0.1:4000", "127.0.0.1", "localhost:4000", "LOCALHOST", "[::1]:4000", "127.9.9.9:1"] {
            assert_eq!(check(Some(host), None), Ok(()), "{host}");
        }
        assert_eq!(check(Some("127.0.0.1:4000"), Some("http://localhost:3000")), Ok(()));
        assert_eq!(check(Some("127.0.0.1:4000"), Some("https://127.0.0.1")), Ok(()));
    }

    #[test]
    fn rebound_names_foreign_origins_and_missing_hosts_are_refused() {
        for host in ["evil.example:4000", "evil.example", "localhost.evil.example", "10.0.0.5:4000", "[2001:db8::1]:4000", ""] {
            assert!(check(Some(host), None).is_err(), "{host}");
        }
        assert!(check(None, None).is_err());
        for origin in ["http://evil.example", "https://127.0.0.1.evil.example", "null", "file://", "http://10.0.0.5:4000"] {
            let err = check(Some("127.0.0.1:4000"), Some(origin)).unwrap_err();
            assert!(err.contains("Origin"), "{origin}: {err}");
        }
    }
}
