//! Stand-in for a generated crate's `src/generated/stats.rs`, where pforge writes these numbers
//! from the plan; here they are the unit tests' values.

mod class;
mod counters;
mod prometheus;

pub use self::class::*;
pub use self::counters::*;
pub use self::prometheus::*;

/// Recent errors kept (`error_tracking.max_errors`; 0 when error tracking is off).
pub const MAX_ERRORS: usize = 2;

/// Whether error tracking is on.
pub const ERROR_TRACKING: bool = true;

/// Whether the recent errors keep whole messages (`error_tracking.keep_messages`) rather
/// than their kind alone.
pub const KEEP_MESSAGES: bool = false;

/// Tools served, in `tools/list` order.
pub const TOOLS: usize = 2;

/// Counter slots of the user's error classes, `other` included (0: no classifier).
pub const USER_CLASSES: usize = 4;

/// The user's error classifier (`error_tracking.classify_by`); the tests set their own.
pub const CLASSIFY: Option<fn(&crate::generated::runtime::ToolError) -> String> = None;
