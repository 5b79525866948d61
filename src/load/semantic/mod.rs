//! Checks the schema cannot express: uniqueness, references between tools, placeholders,
//! handler paths, and relations between numbers.

mod access;
mod defaults;
mod http_limits;
mod middleware;
mod names;
mod params;
mod pipeline;
mod prompts;
mod resources;
mod roles;
mod server;
mod tools;

use super::establish::Derived;
use super::report::Reporter;
use super::sections::Sections;

/// Runs every semantic check over the sections that could be read, and returns the
/// parameters each tool's placeholders derive.
pub fn check(sections: &Sections, reporter: &mut Reporter<'_>) -> Derived {
    server::check_forge(sections, reporter);
    access::check(sections, reporter);
    http_limits::check(sections, reporter);
    let mut roles = roles::HandlerRoles::default();
    let defaults = defaults::check(sections, &mut roles, reporter);
    middleware::check(sections, &mut roles, reporter);
    defaults::check_duration_limits(sections.document(), reporter);
    let catalogue = tools::check(sections, &defaults, &mut roles, reporter);
    pipeline::check(sections, &catalogue, reporter);
    resources::check(sections, reporter);
    prompts::check(sections, reporter);
    catalogue
        .into_values()
        .map(|info| (info.index, info.derived))
        .collect()
}
