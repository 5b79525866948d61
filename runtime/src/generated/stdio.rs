//! Stand-in for a generated crate's `src/generated/stdio.rs`, where pforge writes the limits
//! from `forge.stdio`; here they are the unit tests' values.

mod dispatch;
mod link;
mod reader;
mod slots;
mod writer;

pub use self::dispatch::*;
pub use self::link::*;
pub use self::reader::*;
pub use self::slots::*;
pub use self::writer::*;

/// Requests read but not yet answered.
const MAX_IN_FLIGHT: usize = 4;

/// Bytes of the longest message.
const MAX_LINE_BYTES: usize = 1024;
