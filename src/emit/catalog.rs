//! Resources and prompts: what `resources/list`, `resources/read`, `prompts/list` and
//! `prompts/get` answer.

use proc_macro2::TokenStream;
use quote::quote;

use super::handlers::path_tokens;
use super::ident;
use crate::plan::{Plan, PromptPlan, PromptText, ResourcePlan, ResourceSource};

/// Type handlers of resources: (field, type path).
pub fn resource_type_handlers(plan: &Plan) -> Vec<(proc_macro2::Ident, TokenStream)> {
    plan.resources
        .iter()
        .filter_map(|r| {
            let ResourceSource::Handler(handler) = &r.source else {
                return None;
            };
            let handler = Some(handler).filter(|h| h.is_type)?;
            Some((ident(&r.field), path_tokens(handler)))
        })
        .collect()
}

/// The `ServerHandler` methods for resources, if the plan has any (`pforge://stats` counts).
pub fn resource_methods(plan: &Plan) -> TokenStream {
    if !plan.serves_resources() {
        return quote!();
    }
    let listing = resource_listing(plan);
    let read = read_resource(plan);
    quote!(#listing #read)
}

/// `list_resources` (the stats first) and `list_resource_templates`.
fn resource_listing(plan: &Plan) -> TokenStream {
    let fixed = plan.resources.iter().filter_map(|r| {
        let uri = r.uri.as_ref()?;
        let (name, meta) = (&r.name, resource_meta(r));
        Some(quote!(::rmcp::model::Resource::new(#uri, #name) #meta))
    });
    let templates = plan.resources.iter().filter_map(|r| {
        let template = r.uri_template.as_ref()?;
        let (name, meta) = (&r.name, resource_meta(r));
        Some(quote!(::rmcp::model::ResourceTemplate::new(#template, #name) #meta))
    });
    let stats_resource = plan.needs.monitoring.then(|| {
        quote!(::rmcp::model::Resource::new(STATS_URI, "stats")
            .with_description("Per tool: breaker state, calls, successes, failures, rejections, retries, fallbacks, timeouts and errors by class; and the recent errors")
            .with_mime_type("application/json"))
    });
    let fixed = stats_resource.into_iter().chain(fixed);
    quote! {
        async fn list_resources(
            &self,
            _request: Option<::rmcp::model::PaginatedRequestParams>,
            _context: RequestContext<RoleServer>,
        ) -> Result<::rmcp::model::ListResourcesResult, ErrorData> {
            Ok(::rmcp::model::ListResourcesResult::with_all_items(vec![#(#fixed),*]))
        }

        async fn list_resource_templates(
            &self,
            _request: Option<::rmcp::model::PaginatedRequestParams>,
            _context: RequestContext<RoleServer>,
        ) -> Result<::rmcp::model::ListResourceTemplatesResult, ErrorData> {
            Ok(::rmcp::model::ListResourceTemplatesResult::with_all_items(vec![#(#templates),*]))
        }
    }
}

/// A listed resource's description and MIME type.
fn resource_meta(r: &ResourcePlan) -> TokenStream {
    let description = r
        .description
        .as_ref()
        .map(|d| quote!(.with_description(#d)));
    let mime = r.mime_type.as_ref().map(|m| quote!(.with_mime_type(#m)));
    quote!(#description #mime)
}

/// `read_resource`: the stats, then each resource by its URI or template.
fn read_resource(plan: &Plan) -> TokenStream {
    // A caller sees the figures and errors of the tools its scopes let it call, no others.
    let scoped = plan.checks_scopes();
    let visible = if scoped {
        quote!(|index| http_server::Caller::allows(
            http_server::Caller::of(&context.extensions),
            TOOL_SCOPES[index]
        ))
    } else {
        quote!(|_| true)
    };
    let stats_arm = plan.needs.monitoring.then(|| {
        quote!(STATS_URI => (Ok(::serde_json::to_string_pretty(&self.stats_json(#visible)).unwrap_or_default()), "application/json"),)
    });
    let read_context = if scoped && plan.needs.monitoring {
        quote!(context)
    } else {
        quote!(_context)
    };
    let arms = plan.resources.iter().map(read_arm);
    quote! {
        async fn read_resource(
            &self,
            request: ::rmcp::model::ReadResourceRequestParams,
            #read_context: RequestContext<RoleServer>,
        ) -> Result<::rmcp::model::ReadResourceResponse, ErrorData> {
            let uri = request.uri.as_str();
            let (contents, mime): (Result<String, runtime::HandlerError>, &str) = match uri {
                #stats_arm
                #(#arms)*
                _ => return Err(ErrorData::resource_not_found(format!("no resource `{uri}`"), None)),
            };
            match contents {
                Ok(text) => Ok(::rmcp::model::ReadResourceResult::new(vec![::rmcp::model::ResourceContents::text(text, uri).with_mime_type(mime)]).into()),
                Err(error) => Err(ErrorData::internal_error(error.to_string(), None)),
            }
        }
    }
}

/// The `match` arm of one resource in `read_resource`.
fn read_arm(r: &ResourcePlan) -> TokenStream {
    let name = &r.name;
    let read = match &r.source {
        ResourceSource::Content(content) => quote!(Ok(#content.to_owned())),
        ResourceSource::File(file) => {
            quote!(::tokio::fs::read_to_string(#file).await.map_err(|error| runtime::HandlerError::new(format!("cannot read {}: {error}", #file))))
        }
        ResourceSource::Handler(handler) => {
            let path = path_tokens(handler);
            let context = quote!(runtime::Context { name: #name, server: self });
            if handler.is_type {
                let field = ident(&r.field);
                quote!(ResourceHandler::read(&self.handlers().#field, uri, #context).await)
            } else {
                quote!(#path(uri, #context).await)
            }
        }
        ResourceSource::Empty => quote!(Err(runtime::HandlerError::new("no contents"))),
    };
    let mime = &r.read_as;
    match (&r.uri, &r.uri_template) {
        (Some(fixed), _) => quote!(#fixed => (#read, #mime),),
        (None, Some(template)) => {
            quote!(_ if runtime::template_matches(#template, uri) => (#read, #mime),)
        }
        (None, None) => quote!(),
    }
}

/// The `ServerHandler` methods for prompts, if the plan has any.
pub fn prompt_methods(plan: &Plan) -> TokenStream {
    if plan.prompts.is_empty() {
        return quote!();
    }
    let listed = plan.prompts.iter().map(prompt_listing);
    let arms = plan.prompts.iter().map(prompt_arm);
    quote! {
        async fn list_prompts(
            &self,
            _request: Option<::rmcp::model::PaginatedRequestParams>,
            _context: RequestContext<RoleServer>,
        ) -> Result<::rmcp::model::ListPromptsResult, ErrorData> {
            Ok(::rmcp::model::ListPromptsResult::with_all_items(vec![#(#listed),*]))
        }

        async fn get_prompt(
            &self,
            request: ::rmcp::model::GetPromptRequestParams,
            _context: RequestContext<RoleServer>,
        ) -> Result<::rmcp::model::GetPromptResponse, ErrorData> {
            let arguments = request.arguments.unwrap_or_default();
            match request.name.as_str() {
                #(#arms)*
                other => Err(ErrorData::invalid_params(format!("unknown prompt `{other}`"), None)),
            }
        }
    }
}

/// One prompt in `prompts/list`, with its arguments.
fn prompt_listing(p: &PromptPlan) -> TokenStream {
    let name = &p.name;
    let description = match &p.description {
        Some(d) => quote!(Some(#d)),
        None => quote!(None::<String>),
    };
    let arguments = p.arguments.iter().map(|a| {
        let (arg, required) = (&a.name, a.required);
        let description = a
            .description
            .as_ref()
            .map(|d| quote!(.with_description(#d)));
        quote!(::rmcp::model::PromptArgument::new(#arg) #description .with_required(#required))
    });
    quote!(::rmcp::model::Prompt::new(#name, #description, Some(vec![#(#arguments),*])))
}

/// The `match` arm of one prompt in `get_prompt`: its required arguments, then its text.
fn prompt_arm(p: &PromptPlan) -> TokenStream {
    let name = &p.name;
    let required = p.arguments.iter().filter(|a| a.required).map(|a| {
        let arg = &a.name;
        quote! {
            if !arguments.contains_key(#arg) {
                return Err(ErrorData::invalid_params(format!("prompt `{}` needs the argument `{}`", #name, #arg), None));
            }
        }
    });
    let text = match &p.text {
        PromptText::Template(template) => {
            let parts = super::upstream::parts(template);
            quote!(runtime::render(#parts, &arguments, runtime::verbatim))
        }
        PromptText::Fixed(text) => quote!(#text.to_owned()),
    };
    let describe = p
        .description
        .as_ref()
        .map(|d| quote!(.with_description(#d)));
    quote! {
        #name => {
            #(#required)*
            let text = #text;
            Ok(::rmcp::model::GetPromptResult::new(vec![::rmcp::model::PromptMessage::new_text(::rmcp::model::Role::User, text)]) #describe .into())
        }
    }
}
