//! Wall-clock time as stanzas carry it (`t` attributes: seconds since the Unix epoch). A leaf:
//! it imports nothing from the crate.

use std::time::{SystemTime, UNIX_EPOCH};

pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}
