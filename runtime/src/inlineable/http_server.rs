//! Stand-in for a generated crate's `src/generated/http_server.rs`, which declares only the
//! files the plan needs (auth files only with auth).

mod bearer;
mod caller;
mod connections;
mod drain;
mod jwks;
mod jwt;
mod ops;
mod serve;
mod sessions;

pub use self::bearer::*;
pub use self::caller::*;
pub use self::connections::*;
pub use self::drain::*;
pub use self::jwks::*;
pub use self::jwt::*;
pub use self::ops::*;
pub use self::serve::*;
pub use self::sessions::*;
