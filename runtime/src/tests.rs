//! Unit tests of the fixed runtime, against the stand-in module roots' test values (a state
//! store of 2 entries living 500 ms, 2 tools, 2 recent errors kept).

mod auth;
mod breaker;
mod bulkhead;
mod calls;
mod drain;
mod http;
mod limits;
mod middleware;
mod process;
mod retry;
mod state;
mod stats;
mod stdio;
mod text;
mod timeout;
