//! Stand-in for a generated crate's `src/generated/runtime.rs`. There, pforge declares only the
//! files of `runtime/` the plan uses and writes the state store's limits from `state`; here
//! every file is declared and the limits are the unit tests' values.

mod answer;
mod arguments;
mod error;
mod handler;
mod http;
mod middleware;
mod process;
mod segment;
mod state;
mod template;
mod text;
mod unwind;
mod uri_template;

pub use self::answer::*;
pub use self::arguments::*;
pub use self::error::*;
pub use self::handler::*;
pub use self::http::*;
pub use self::middleware::*;
pub use self::process::*;
pub use self::segment::*;
pub use self::state::*;
pub use self::template::*;
pub use self::text::*;
pub use self::unwind::*;
pub use self::uri_template::*;

/// How long an entry lives: short, so that a test can wait it out.
const STATE_TTL: Option<std::time::Duration> = Some(std::time::Duration::from_millis(500));

/// Most entries kept.
const STATE_MAX: Option<usize> = Some(2);
