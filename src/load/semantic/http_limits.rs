//! Checks of the http transport's bounds (`forge.http` timeouts and caps) that the schema
//! cannot express: a zero or overlong timeout, and a per-caller cap above the total.

use crate::config::{HttpAccess, HumanDuration};
use crate::load::pointer::Pointer;
use crate::load::report::{Reporter, Target};
use crate::load::sections::Sections;

/// The longest of these timeouts: an hour already lets one slow client hold a connection
/// for longer than any real request needs.
const MAX_TIMEOUT_MS: u64 = 3_600_000;

/// Checks the timeouts and caps of `forge.http`.
pub fn check(sections: &Sections, reporter: &mut Reporter<'_>) {
    let Some(access) = sections.forge.as_ref().and_then(|f| f.http.as_ref()) else {
        return;
    };
    check_timeouts(access, reporter);
    if let (Some(total), Some(per_caller)) = (access.max_sessions, access.max_sessions_per_caller)
        && per_caller > total
    {
        reporter
            .warning(
                &Pointer::section("forge").key("http").key("max_sessions_per_caller"),
                Target::Value,
                format!("{per_caller} is more than `max_sessions` ({total}), so a caller can never hold that many sessions"),
            )
            .help(format!("lower it to {total} or less, or raise `max_sessions`"))
            .emit();
    }
}

fn check_timeouts(access: &HttpAccess, reporter: &mut Reporter<'_>) {
    let timeouts: [(&str, Option<HumanDuration>); 3] = [
        ("header_read_timeout", access.header_read_timeout),
        ("request_timeout", access.request_timeout),
        ("keep_alive_timeout", access.keep_alive_timeout),
    ];
    for (key, value) in timeouts {
        let Some(value) = value else { continue };
        let at = Pointer::section("forge").key("http").key(key);
        let ms = value.as_millis();
        if ms == 0 {
            reporter
                .error(
                    &at,
                    Target::Value,
                    format!("a `{key}` of zero would close every connection at once"),
                )
                .help("write a duration such as `10s`, or remove the key for the default")
                .emit();
        } else if ms > MAX_TIMEOUT_MS {
            reporter
                .error(
                    &at,
                    Target::Value,
                    format!("`{value}` is longer than an hour"),
                )
                .help("a slow or idle client may hold a connection at most `1h`")
                .emit();
        }
    }
}
