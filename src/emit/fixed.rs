//! The fixed files of a generated crate: the files of `runtime/src/inlineable/runtime/`,
//! `resilience/`, `stats/` and `stdio/` in this repository, where the `pforge-runtime` crate
//! compiles, lints and tests them. Each is copied to the same path under the generated crate's
//! `src/generated/` when the plan needs it, with two changes only: the `@generated` header
//! line goes first, and doctests, which name the runtime crate (`pforge_runtime::generated::`),
//! name the generated crate instead. The module roots that declare the copied files are
//! written with `quote!` by the emitters that pick them.

use std::path::PathBuf;

use proc_macro2::TokenStream;
use quote::quote;

use super::ident;
use super::{GeneratedFile, Ownership};

/// One file of the runtime crate, for generated crates that need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fixed {
    /// The module it belongs to: `runtime`, `resilience`, `stats`, `stdio` or `http_server`.
    pub parent: &'static str,
    /// Its own module name.
    pub module: &'static str,
    /// Its text, as the runtime crate has it.
    pub source: &'static str,
}

macro_rules! fixed {
    ($parent:literal, $module:literal) => {
        Fixed {
            parent: $parent,
            module: $module,
            source: include_str!(concat!(
                "../../runtime/src/inlineable/",
                $parent,
                "/",
                $module,
                ".rs"
            )),
        }
    };
}

/// `ToolError`.
pub const ERROR: Fixed = fixed!("runtime", "error");
/// `HandlerError` and the handler `Context`.
pub const HANDLER: Fixed = fixed!("runtime", "handler");
/// `take`, `require`, `no_extra`, `check`.
pub const ARGUMENTS: Fixed = fixed!("runtime", "arguments");
/// `Answer`, `Degraded`, `to_result`.
pub const ANSWER: Fixed = fixed!("runtime", "answer");
/// `caught`: a handler's panic as an error.
pub const UNWIND: Fixed = fixed!("runtime", "unwind");
/// `{{placeholder}}` filling and pipeline step budgets.
pub const TEXT: Fixed = fixed!("runtime", "text");
/// Templates split into parts, `${VAR}` values, a call's values.
pub const TEMPLATE: Fixed = fixed!("runtime", "template");
/// The requests of http tools and fallbacks.
pub const HTTP: Fixed = fixed!("runtime", "http");
/// The process group guard of cli tools.
pub const PROCESS: Fixed = fixed!("runtime", "process");
/// `is_dot_segment`: the path segments a value may not become.
pub const SEGMENT: Fixed = fixed!("runtime", "segment");
/// Resource URI templates.
pub const URI_TEMPLATE: Fixed = fixed!("runtime", "uri_template");
/// The `state: memory` store.
pub const STATE: Fixed = fixed!("runtime", "state");
/// `Middleware`, `Chain`, `Call`.
pub const MIDDLEWARE: Fixed = fixed!("runtime", "middleware");
/// `with_timeout`.
pub const TIMEOUT: Fixed = fixed!("resilience", "timeout");
/// `retry`, `jittered`, `retry_after`.
pub const RETRY: Fixed = fixed!("resilience", "retry");
/// `RetryPolicy`, `PolicyRetry`.
pub const RETRY_POLICY: Fixed = fixed!("resilience", "retry_policy");
/// `CircuitBreaker`.
pub const BREAKER: Fixed = fixed!("resilience", "breaker");
/// `Bulkhead`.
pub const BULKHEAD: Fixed = fixed!("resilience", "bulkhead");
/// `Fallbacks`.
pub const FALLBACK: Fixed = fixed!("resilience", "fallback");
/// `Guards`.
pub const GUARDS: Fixed = fixed!("resilience", "guards");
/// `ErrorClass`.
pub const ERROR_CLASS: Fixed = fixed!("stats", "class");
/// `Stats`, `ToolStats`.
pub const COUNTERS: Fixed = fixed!("stats", "counters");
/// `Stats::prometheus`: the figures as Prometheus text.
pub const PROMETHEUS: Fixed = fixed!("stats", "prometheus");
/// The http server's request count, readiness and drain.
pub const HTTP_DRAIN: Fixed = fixed!("http_server", "drain");
/// `/healthz`, `/readyz`, `/metrics`.
pub const HTTP_OPS: Fixed = fixed!("http_server", "ops");
/// Serving until SIGTERM, then draining.
pub const HTTP_SERVE: Fixed = fixed!("http_server", "serve");
/// The accept loop: the connection cap and the connections' timeouts.
pub const HTTP_CONNECTIONS: Fixed = fixed!("http_server", "connections");
/// Live sessions: their caps, and each bound to the credential that opened it.
pub const HTTP_SESSIONS: Fixed = fixed!("http_server", "sessions");
/// `Caller`, the bearer token of a request, the 401 answer.
pub const HTTP_CALLER: Fixed = fixed!("http_server", "caller");
/// Fixed bearer tokens.
pub const HTTP_BEARER: Fixed = fixed!("http_server", "bearer");
/// The authorization server's keys, cached.
pub const HTTP_JWKS: Fixed = fixed!("http_server", "jwks");
/// JWTs and the protected resource metadata.
pub const HTTP_JWT: Fixed = fixed!("http_server", "jwt");
/// The stdio server: `serve`, `Tools`, the dispatcher.
pub const STDIO_DISPATCH: Fixed = fixed!("stdio", "dispatch");
/// rmcp's side of the stdio transport.
pub const STDIO_LINK: Fixed = fixed!("stdio", "link");
/// The stdin reader thread.
pub const STDIO_READER: Fixed = fixed!("stdio", "reader");
/// The id of a request on a line the parser refuses.
pub const STDIO_SALVAGE: Fixed = fixed!("stdio", "salvage");
/// The bound on requests in flight.
pub const STDIO_SLOTS: Fixed = fixed!("stdio", "slots");
/// The stdout writer thread.
pub const STDIO_WRITER: Fixed = fixed!("stdio", "writer");

/// Every fixed file, for tests that tell the copies in a generated crate from the files
/// that differ per plan.
pub const ALL: [Fixed; 38] = [
    ERROR,
    HANDLER,
    ARGUMENTS,
    ANSWER,
    UNWIND,
    TEXT,
    TEMPLATE,
    HTTP,
    PROCESS,
    SEGMENT,
    URI_TEMPLATE,
    STATE,
    MIDDLEWARE,
    TIMEOUT,
    RETRY,
    RETRY_POLICY,
    BREAKER,
    BULKHEAD,
    FALLBACK,
    GUARDS,
    ERROR_CLASS,
    COUNTERS,
    PROMETHEUS,
    HTTP_DRAIN,
    HTTP_OPS,
    HTTP_SERVE,
    HTTP_CONNECTIONS,
    HTTP_SESSIONS,
    HTTP_CALLER,
    HTTP_BEARER,
    HTTP_JWKS,
    HTTP_JWT,
    STDIO_DISPATCH,
    STDIO_LINK,
    STDIO_READER,
    STDIO_SALVAGE,
    STDIO_SLOTS,
    STDIO_WRITER,
];

/// How doctests in the runtime crate name it; the only text changed in a copy.
pub const DOCTEST_PREFIX: &str = "pforge_runtime::generated::";

impl Fixed {
    /// Where a generated crate has it.
    pub fn path(&self) -> PathBuf {
        PathBuf::from(format!("src/generated/{}/{}.rs", self.parent, self.module))
    }

    /// Where this repository has it, relative to the repository's root.
    pub fn origin(&self) -> String {
        format!("runtime/src/inlineable/{}/{}.rs", self.parent, self.module)
    }

    /// The file as a generated crate gets it: `crate_ident` is the crate's name as a Rust
    /// identifier, for its doctests.
    pub fn copy(&self, crate_ident: &str) -> GeneratedFile {
        let source = self
            .source
            .replace(DOCTEST_PREFIX, &format!("{crate_ident}::generated::"));
        GeneratedFile {
            path: self.path(),
            contents: format!("{}\n\n{source}", super::generated_header()),
            ownership: Ownership::Generated,
        }
    }
}

/// The lines of a module root that declare `files` and re-export their items, so that
/// paths stay `runtime::ToolError` whichever file holds the item. `self::` keeps a
/// dependency of the same name as a file (a user may add a `state` crate) from making the
/// re-export ambiguous.
pub fn declarations(files: &[Fixed]) -> TokenStream {
    let modules: Vec<_> = files.iter().map(|f| ident(f.module)).collect();
    quote! {
        #(mod #modules;)*
        #(pub use self::#modules::*;)*
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime_dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("runtime/src/inlineable")
    }

    #[test]
    fn every_file_of_the_runtime_crate_is_known() {
        let mut on_disk = Vec::new();
        for parent in ["runtime", "resilience", "stats", "stdio", "http_server"] {
            let entries = std::fs::read_dir(runtime_dir().join(parent))
                .unwrap_or_else(|e| panic!("{parent}: {e}"));
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                on_disk.push(format!("{parent}/{name}"));
            }
        }
        on_disk.sort();
        let mut known: Vec<String> = ALL
            .iter()
            .map(|f| format!("{}/{}.rs", f.parent, f.module))
            .collect();
        known.sort();
        assert_eq!(known, on_disk);
    }

    #[test]
    fn the_stand_in_roots_compile_every_file() {
        for file in ALL {
            let root = std::fs::read_to_string(runtime_dir().join(format!("{}.rs", file.parent)))
                .unwrap_or_else(|e| panic!("{}: {e}", file.parent));
            let declared = format!("\nmod {};\n", file.module);
            let exported = format!("\npub use self::{}::*;\n", file.module);
            assert!(
                root.contains(&declared) && root.contains(&exported),
                "runtime/src/inlineable/{}.rs does not declare and re-export `{}`",
                file.parent,
                file.module
            );
        }
    }

    #[test]
    fn only_doc_comments_name_the_runtime_crate() {
        for file in ALL {
            for line in file.source.lines() {
                let trimmed = line.trim_start();
                assert!(
                    !line.contains("pforge_runtime")
                        || (trimmed.starts_with("///") || trimmed.starts_with("//!"))
                            && line.contains(DOCTEST_PREFIX),
                    "{}/{}: {line}",
                    file.parent,
                    file.module
                );
            }
        }
    }

    #[test]
    fn a_copy_is_the_source_under_the_header_with_the_crate_renamed() {
        let copy = BREAKER.copy("my_server");
        assert_eq!(
            copy.path,
            PathBuf::from("src/generated/resilience/breaker.rs")
        );
        let (header, rest) = copy
            .contents
            .split_once("\n\n")
            .unwrap_or_else(|| panic!("no header"));
        assert_eq!(header, crate::emit::generated_header());
        assert!(rest.contains("use my_server::generated::resilience::"));
        assert_eq!(
            rest.replace("my_server::generated::", DOCTEST_PREFIX),
            BREAKER.source
        );
    }
}
