//! The stdout writer: one thread that writes answers as they come and flushes when there is
//! nothing more to write, so a burst of answers costs one write, not one per answer. Slots
//! and permits come back once their answer is flushed.

use std::io::{self, Write};
use std::sync::mpsc::{Receiver, Sender};

use tokio::sync::OwnedSemaphorePermit;

use super::Slot;

/// What an answer holds until it is written.
#[derive(Debug)]
pub enum Held {
    /// The slot of a line answered without running (an error).
    Slot(Slot),
    /// The permit of a request that ran.
    Call(OwnedSemaphorePermit),
}

/// Answers to write, and what they hold.
#[derive(Debug, Default)]
pub struct Outbound {
    /// Whole JSON-RPC messages, each ending with `\n`.
    pub bytes: Vec<u8>,
    /// Given back once `bytes` is flushed.
    pub held: Vec<Held>,
}

/// Where answers go; a send fails once the writer has stopped (stdout closed).
pub type Outbox = Sender<Outbound>;

/// Starts the writer thread; it ends when every [`Outbox`] is dropped or stdout fails.
pub fn spawn_writer(
    output: impl Write + Send + 'static,
) -> io::Result<(Outbox, std::thread::JoinHandle<()>)> {
    let (outbox, answers) = std::sync::mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("pforge-stdout".into())
        .spawn(move || {
            if let Err(error) = run(output, &answers) {
                tracing::error!(%error, "cannot write stdout; the server stops");
            }
        })?;
    Ok((outbox, thread))
}

fn run(output: impl Write, answers: &Receiver<Outbound>) -> io::Result<()> {
    // Standard output is line-buffered: without a buffer of our own every answer would be a
    // write of its own.
    let mut output = io::BufWriter::with_capacity(64 * 1024, output);
    let mut written = Vec::new();
    while let Ok(first) = answers.recv() {
        output.write_all(&first.bytes)?;
        written.extend(first.held);
        while let Ok(next) = answers.try_recv() {
            output.write_all(&next.bytes)?;
            written.extend(next.held);
        }
        output.flush()?;
        written.clear();
    }
    output.flush()
}
