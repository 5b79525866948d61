//! The stdin reader: one thread doing large blocking reads, splitting lines and handing them to
//! the dispatcher in batches, one wake-up per read rather than one per message. It takes a
//! slot (see `slots`) for every line first, so it stops reading when `max_in_flight` lines
//! wait to be dealt with.

use std::io::{self, Read};
use std::sync::Arc;

use tokio::sync::mpsc::UnboundedSender;

use super::{Slot, Slots};

/// Bytes asked of stdin per read.
const READ_SIZE: usize = 64 * 1024;

/// The UTF-8 byte order mark some clients put before their first message.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// What the reader hands over, each with the slot it took.
#[derive(Debug)]
pub enum Inbound {
    /// One line, without its `\n` or `\r\n`.
    Line(Vec<u8>, Slot),
    /// A line longer than the maximum, discarded without being held whole.
    Oversized(Slot),
}

/// Starts the reader thread on `input`; it ends at end of input or when `to` is closed.
pub fn spawn_reader(
    input: impl Read + Send + 'static,
    slots: Arc<Slots>,
    max_line: usize,
    to: UnboundedSender<Vec<Inbound>>,
) -> io::Result<std::thread::JoinHandle<()>> {
    let reader = Reader {
        slots,
        max_line,
        to,
        partial: Vec::new(),
        discarding: false,
        batch: Vec::new(),
    };
    std::thread::Builder::new()
        .name("pforge-stdin".into())
        .spawn(move || reader.run(input))
}

/// The receiver is gone: nothing more to read for.
struct Closed;

struct Reader {
    slots: Arc<Slots>,
    max_line: usize,
    to: UnboundedSender<Vec<Inbound>>,
    /// The start of a line that continues in the next read.
    partial: Vec<u8>,
    /// Inside a line already refused as oversized, until its `\n`.
    discarding: bool,
    batch: Vec<Inbound>,
}

impl Reader {
    fn run(mut self, mut input: impl Read) {
        let mut buffer = vec![0; READ_SIZE];
        loop {
            let read = match input.read(&mut buffer) {
                Ok(0) => break,
                Ok(read) => read,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => {
                    tracing::error!(%error, "cannot read stdin");
                    break;
                }
            };
            if self
                .split(&buffer[..read])
                .and_then(|()| self.send())
                .is_err()
            {
                return;
            }
        }
        if self.discarding || !self.partial.is_empty() {
            tracing::warn!(
                bytes = self.partial.len(),
                "stdin closed in the middle of a message; it is dropped"
            );
        }
    }

    /// Takes the complete lines of `chunk` and keeps the rest for the next read.
    fn split(&mut self, mut chunk: &[u8]) -> Result<(), Closed> {
        while let Some(end) = chunk.iter().position(|byte| *byte == b'\n') {
            let line = &chunk[..end];
            chunk = &chunk[end + 1..];
            if std::mem::take(&mut self.discarding) {
                continue;
            }
            if self.partial.len() + line.len() > self.max_line {
                self.partial.clear();
                self.refuse()?;
            } else if self.partial.is_empty() {
                self.line(line.to_vec())?;
            } else {
                let mut whole = std::mem::take(&mut self.partial);
                whole.extend_from_slice(line);
                self.line(whole)?;
            }
        }
        if self.discarding {
            return Ok(());
        }
        if self.partial.len() + chunk.len() > self.max_line {
            self.partial = Vec::new();
            self.discarding = true;
            return self.refuse();
        }
        self.partial.extend_from_slice(chunk);
        Ok(())
    }

    fn line(&mut self, mut line: Vec<u8>) -> Result<(), Closed> {
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        if line.starts_with(BOM) {
            line.drain(..BOM.len());
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        let slot = self.slot()?;
        self.batch.push(Inbound::Line(line, slot));
        Ok(())
    }

    fn refuse(&mut self) -> Result<(), Closed> {
        tracing::warn!(
            max = self.max_line,
            "a message longer than the maximum is refused"
        );
        let slot = self.slot()?;
        self.batch.push(Inbound::Oversized(slot));
        Ok(())
    }

    /// A slot; when none is free, what is batched goes first so that it can free one.
    fn slot(&mut self) -> Result<Slot, Closed> {
        if let Some(slot) = self.slots.try_take() {
            return Ok(slot);
        }
        self.send()?;
        Ok(self.slots.take())
    }

    fn send(&mut self) -> Result<(), Closed> {
        if self.batch.is_empty() {
            return Ok(());
        }
        self.to
            .send(std::mem::take(&mut self.batch))
            .map_err(|_| Closed)
    }
}
