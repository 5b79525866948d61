//! The types a `pub` item of the plan shows emit: its public fields, return types, aliased
//! types and constants. Parameters are left out: emit cannot pass a config value it has no
//! way to name or obtain.

use proc_macro2::Span;
use syn::visit::{self, Visit};

use crate::resolve::resolve;

/// Finds the crate types `pub` items of one plan file expose.
pub struct Exposure<'a> {
    file: &'a str,
    module: Vec<String>,
    /// The names the file's `use` items bring in, with their targets.
    imports: &'a [(String, Vec<String>)],
    /// `(file:line, path as written, target)` of each exposed crate type.
    pub found: Vec<(String, String, Vec<String>)>,
}

impl<'a> Exposure<'a> {
    /// The crate types the `pub` items of `syntax` expose.
    pub fn collect(
        file: &'a str,
        module: Vec<String>,
        imports: &'a [(String, Vec<String>)],
        syntax: &syn::File,
    ) -> Vec<(String, String, Vec<String>)> {
        let mut exposure = Exposure {
            file,
            module,
            imports,
            found: Vec::new(),
        };
        exposure.items(&syntax.items);
        exposure.found
    }

    fn items(&mut self, items: &[syn::Item]) {
        for item in items {
            self.item(item);
        }
    }

    fn item(&mut self, item: &syn::Item) {
        match item {
            syn::Item::Struct(s) if public(&s.vis) => {
                for field in s.fields.iter().filter(|f| public(&f.vis)) {
                    self.ty(&field.ty);
                }
            }
            syn::Item::Enum(e) if public(&e.vis) => {
                for field in e.variants.iter().flat_map(|v| v.fields.iter()) {
                    self.ty(&field.ty);
                }
            }
            syn::Item::Type(t) if public(&t.vis) => self.ty(&t.ty),
            syn::Item::Const(c) if public(&c.vis) => self.ty(&c.ty),
            syn::Item::Static(s) if public(&s.vis) => self.ty(&s.ty),
            syn::Item::Fn(f) if public(&f.vis) => self.output(&f.sig.output),
            syn::Item::Impl(i) if i.trait_.is_none() => {
                for inner in &i.items {
                    if let syn::ImplItem::Fn(f) = inner
                        && public(&f.vis)
                    {
                        self.output(&f.sig.output);
                    }
                }
            }
            syn::Item::Mod(m) if !is_test(&m.attrs) => {
                self.module.push(m.ident.to_string());
                self.items(m.content.as_ref().map_or(&[][..], |(_, items)| items));
                self.module.pop();
            }
            _ => {}
        }
    }

    fn output(&mut self, output: &syn::ReturnType) {
        if let syn::ReturnType::Type(_, ty) = output {
            self.ty(ty);
        }
    }

    fn ty(&mut self, ty: &syn::Type) {
        TypePaths(self).visit_type(ty);
    }

    fn path(&mut self, path: &syn::Path, span: Span) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        let Some(first) = segments.first() else {
            return;
        };
        let target = resolve(&self.module, false, &segments).or_else(|| {
            let (_, imported) = self.imports.iter().find(|(name, _)| name == first)?;
            Some(imported.iter().chain(&segments[1..]).cloned().collect())
        });
        if let Some(target) = target {
            let at = format!("{}:{}", self.file, span.start().line);
            self.found.push((at, segments.join("::"), target));
        }
    }
}

/// Visits the paths inside one type.
struct TypePaths<'e, 'a>(&'e mut Exposure<'a>);

impl<'ast> Visit<'ast> for TypePaths<'_, '_> {
    fn visit_path(&mut self, path: &'ast syn::Path) {
        if let Some(first) = path.segments.first() {
            self.0.path(path, first.ident.span());
        }
        visit::visit_path(self, path);
    }
}

fn public(vis: &syn::Visibility) -> bool {
    matches!(vis, syn::Visibility::Public(_))
}

fn is_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.meta
                .require_list()
                .is_ok_and(|l| l.tokens.to_string() == "test")
    })
}
