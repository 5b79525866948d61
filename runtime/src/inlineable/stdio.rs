//! Stand-in for a generated crate's `src/generated/stdio.rs`, where pforge writes the limits
//! from `forge.stdio`; here they are placeholders (the unit tests pass their own `Limits`).

mod dispatch;
mod link;
mod reader;
mod salvage;
mod slots;
mod writer;

pub use self::dispatch::*;
pub use self::link::*;
pub use self::reader::*;
pub use self::salvage::*;
pub use self::slots::*;
pub use self::writer::*;

/// Requests running at once, and lines read ahead of them.
const MAX_IN_FLIGHT: usize = 4;

/// Bytes of the longest message.
const MAX_MESSAGE_BYTES: usize = 1024;

/// How long calls may take to finish once stdin is closed.
const DRAIN: std::time::Duration = std::time::Duration::from_secs(5);
