//! `src/generated/stdio.rs`: the stdio transport of servers with `transport: stdio`, copied
//! from the runtime crate (`src/generated/stdio/*.rs`); this module root holds the plan's
//! bounds (`forge.stdio`).

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::fixed::{self, Fixed};
use crate::plan::Plan;

/// The files of `stdio/`: all of them for a stdio server, none for an HTTP one.
pub fn files(plan: &Plan) -> Vec<Fixed> {
    match plan.transport.stdio() {
        Some(_) => vec![
            fixed::STDIO_DISPATCH,
            fixed::STDIO_LINK,
            fixed::STDIO_READER,
            fixed::STDIO_SALVAGE,
            fixed::STDIO_SLOTS,
            fixed::STDIO_WRITER,
        ],
        None => Vec::new(),
    }
}

/// The module root: the declarations of `files` and the bounds.
pub fn root(plan: &Plan, files: &[Fixed]) -> TokenStream {
    let declarations = fixed::declarations(files);
    let limits = plan.transport.stdio().unwrap_or_default();
    let in_flight = Literal::u32_unsuffixed(limits.max_in_flight);
    let message = Literal::u32_unsuffixed(limits.max_message_bytes);
    let drain = Literal::u64_unsuffixed(plan.drain_ms);
    quote! {
        //! MCP over standard input and output: a reader and a writer thread around a
        //! dispatcher that answers `tools/call` and hands the rest of the protocol to rmcp.

        #declarations

        /// Requests running at once, and lines read ahead of them (`forge.stdio.max_in_flight`).
        const MAX_IN_FLIGHT: usize = #in_flight;

        /// Bytes of the longest message (`forge.stdio.max_message_bytes`).
        const MAX_MESSAGE_BYTES: usize = #message;

        /// How long calls may take to finish once stdin is closed (`forge.drain_timeout`).
        const DRAIN: ::std::time::Duration = ::std::time::Duration::from_millis(#drain);
    }
}
