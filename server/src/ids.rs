//! Fresh identifiers: a protocol prefix and 128 random bits.

use rand::RngCore;

pub fn new(prefix: &str) -> String {
    let mut random = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut random);
    kessai_protocol::ids::format_id(prefix, &random)
}
