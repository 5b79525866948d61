//! The pipeline's layers are one-way: each module of `src/` refers only to the modules its
//! layer lists in [`LAYERS`], all of which sit below it. The check parses every file with
//! `syn` and resolves every path it names in the crate (`use crate::…`, `use super::…`,
//! inline `crate::a::b` and `super::super::c` in types, expressions, attributes and macro
//! arguments), so an alias or a relative path cannot slip past it.

use std::path::{Path, PathBuf};

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::visit::{self, Visit};

/// A top-level module of `src/` and what it may refer to.
struct Layer {
    /// The module (`lib` and `main` for the crate roots).
    module: &'static str,
    /// The modules it may use besides itself, each listed earlier in [`LAYERS`].
    uses: &'static [&'static str],
}

/// Bottom modules: vocabulary shared by every layer, using nothing of the crate.
const BOTTOM: &[&str] = &["holes", "naming", "diagnostics", "defaults", "vocab"];

/// The layers from the bottom up. Why each edge exists:
/// - `config` (the typed config language) names bottom vocabulary and reads its defaults
///   (schema attributes) from `defaults`.
/// - `schema` is generated from `config`'s types.
/// - `load` turns text into `config`, validating against `schema` and reporting with
///   `diagnostics`.
/// - `plan` resolves a checked `config` into the IR; it never sees the loader.
/// - `emit` reads the plan only: everything it writes was resolved once, in `plan`.
/// - `write` puts the files `emit` produced on disk (it knows their type, not the plan).
/// - `project` runs the pipeline end to end and writes `forge.schema.json` beside it.
/// - `lib` declares the modules and `main` is the CLI over all of them.
#[rustfmt::skip]
const LAYERS: &[Layer] = &[
    Layer { module: "holes", uses: &[] },
    Layer { module: "naming", uses: &[] },
    Layer { module: "diagnostics", uses: &[] },
    Layer { module: "defaults", uses: &[] },
    Layer { module: "vocab", uses: &[] },
    Layer { module: "config", uses: BOTTOM },
    Layer { module: "schema", uses: &["config"] },
    Layer { module: "load", uses: &["config", "schema", "holes", "naming", "diagnostics", "defaults", "vocab"] },
    Layer { module: "plan", uses: &["config", "holes", "naming", "defaults", "vocab"] },
    Layer { module: "emit", uses: &["plan", "holes", "naming", "defaults", "vocab"] },
    Layer { module: "write", uses: &["emit", "naming"] },
    Layer { module: "project", uses: &["config", "schema", "load", "plan", "emit", "write", "naming", "diagnostics", "defaults"] },
    Layer { module: "lib", uses: &["config", "diagnostics", "emit", "holes", "load", "naming", "plan", "project", "schema", "write", "defaults", "vocab"] },
    Layer { module: "main", uses: &["lib", "config", "diagnostics", "emit", "holes", "load", "naming", "plan", "project", "schema", "write", "defaults", "vocab"] },
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

/// One path a file names that leads into the crate.
struct Reference {
    /// `file:line`.
    at: String,
    /// The path as written.
    written: String,
    /// The module path it resolves to, from the crate root (`["load", "semantic"]`).
    target: Vec<String>,
    /// Whether it is a `pub use` (a re-export).
    reexport: bool,
}

/// Collects the crate paths of one file.
struct Collector<'a> {
    file: &'a str,
    /// The module the visitor is in, from the crate root.
    module: Vec<String>,
    /// Whether this file is the binary's root, where `pforge::` names the library.
    binary: bool,
    in_pub_use: bool,
    found: Vec<Reference>,
}

impl Collector<'_> {
    /// Resolves `segments` (as written at `span`) to a module path of the crate, if it leads
    /// into it.
    fn record(&mut self, segments: &[String], span: Span) {
        let mut target = match segments.first().map(String::as_str) {
            Some("crate") if !self.binary => Vec::new(),
            Some("pforge") if self.binary => vec!["lib".to_owned()],
            Some("self") => self.module.clone(),
            Some("super") => self.module.clone(),
            _ => return,
        };
        let mut rest = &segments[1..];
        if segments[0] == "super" {
            target.pop();
            while rest.first().is_some_and(|s| s == "super") {
                target.pop();
                rest = &rest[1..];
            }
        }
        target.extend(rest.iter().cloned());
        self.found.push(Reference {
            at: format!("{}:{}", self.file, span.start().line),
            written: segments.join("::"),
            target,
            reexport: self.in_pub_use,
        });
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree, span: Span) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree, span);
                prefix.pop();
            }
            syn::UseTree::Name(n) => self.use_leaf(prefix, &n.ident.to_string(), span),
            syn::UseTree::Rename(r) => self.use_leaf(prefix, &r.ident.to_string(), span),
            syn::UseTree::Glob(_) => self.record(prefix, span),
            syn::UseTree::Group(g) => {
                for item in &g.items {
                    self.use_tree(prefix, item, span);
                }
            }
        }
    }

    fn use_leaf(&mut self, prefix: &mut Vec<String>, name: &str, span: Span) {
        // `use super::{self, X}` names the prefix itself.
        if name != "self" {
            prefix.push(name.to_owned());
        }
        self.record(prefix, span);
        if name != "self" {
            prefix.pop();
        }
    }

    /// Finds `crate::a::b` and `super::c` sequences in tokens the parser does not see into
    /// (macro arguments, attribute arguments).
    fn tokens(&mut self, tokens: TokenStream) {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < trees.len() {
            match &trees[i] {
                TokenTree::Group(group) => self.tokens(group.stream()),
                TokenTree::Ident(ident) if is_path_start(&trees, i) => {
                    let mut segments = vec![ident.to_string()];
                    while let Some(TokenTree::Ident(next)) = trees.get(i + 3)
                        && is_colons(&trees, i + 1)
                    {
                        segments.push(next.to_string());
                        i += 3;
                    }
                    self.record(&segments, ident.span());
                }
                _ => {}
            }
            i += 1;
        }
    }
}

fn is_colons(trees: &[TokenTree], i: usize) -> bool {
    matches!((trees.get(i), trees.get(i + 1)),
        (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b))) if a.as_char() == ':' && b.as_char() == ':')
}

fn is_path_start(trees: &[TokenTree], i: usize) -> bool {
    let TokenTree::Ident(ident) = &trees[i] else {
        return false;
    };
    // `$crate` is a macro's own crate, and a path continues rather than starts after `::`.
    let after_dollar = i > 0 && matches!(&trees[i - 1], TokenTree::Punct(p) if p.as_char() == '$');
    let after_colons = i > 1 && is_colons(trees, i - 2);
    ["crate", "super", "self", "pforge"].contains(&ident.to_string().as_str())
        && is_colons(trees, i + 1)
        && !after_dollar
        && !after_colons
}

/// Macros whose `crate::` is the generated crate's, not pforge's.
const QUOTING: &[&str] = &[
    "quote",
    "quote_spanned",
    "parse_quote",
    "parse_quote_spanned",
];

impl<'ast> Visit<'ast> for Collector<'_> {
    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        self.module.push(item.ident.to_string());
        visit::visit_item_mod(self, item);
        self.module.pop();
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        self.in_pub_use = matches!(item.vis, syn::Visibility::Public(_));
        let span = item.use_token.span;
        self.use_tree(&mut Vec::new(), &item.tree, span);
        self.in_pub_use = false;
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        if let Some(first) = path.segments.first() {
            self.record(&segments, first.ident.span());
        }
        visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        let name = mac.path.segments.last().map(|s| s.ident.to_string());
        if !name.is_some_and(|n| QUOTING.contains(&n.as_str())) {
            self.tokens(mac.tokens.clone());
        }
        visit::visit_macro(self, mac);
    }

    fn visit_meta_list(&mut self, list: &'ast syn::MetaList) {
        self.tokens(list.tokens.clone());
        visit::visit_meta_list(self, list);
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

/// Every crate path of every file under `src/`, with the file's own top-level module.
fn references() -> Vec<(String, Reference)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    assert!(files.len() > 50, "src/ has {} files", files.len());
    let mut all = Vec::new();
    for file in files {
        let relative = file.strip_prefix(&src).unwrap_or(&file).to_owned();
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{e}"));
        let syntax = syn::parse_file(&text)
            .unwrap_or_else(|e| panic!("{}: does not parse: {e}", file.display()));
        let module = module_of(&relative);
        let shown = format!("src/{}", relative.display());
        let mut collector = Collector {
            file: &shown,
            module: if module == ["lib"] || module == ["main"] {
                Vec::new()
            } else {
                module.clone()
            },
            binary: module == ["main"],
            in_pub_use: false,
            found: Vec::new(),
        };
        collector.visit_file(&syntax);
        let own = module[0].clone();
        all.extend(collector.found.into_iter().map(|r| (own.clone(), r)));
    }
    all
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

#[test]
fn every_module_uses_only_the_layers_below_it() {
    let mut broken = Vec::new();
    for (own, reference) in references() {
        if let Some(rule) = broken_rule(&own, &reference) {
            broken.push(format!("{}: `{}`: {rule}", reference.at, reference.written));
        }
    }
    assert!(broken.is_empty(), "layers broken:\n{}", broken.join("\n"));
}

#[test]
fn the_plan_does_not_hand_config_or_loader_types_through() {
    // emit may use the plan, so a type the plan re-exports from `config` or `load` would be a
    // way around the layers. Bottom vocabulary (`vocab`) sits below config and may be handed
    // through.
    let mut broken = Vec::new();
    for (own, reference) in references() {
        let target = reference.target.first().map(String::as_str);
        if own == "plan" && reference.reexport && matches!(target, Some("config" | "load")) {
            broken.push(format!(
                "{}: `pub use {}`: the plan re-exports a type of the config or the loader, \
                 which emit could then use: give the plan its own",
                reference.at, reference.written
            ));
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}
