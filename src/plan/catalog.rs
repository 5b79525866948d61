//! Resources, prompts and the state store, resolved: where a resource's contents come from,
//! the mime type it is read with, a prompt's arguments whichever way they were written.

use crate::config::{Prompt, PromptArguments, PromptFacts, Resource, State};
use crate::defaults;
use crate::naming::{self, HandlerPath};

/// One resource.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourcePlan {
    /// Fixed URI, for `resources/list`.
    pub uri: Option<String>,
    /// URI template, for `resources/templates/list`.
    pub uri_template: Option<String>,
    /// Name shown to clients.
    pub name: String,
    /// Description shown to clients.
    pub description: Option<String>,
    /// Mime type as written, for the listings.
    pub mime_type: Option<String>,
    /// Mime type the contents are read with.
    pub read_as: String,
    /// Where the contents come from.
    pub source: ResourceSource,
    /// The `Handlers` field of a type handler.
    pub field: String,
}

/// Where a resource's contents come from.
#[derive(Debug, Clone, PartialEq)]
pub enum ResourceSource {
    /// Text written in forge.yaml.
    Content(String),
    /// A file read per request (`path`, or a `file://` URI).
    File(String),
    /// A user handler.
    Handler(HandlerPath),
    /// Nothing (only for a config the loader did not check).
    Empty,
}

/// One prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptPlan {
    /// Name clients ask for.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// The text of the message: a template filled from the arguments, or fixed text.
    pub text: PromptText,
    /// Arguments, declared or one required argument per placeholder.
    pub arguments: Vec<PromptArgumentPlan>,
}

/// A prompt's message.
#[derive(Debug, Clone, PartialEq)]
pub enum PromptText {
    /// `{{name}}` placeholders filled from the arguments.
    Template(super::Template),
    /// Text as it is (the description, or the name when there is none).
    Fixed(String),
}

/// One prompt argument.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptArgumentPlan {
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Whether `prompts/get` refuses a request without it.
    pub required: bool,
}

/// The `state: memory` store's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatePlan {
    /// How long an entry lives, in seconds.
    pub ttl_seconds: Option<u64>,
    /// Most entries kept.
    pub max_size: Option<u64>,
}

/// Plans the resource at `index`, whose handler (if it has one) the loader parsed.
pub fn resource(index: usize, resource: &Resource, handler: Option<&HandlerPath>) -> ResourcePlan {
    let handler = handler.cloned();
    let file = resource.path.clone().or_else(|| {
        let uri = resource.uri.as_deref()?;
        (resource.content.is_none() && resource.handler.is_none())
            .then(|| uri.strip_prefix("file://").map(str::to_owned))
            .flatten()
    });
    let source = match (&resource.content, file, handler) {
        (Some(content), _, _) => ResourceSource::Content(content.clone()),
        (None, Some(file), _) => ResourceSource::File(file),
        (None, None, Some(handler)) => ResourceSource::Handler(handler),
        (None, None, None) => ResourceSource::Empty,
    };
    ResourcePlan {
        uri: resource.uri.clone(),
        uri_template: resource.uri_template.clone(),
        name: resource.name.clone(),
        description: resource.description.clone(),
        mime_type: resource.mime_type.clone(),
        read_as: resource
            .mime_type
            .clone()
            .unwrap_or_else(|| defaults::MIME_TYPE.to_owned()),
        source,
        field: naming::resource_field(index),
    }
}

/// Plans a prompt, from its template as the loader split it.
pub fn prompt(prompt: &Prompt, facts: &PromptFacts) -> PromptPlan {
    let argument =
        |name: &str, description: &Option<String>, required: Option<bool>| PromptArgumentPlan {
            name: name.to_owned(),
            description: description.clone(),
            required: required.unwrap_or(defaults::REQUIRED),
        };
    let arguments = match &prompt.arguments {
        Some(PromptArguments::List(list)) => list
            .iter()
            .map(|a| argument(&a.name, &a.description, a.required))
            .collect(),
        Some(PromptArguments::Map(map)) => map
            .iter()
            .map(|(name, a)| argument(name, &a.description, a.required))
            .collect(),
        None => facts
            .derived_arguments
            .iter()
            .map(|name| argument(name, &None, Some(true)))
            .collect(),
    };
    let text = match (&facts.template, &prompt.description) {
        (Some(template), _) => PromptText::Template(template.clone()),
        (None, Some(description)) => PromptText::Fixed(description.clone()),
        (None, None) => PromptText::Fixed(prompt.name.clone()),
    };
    PromptPlan {
        name: prompt.name.clone(),
        description: prompt.description.clone(),
        text,
        arguments,
    }
}

/// Plans the state store.
pub fn state(state: &State) -> StatePlan {
    StatePlan {
        ttl_seconds: state.ttl_seconds,
        max_size: state.max_size,
    }
}
