//! Reading a server-sent event stream (`text/event-stream`) from the bytes
//! fetch hands over, in whatever pieces they arrive: the POS reads the
//! transaction's events through fetch because `EventSource` cannot send
//! the Bearer header. Pure, so it is tested natively.

/// Collects bytes until an event is complete (a blank line ends it) and
/// gives back each complete event's data.
#[derive(Debug, Default)]
pub struct EventBuffer {
    pending: Vec<u8>,
}

impl EventBuffer {
    /// The data of every event completed by `bytes`, in order. Comments
    /// (the keep-alive's `:` lines) and events without data give nothing;
    /// several `data:` lines of one event are joined with newlines.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        self.pending.extend(bytes.iter().copied().filter(|b| *b != b'\r'));
        let mut events = Vec::new();
        while let Some(end) = find_blank_line(&self.pending) {
            let block: Vec<u8> = self.pending.drain(..end + 2).collect();
            if let Some(data) = data_of(&String::from_utf8_lossy(&block)) {
                events.push(data);
            }
        }
        events
    }
}

fn find_blank_line(bytes: &[u8]) -> Option<usize> {
    bytes.windows(2).position(|pair| pair == b"\n\n")
}

fn data_of(block: &str) -> Option<String> {
    let lines: Vec<&str> = block
        .lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .map(|data| data.strip_prefix(' ').unwrap_or(data))
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_across_chunks_come_out_whole() {
        let mut buffer = EventBuffer::default();
        assert!(buffer.push(b"event: transaction\ndata: {\"a\"").is_empty());
        assert_eq!(buffer.push(b":1}\n\ndata: {\"b\":2}\n\n"), ["{\"a\":1}", "{\"b\":2}"]);
        assert!(buffer.push(b"").is_empty());
    }

    #[test]
    fn keep_alives_and_carriage_returns_are_ignored() {
        let mut buffer = EventBuffer::default();
        assert!(buffer.push(b":\n\n").is_empty());
        assert_eq!(buffer.push(b"data:x\r\n\r\n"), ["x"]);
    }

    #[test]
    fn multi_line_data_is_joined() {
        let mut buffer = EventBuffer::default();
        assert_eq!(buffer.push(b"data: one\ndata: two\n\n"), ["one\ntwo"]);
    }
}
