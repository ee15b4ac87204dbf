//! Fresh identifiers: a protocol prefix and 128 random bits.

use rand::RngCore;

fn random() -> [u8; 16] {
    let mut random = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut random);
    random
}

/// For objects made rarely (merchants, users, accounts).
pub fn new(prefix: &str) -> String {
    kessai_protocol::ids::format_id(prefix, &random())
}

/// For objects made in volume (settlements, transfers, events, …): the
/// creation time leads, so inserts land at the end of the indexes instead
/// of dirtying a random page each, which is what a commit has to write.
pub fn new_ordered(prefix: &str) -> String {
    let unix_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    kessai_protocol::ids::format_ordered_id(prefix, unix_ms, &random())
}
