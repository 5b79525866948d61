//! The pipeline's layers are one-way: each module of `src/` refers only to the modules its
//! layer lists in [`LAYERS`], all of which sit below it. The check parses every file with
//! `syn` and resolves every path it names in the crate (`use crate::…`, `use super::…`,
//! inline `crate::a::b` and `super::super::c` in types, expressions, attributes and macro
//! arguments, `$crate` included; only `quote!`-family macros, whose `crate::` is the
//! generated crate's, are skipped), so a relative path cannot slip past it. What could hide a
//! path is rejected outright: a glob import or an alias of the crate root, `extern crate self`
//! and `#[path]` on a module. The plan hands no `config` or `load` type on, by a re-export of
//! any visibility or by a `pub` item's field, return type or alias. The resolver's own tests
//! (`self_tests.rs`) feed it synthetic sources.

mod exposure;
mod resolve;
mod self_tests;

use std::path::{Path, PathBuf};

use exposure::Exposure;
use resolve::{Collector, Found, Reference};

/// A top-level module of `src/` and what it may refer to.
struct Layer {
    /// The module (`lib` and `main` for the crate roots).
    module: &'static str,
    /// The modules it may use besides itself, each listed earlier in [`LAYERS`].
    uses: &'static [&'static str],
}

/// The layers from the bottom up, each row narrowed to what the module uses (a test holds
/// every edge to a use), with why each edge exists.
#[rustfmt::skip]
const LAYERS: &[Layer] = &[
    // Bottom modules: vocabulary shared by the layers, using nothing of the crate.
    Layer { module: "holes", uses: &[] },
    Layer { module: "naming", uses: &[] },
    Layer { module: "diagnostics", uses: &[] },
    Layer { module: "defaults", uses: &[] },
    Layer { module: "vocab", uses: &[] },
    // The typed config language: its defaults (schema attributes) from `defaults`, templates
    // parsed by `holes`, handler paths by `naming`, and the vocabulary shared with the plan.
    Layer { module: "config", uses: &["defaults", "holes", "naming", "vocab"] },
    // Generated from config's types.
    Layer { module: "schema", uses: &["config"] },
    // Text into `config`: validated against `schema`, reported with `diagnostics`, templates
    // and handler paths checked with `holes` and `naming`, defaults from `defaults`.
    Layer { module: "load", uses: &["config", "schema", "diagnostics", "holes", "naming", "defaults"] },
    // A checked `config` into the IR, with every default (`defaults`) resolved; it hands
    // `holes` templates, `naming` paths and `vocab` on to emit. It never sees the loader.
    Layer { module: "plan", uses: &["config", "defaults", "holes", "naming", "vocab"] },
    // Reads the plan only (templates and vocabulary come through it); `naming` escapes the
    // identifiers and module paths it writes; `defaults` for the runtime's fixed constants
    // that the generated docs state (the jitter spread), which no config decides.
    Layer { module: "emit", uses: &["plan", "naming", "defaults"] },
    // Puts the files `emit` produced on disk: it knows their type, not the plan.
    Layer { module: "write", uses: &["emit"] },
    // Runs the pipeline end to end and writes `forge.schema.json` beside it.
    Layer { module: "project", uses: &["schema", "load", "plan", "emit", "write"] },
    // Declares the modules and names none of them.
    Layer { module: "lib", uses: &[] },
    // The CLI: runs `project`, prints `schema`, renders `diagnostics`, checks a file with
    // `load` and reports `write`'s outcomes.
    Layer { module: "main", uses: &["diagnostics", "schema", "load", "write", "project"] },
];

fn layer(module: &str) -> Option<&'static Layer> {
    LAYERS.iter().find(|l| l.module == module)
}

#[test]
fn the_table_is_one_way() {
    for (index, layer) in LAYERS.iter().enumerate() {
        for used in layer.uses {
            assert!(
                LAYERS[..index].iter().any(|l| l.module == *used),
                "LAYERS: `{}` uses `{used}`, which is not listed below it",
                layer.module
            );
        }
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file under `src/` (`load/semantic/mod.rs` is `["load", "semantic"]`).
fn module_of(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// One file of `src/`: what it names, with its own top-level module.
struct Scanned {
    own: String,
    found: Found,
    /// The crate types its `pub` items expose (plan files only).
    exposed: Vec<(String, String, Vec<String>)>,
}

/// Scans one file's text, shown as `shown`, holding `module` (`["lib"]` and `["main"]` for
/// the crate roots).
fn scan(shown: &str, module: &[String], text: &str) -> Scanned {
    let syntax = syn::parse_file(text).unwrap_or_else(|e| panic!("{shown}: does not parse: {e}"));
    let roots = module == ["lib"] || module == ["main"];
    let inner = if roots { Vec::new() } else { module.to_vec() };
    let found = Collector::collect(shown, inner.clone(), module == ["main"], &syntax);
    let exposed = if module[0] == "plan" {
        Exposure::collect(shown, inner, &found.imports, &syntax)
    } else {
        Vec::new()
    };
    Scanned {
        own: module[0].clone(),
        found,
        exposed,
    }
}

/// Every file under `src/`, scanned.
fn scanned() -> Vec<Scanned> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    assert!(files.len() > 50, "src/ has {} files", files.len());
    files
        .iter()
        .map(|file| {
            let relative = file.strip_prefix(&src).unwrap_or(file).to_owned();
            let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{e}"));
            scan(
                &format!("src/{}", relative.display()),
                &module_of(&relative),
                &text,
            )
        })
        .collect()
}

/// What a reference breaks, if anything: `None` when `own` may use its target.
fn broken_rule(own: &str, reference: &Reference) -> Option<String> {
    let Some(target) = reference.target.first() else {
        // The crate root itself (`use crate::{…}` is split into its leaves).
        return None;
    };
    if target == own || (own == "main" && target == "lib" && reference.target.len() == 1) {
        return None;
    }
    let target = if target == "lib" {
        reference.target.get(1)?
    } else {
        target
    };
    let Some(layer) = layer(own) else {
        return Some(format!("module `{own}` is in no layer: add it to LAYERS"));
    };
    if layer.uses.contains(&target.as_str()) {
        return None;
    }
    Some(match crate::layer(target) {
        None => format!("`{target}` is in no layer: add it to LAYERS"),
        Some(_) => format!("`{own}` may use only {:?}, not `{target}`", layer.uses),
    })
}

/// Each reference of `files` that breaks its layer, as `file:line: path: rule`.
fn layer_breaks(files: &[Scanned]) -> Vec<String> {
    let mut broken = Vec::new();
    for file in files {
        for reference in &file.found.references {
            if let Some(rule) = broken_rule(&file.own, reference) {
                broken.push(format!("{}: `{}`: {rule}", reference.at, reference.written));
            }
        }
    }
    broken
}

/// Each construct of `files` the resolver cannot see past.
fn forbidden(files: &[Scanned]) -> Vec<String> {
    files
        .iter()
        .flat_map(|f| f.found.forbidden.iter().cloned())
        .collect()
}

/// Each way the plan hands a `config` or `load` type to whoever uses it: a re-export of any
/// visibility but private, or a `pub` item whose field, return type or aliased type names one.
fn handed_through(files: &[Scanned]) -> Vec<String> {
    let config_or_load =
        |target: &[String]| matches!(target.first().map(String::as_str), Some("config" | "load"));
    let mut broken = Vec::new();
    for file in files.iter().filter(|f| f.own == "plan") {
        for reference in &file.found.references {
            if let Some(vis) = &reference.reexport
                && config_or_load(&reference.target)
            {
                broken.push(format!(
                    "{}: `{vis} use {}`: the plan re-exports a type of the config or the loader, \
                     which emit could then use: give the plan its own",
                    reference.at, reference.written
                ));
            }
        }
        for (at, written, target) in &file.exposed {
            if config_or_load(target) {
                broken.push(format!(
                    "{at}: `{written}`: a `pub` item of the plan shows a type of the config or \
                     the loader to emit: make the item `pub(crate)` or give the plan its own type"
                ));
            }
        }
    }
    broken
}

#[test]
fn every_edge_of_the_table_is_used() {
    let files = scanned();
    let mut unused = Vec::new();
    for layer in LAYERS {
        for used in layer.uses {
            let uses = |r: &Reference| {
                let mut target = r.target.iter().map(String::as_str);
                let first = target.next();
                let module = if first == Some("lib") {
                    target.next()
                } else {
                    first
                };
                module == Some(*used)
            };
            let found = files
                .iter()
                .filter(|f| f.own == layer.module)
                .any(|f| f.found.references.iter().any(uses));
            if !found {
                unused.push(format!(
                    "LAYERS: `{}` may use `{used}` but does not",
                    layer.module
                ));
            }
        }
    }
    assert!(
        unused.is_empty(),
        "narrow the table:\n{}",
        unused.join("\n")
    );
}

#[test]
fn every_module_uses_only_the_layers_below_it() {
    let broken = layer_breaks(&scanned());
    assert!(broken.is_empty(), "layers broken:\n{}", broken.join("\n"));
}

#[test]
fn no_file_hides_a_path_from_the_check() {
    let broken = forbidden(&scanned());
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn the_plan_does_not_hand_config_or_loader_types_through() {
    // emit may use the plan, so a type the plan re-exports or shows from `config` or `load`
    // would be a way around the layers. Bottom vocabulary (`vocab`) sits below config and may
    // be handed through.
    let broken = handed_through(&scanned());
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}
