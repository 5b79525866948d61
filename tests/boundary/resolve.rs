//! Resolves every path a file of `src/` names in the crate to a module path from the crate
//! root, and reports the constructs past which no path could be resolved.

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::visit::{self, Visit};

/// One path a file names that leads into the crate.
pub struct Reference {
    /// `file:line`.
    pub at: String,
    /// The path as written.
    pub written: String,
    /// The module path it resolves to, from the crate root (`["load", "semantic"]`).
    pub target: Vec<String>,
    /// The visibility of the `use` it is in when that is not private (`pub`, `pub(crate)`):
    /// a re-export.
    pub reexport: Option<String>,
}

/// What one file names in the crate.
#[derive(Default)]
pub struct Found {
    /// Every crate path, resolved.
    pub references: Vec<Reference>,
    /// `file:line: message` for each construct the check cannot see past.
    pub forbidden: Vec<String>,
    /// Each name a `use` brings into the file, with its target.
    pub imports: Vec<(String, Vec<String>)>,
}

/// Macros whose `crate::` is the generated crate's, not pforge's, by the full path they may
/// be called with. Any other macro's arguments (`$crate` included) are pforge's.
const QUOTING: &[&str] = &[
    "quote",
    "quote::quote",
    "quote_spanned",
    "quote::quote_spanned",
    "parse_quote",
    "syn::parse_quote",
    "parse_quote_spanned",
    "syn::parse_quote_spanned",
];

/// Resolves `segments` as written in `module` (from the crate root) to a module path, if it
/// leads into the crate. In the binary's root `pforge::` is the library, `lib`.
pub fn resolve(module: &[String], binary: bool, segments: &[String]) -> Option<Vec<String>> {
    let (mut target, mut rest) = match segments.first()?.as_str() {
        "crate" if !binary => (Vec::new(), &segments[1..]),
        "pforge" if binary => (vec!["lib".to_owned()], &segments[1..]),
        "self" | "super" => (module.to_vec(), segments),
        _ => return None,
    };
    // `self` names the current module however often it leads (`self::self::super::x`), and
    // each `super` after it climbs one module.
    while rest.first().is_some_and(|s| s == "self") {
        rest = &rest[1..];
    }
    while rest.first().is_some_and(|s| s == "super") {
        target.pop();
        rest = &rest[1..];
    }
    target.extend(rest.iter().cloned());
    Some(target)
}

/// Whether `target` is the crate root, through which any module could be named unseen.
fn is_root(target: &[String]) -> bool {
    target.is_empty() || target == ["lib"]
}

/// Collects the crate paths of one file.
pub struct Collector<'a> {
    file: &'a str,
    /// The module the visitor is in, from the crate root.
    module: Vec<String>,
    /// Whether this file is the binary's root, where `pforge::` names the library.
    binary: bool,
    reexport: Option<String>,
    found: Found,
}

impl<'a> Collector<'a> {
    /// Collects what `syntax`, the file shown as `file` and holding `module`, names.
    pub fn collect(file: &'a str, module: Vec<String>, binary: bool, syntax: &syn::File) -> Found {
        let mut collector = Collector {
            file,
            module,
            binary,
            reexport: None,
            found: Found::default(),
        };
        collector.visit_file(syntax);
        collector.found
    }

    fn at(&self, span: Span) -> String {
        format!("{}:{}", self.file, span.start().line)
    }

    fn forbid(&mut self, span: Span, written: &str, why: &str) {
        let at = self.at(span);
        self.found
            .forbidden
            .push(format!("{at}: `{written}`: {why}"));
    }

    /// Records `segments` (as written at `span`) if it leads into the crate.
    fn record(&mut self, segments: &[String], span: Span) -> Option<Vec<String>> {
        let target = resolve(&self.module, self.binary, segments)?;
        self.found.references.push(Reference {
            at: self.at(span),
            written: segments.join("::"),
            target: target.clone(),
            reexport: self.reexport.clone(),
        });
        Some(target)
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree, span: Span) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree, span);
                prefix.pop();
            }
            syn::UseTree::Name(n) => self.use_leaf(prefix, &n.ident.to_string(), None, span),
            syn::UseTree::Rename(r) => {
                let alias = r.rename.to_string();
                self.use_leaf(prefix, &r.ident.to_string(), Some(alias), span);
            }
            syn::UseTree::Glob(_) => {
                if self.record(prefix, span).is_some_and(|t| is_root(&t)) {
                    let written = format!("{}::*", prefix.join("::"));
                    self.forbid(span, &written, "a glob import of the crate root brings every module into scope under a bare name the check does not resolve: import what you use by its path");
                }
            }
            syn::UseTree::Group(g) => {
                for item in &g.items {
                    self.use_tree(prefix, item, span);
                }
            }
        }
    }

    fn use_leaf(&mut self, prefix: &[String], name: &str, alias: Option<String>, span: Span) {
        // `use super::{self, X}` names the prefix itself.
        let mut path = prefix.to_vec();
        if name != "self" {
            path.push(name.to_owned());
        }
        let Some(target) = self.record(&path, span) else {
            return;
        };
        if is_root(&target) {
            let written = path.join("::")
                + &alias
                    .as_ref()
                    .map(|a| format!(" as {a}"))
                    .unwrap_or_default();
            self.forbid(span, &written, "names the crate root under another name, past which paths are not resolved: import the module you use");
        }
        let local = alias.or_else(|| path.last().cloned()).unwrap_or_default();
        self.found.imports.push((local, target));
    }

    /// Finds `crate::a::b`, `$crate::a` and `super::c` sequences in tokens the parser does not
    /// see into (macro arguments, attribute arguments).
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
    // A path continues rather than starts after `::`. `$crate` in pforge's own macros is
    // pforge, so it starts a path like `crate`.
    let after_colons = i > 1 && is_colons(trees, i - 2);
    ["crate", "super", "self", "pforge"].contains(&ident.to_string().as_str())
        && is_colons(trees, i + 1)
        && !after_colons
}

fn path_text(path: &syn::Path) -> String {
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    segments.join("::")
}

fn visibility(vis: &syn::Visibility) -> Option<String> {
    match vis {
        syn::Visibility::Inherited => None,
        syn::Visibility::Public(_) => Some("pub".to_owned()),
        syn::Visibility::Restricted(r) => Some(format!("pub({})", path_text(&r.path))),
    }
}

impl<'ast> Visit<'ast> for Collector<'_> {
    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        for attr in &item.attrs {
            let cfg_path = attr.path().is_ident("cfg_attr")
                && attr.meta.require_list().is_ok_and(|l| {
                    l.tokens
                        .clone()
                        .into_iter()
                        .any(|t| matches!(&t, TokenTree::Ident(i) if i == "path"))
                });
            if attr.path().is_ident("path") || cfg_path {
                let written = format!("mod {}", item.ident);
                self.forbid(item.ident.span(), &written, "`#[path]` puts a file in another module than where it sits, and the check attributes a file by where it sits: move the file");
            }
        }
        self.module.push(item.ident.to_string());
        visit::visit_item_mod(self, item);
        self.module.pop();
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        self.reexport = visibility(&item.vis);
        let span = item.use_token.span;
        self.use_tree(&mut Vec::new(), &item.tree, span);
        self.reexport = None;
    }

    fn visit_item_extern_crate(&mut self, item: &'ast syn::ItemExternCrate) {
        let root = if self.binary { "pforge" } else { "self" };
        if item.ident == root {
            let written = format!("extern crate {}", item.ident);
            self.forbid(item.ident.span(), &written, "names the crate root under another name, past which paths are not resolved: import the module you use");
        }
        visit::visit_item_extern_crate(self, item);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        if let Some(first) = path.segments.first() {
            self.record(&segments, first.ident.span());
        }
        visit::visit_path(self, path);
    }

    fn visit_item_macro(&mut self, item: &'ast syn::ItemMacro) {
        if let Some(name) = &item.ident
            && QUOTING.contains(&name.to_string().as_str())
        {
            let written = format!("macro_rules! {name}");
            self.forbid(name.span(), &written, "the check skips the arguments of a macro of this name as generated code: name it otherwise");
        }
        visit::visit_item_macro(self, item);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        if !QUOTING.contains(&path_text(&mac.path).as_str()) {
            self.tokens(mac.tokens.clone());
        }
        visit::visit_macro(self, mac);
    }

    fn visit_meta_list(&mut self, list: &'ast syn::MetaList) {
        self.tokens(list.tokens.clone());
        visit::visit_meta_list(self, list);
    }
}
