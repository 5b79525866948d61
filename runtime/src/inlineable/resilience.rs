//! Stand-in for a generated crate's `src/generated/resilience.rs`, where pforge declares only
//! the primitives some tool uses; here every one is declared.

mod breaker;
mod bulkhead;
mod fallback;
mod guards;
mod retry;
mod retry_policy;
mod timeout;

pub use self::breaker::*;
pub use self::bulkhead::*;
pub use self::fallback::*;
pub use self::guards::*;
pub use self::retry::*;
pub use self::retry_policy::*;
pub use self::timeout::*;
