//! The optional members of the generated server's `Inner` as data: each one the plan asks for
//! is a row with its field, its initialiser and its accessor, and three small renderers turn
//! the rows into `struct Inner`, `Server::new` and the accessors of `impl Server`.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::ident;
use crate::plan::Plan;

/// One optional member of the server: `name: ty` in `Inner`, set to `init` by `Server::new`,
/// read through `pub fn name(&self) -> &ty`.
pub struct Member {
    name: Ident,
    ty: TokenStream,
    init: TokenStream,
    /// The accessor's doc comment.
    doc: &'static str,
    /// Further methods of `impl Server` that read the member, after its accessor.
    methods: TokenStream,
    /// Whether the accessor precedes `handlers()` in `impl Server` (the state's does).
    leads: bool,
}

impl Member {
    fn new(name: &str, ty: TokenStream, init: TokenStream, doc: &'static str) -> Self {
        Self {
            name: ident(name),
            ty,
            init,
            doc,
            methods: TokenStream::new(),
            leads: false,
        }
    }
}

/// The members the plan asks for, in the order of `Inner`'s fields.
pub fn members(plan: &Plan) -> Vec<Member> {
    let state = plan.state.is_some().then(|| Member {
        leads: true,
        ..Member::new(
            "state",
            quote!(runtime::State),
            quote!(runtime::State::default()),
            "The key-value store shared by native handlers.",
        )
    });
    let http = plan.needs.http_client.then(|| {
        Member::new(
            "http",
            quote!(::reqwest::Client),
            quote!(runtime::client()),
            "The HTTP client shared by every http tool (one connection pool).",
        )
    });
    let guards = plan.keeps_guards().then(|| {
        Member::new(
            "guards",
            quote!(tools::Guards),
            quote!(tools::Guards::default()),
            "Each tool's breaker and bulkhead.",
        )
    });
    let stats = plan.needs.monitoring.then(|| Member {
        methods: super::server_stats::methods(plan),
        ..Member::new(
            "stats",
            quote!(stats::Stats),
            quote!(stats::Stats::default()),
            "Every tool's counters and the recent errors.",
        )
    });
    [state, http, guards, stats].into_iter().flatten().collect()
}

/// The fields of `Inner` after `handlers`.
pub fn fields(members: &[Member]) -> TokenStream {
    let fields = members
        .iter()
        .map(|Member { name, ty, .. }| quote!(#name: #ty,));
    quote!(#(#fields)*)
}

/// The initialisers of `Server::new` after `handlers`.
pub fn initialisers(members: &[Member]) -> TokenStream {
    let inits = members
        .iter()
        .map(|Member { name, init, .. }| quote!(#name: #init,));
    quote!(#(#inits)*)
}

/// The accessors (and the methods that go with them) that precede `handlers()` when
/// `leading`, else those that follow it.
pub fn accessors(members: &[Member], leading: bool) -> TokenStream {
    let accessors = members.iter().filter(|m| m.leads == leading).map(
        |Member {
             name,
             ty,
             doc,
             methods,
             ..
         }| {
            let doc = format!(" {doc}");
            quote! {
                #[doc = #doc]
                pub fn #name(&self) -> &#ty {
                    &self.inner.#name
                }

                #methods
            }
        },
    );
    quote!(#(#accessors)*)
}
