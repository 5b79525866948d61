//! Requests and templates as constants: a plan's [`HttpCallPlan`] becomes a
//! `runtime::Request` that the runtime's one `send` function sends, and a [`Template`] becomes
//! a slice of `runtime::Part`s.

use proc_macro2::TokenStream;
use quote::quote;

use crate::plan::{AuthPlan, HttpCallPlan, HttpMethod, Part, Template};

/// `&[runtime::Part::Text("…"), runtime::Part::Param("…"), …]`.
pub fn parts(template: &Template) -> TokenStream {
    let parts = template.parts.iter().map(|part| match part {
        Part::Text(text) => quote!(runtime::Part::Text(#text)),
        Part::Param(name) => quote!(runtime::Part::Param(#name)),
        Part::Env { name, default } => {
            let default = match default {
                Some(text) => quote!(Some(#text)),
                None => quote!(None),
            };
            quote!(runtime::Part::Env(#name, #default))
        }
    });
    quote!(&[#(#parts),*])
}

fn pairs(pairs: &[(String, Template)]) -> TokenStream {
    let pairs = pairs.iter().map(|(key, value)| {
        let value = parts(value);
        quote!((#key, #value))
    });
    quote!(&[#(#pairs),*])
}

/// The `runtime::Request` expression of a request.
pub fn request(call: &HttpCallPlan) -> TokenStream {
    let method = match call.method {
        HttpMethod::Get => quote!(Get),
        HttpMethod::Post => quote!(Post),
        HttpMethod::Put => quote!(Put),
        HttpMethod::Patch => quote!(Patch),
        HttpMethod::Delete => quote!(Delete),
    };
    let origin = parts(&call.origin);
    let path = parts(&call.path);
    let query = pairs(&call.query);
    let headers = pairs(&call.headers);
    let auth = match &call.auth {
        None => quote!(runtime::Auth::None),
        Some(AuthPlan::Bearer(token)) => {
            let token = parts(token);
            quote!(runtime::Auth::Bearer(#token))
        }
        Some(AuthPlan::Basic { username, password }) => {
            let (username, password) = (parts(username), parts(password));
            quote!(runtime::Auth::Basic(#username, #password))
        }
        Some(AuthPlan::Header { name, value }) => {
            let value = parts(value);
            quote!(runtime::Auth::Header(#name, #value))
        }
    };
    let rest = &call.rest;
    let follow_redirects = call.follow_redirects;
    let max_body = proc_macro2::Literal::usize_unsuffixed(call.max_body_bytes);
    quote! {
        runtime::Request {
            method: runtime::Method::#method,
            origin: #origin,
            path: #path,
            query: #query,
            headers: #headers,
            auth: #auth,
            rest: &[#(#rest),*],
            follow_redirects: #follow_redirects,
            max_body_bytes: #max_body,
        }
    }
}
