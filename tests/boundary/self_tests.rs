//! The resolver on synthetic sources: each way past it is caught, and what pforge writes
//! stays allowed.

use crate::{Scanned, forbidden, handed_through, layer_breaks, scan};

/// `source` as the file `src/<module>.rs`.
fn file(module: &[&str], source: &str) -> Vec<Scanned> {
    let module: Vec<String> = module.iter().map(|s| (*s).to_owned()).collect();
    vec![scan(
        &format!("src/{}.rs", module.join("/")),
        &module,
        source,
    )]
}

fn breaks(module: &[&str], source: &str) -> Vec<String> {
    layer_breaks(&file(module, source))
}

#[test]
fn self_before_super_is_resolved() {
    let found = breaks(&["emit", "x"], "fn f() { self::super::super::load::f(); }");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("not `load`"), "{found:?}");
    let found = breaks(&["emit"], "use self::super::load::f;");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(breaks(&["emit", "x"], "fn f() { self::super::y::g(); self::z(); }").is_empty());
}

#[test]
fn dollar_crate_in_pforge_macros_is_pforge() {
    let source = "macro_rules! m { () => { $crate::load::f() }; }";
    let found = breaks(&["emit"], source);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("crate::load::f"), "{found:?}");
    let found = breaks(&["emit"], "fn f() { my::quote!(crate::load::f()); }");
    assert_eq!(
        found.len(),
        1,
        "a macro is skipped by its full path only: {found:?}"
    );
}

#[test]
fn quote_arguments_are_the_generated_crate() {
    let source = "fn f() { quote!(crate::load::f()); quote::quote!(crate::config::X); \
                  syn::parse_quote!(crate::load::Y); }";
    assert!(breaks(&["emit"], source).is_empty());
    let found = forbidden(&file(&["emit"], "macro_rules! quote { () => {}; }"));
    assert_eq!(found.len(), 1, "{found:?}");
}

#[test]
fn globs_of_the_crate_root_are_rejected() {
    for source in ["use crate::*;", "use super::*;", "use self::super::*;"] {
        let found = forbidden(&file(&["emit"], source));
        assert_eq!(found.len(), 1, "{source}: {found:?}");
        assert!(
            found[0].contains("glob import of the crate root"),
            "{found:?}"
        );
    }
    assert_eq!(forbidden(&file(&["main"], "use pforge::*;")).len(), 1);
    let allowed = "mod tests { use super::*; } use super::x::*;";
    assert!(forbidden(&file(&["emit", "x"], allowed)).is_empty());
    assert!(forbidden(&file(&["emit"], "mod tests { use super::*; }")).is_empty());
}

#[test]
fn aliases_of_the_crate_root_are_rejected() {
    let sources = [
        "use crate as root;",
        "use crate::{self as r};",
        "use super as s;",
        "use self::super::{self as s};",
        "extern crate self as root;",
    ];
    for source in sources {
        let found = forbidden(&file(&["emit"], source));
        assert_eq!(found.len(), 1, "{source}: {found:?}");
        assert!(
            found[0].contains("crate root under another name"),
            "{found:?}"
        );
    }
    assert_eq!(forbidden(&file(&["main"], "use pforge as p;")).len(), 1);
    assert!(
        forbidden(&file(
            &["emit"],
            "use crate::plan as p; use super::plan::{self};"
        ))
        .is_empty()
    );
}

#[test]
fn path_attributes_on_modules_are_rejected() {
    for source in [
        "#[path = \"../load/x.rs\"] mod x;",
        "#[cfg_attr(test, path = \"y.rs\")] mod x;",
    ] {
        let found = forbidden(&file(&["emit"], source));
        assert_eq!(found.len(), 1, "{source}: {found:?}");
        assert!(found[0].contains("#[path]"), "{found:?}");
    }
    assert!(forbidden(&file(&["emit"], "#[cfg(test)] mod tests;")).is_empty());
}

#[test]
fn every_non_private_reexport_of_config_is_caught() {
    for source in [
        "pub use crate::config::Retry;",
        "pub(crate) use crate::config::Retry;",
        "pub(super) use crate::load::Pointer;",
        "pub(in crate::plan) use crate::config::{self};",
    ] {
        let found = handed_through(&file(&["plan", "x"], source));
        assert_eq!(found.len(), 1, "{source}: {found:?}");
    }
    let allowed = "use crate::config::Retry; pub use crate::vocab::HttpMethod; \
                   pub(crate) use super::y::Z;";
    assert!(handed_through(&file(&["plan", "x"], allowed)).is_empty());
}

#[test]
fn public_items_of_the_plan_showing_config_are_caught() {
    let header = "use crate::config::{self, Retry}; use crate::naming::HandlerPath;";
    for item in [
        "pub struct S { pub retry: Option<Retry> }",
        "pub struct S(pub config::Bulkhead);",
        "pub enum E { A(Vec<crate::load::Pointer>) }",
        "pub type T = Retry;",
        "pub fn f() -> Retry { todo!() }",
        "pub struct S; impl S { pub fn g(&self) -> &Retry { todo!() } }",
        "pub const C: Option<super::super::config::Retry> = None;",
    ] {
        let found = handed_through(&file(&["plan", "x"], &format!("{header} {item}")));
        assert_eq!(found.len(), 1, "{item}: {found:?}");
        assert!(found[0].contains("a `pub` item of the plan"), "{found:?}");
    }
    let allowed = "pub(crate) struct D { pub retry: Retry } struct P { retry: Retry } \
                   pub struct S { retry: Retry, pub path: HandlerPath } \
                   pub fn plan(checked: &config::Checked) -> S { todo!() } \
                   pub(crate) fn merge(r: &Retry) -> Retry { todo!() } \
                   #[cfg(test)] mod tests { pub fn t() -> Retry { todo!() } }";
    let found = handed_through(&file(&["plan", "x"], &format!("{header} {allowed}")));
    assert!(found.is_empty(), "{found:?}");
}
