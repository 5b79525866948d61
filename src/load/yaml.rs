//! YAML text to a tree in which every node and every key knows where it was written.

use std::fmt;
use std::ops::Range;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_saphyr::{Location, Spanned};

use crate::diagnostics::{Diagnostic, SourceFile};

/// A YAML node with its byte span.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Where the node starts; block collections have an empty span at their first entry.
    pub span: Range<usize>,
    /// The node's value.
    pub kind: NodeKind,
}

/// The value of a node.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// `~`, `null` or nothing.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A negative integer.
    Int(i64),
    /// A non-negative integer.
    UInt(u64),
    /// A float.
    Float(f64),
    /// A string.
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in the order written.
    Map(Vec<(Key, Node)>),
}

/// A mapping key with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    /// The key's text.
    pub name: String,
    /// Where the key was written.
    pub span: Range<usize>,
}

/// Parses one YAML document into a located tree.
pub fn parse(source: &SourceFile) -> Result<Node, Diagnostic> {
    // Deserializing nests a few stack frames per YAML level; at the 64 levels the budget
    // allows, an unoptimised build can outgrow a 2 MiB test or worker thread. Parsing on a
    // thread of our own keeps the depth limit, not the caller's stack, the only limit.
    let parsed = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("pforge-yaml".into())
            .stack_size(PARSER_STACK)
            .spawn_scoped(scope, || parse_here(source))
            .map(|handle| handle.join())
    });
    match parsed {
        Ok(Ok(result)) => result,
        // No thread could be started (or it died): parse here, on the caller's stack.
        _ => parse_here(source),
    }
}

/// Stack of the parsing thread.
const PARSER_STACK: usize = 64 * 1024 * 1024;

fn parse_here(source: &SourceFile) -> Result<Node, Diagnostic> {
    let options = serde_saphyr::options! { with_snippet: false };
    let spanned: Spanned<RawNode> = serde_saphyr::from_str_with_options(source.text(), options)
        .map_err(|error| yaml_error(&error, source))?;
    Ok(to_node(spanned, source))
}

impl Node {
    /// The node as plain JSON, for schema validation and deserialization.
    pub fn to_json(&self) -> Value {
        match &self.kind {
            NodeKind::Null => Value::Null,
            NodeKind::Bool(b) => Value::Bool(*b),
            NodeKind::Int(i) => Value::from(*i),
            NodeKind::UInt(u) => Value::from(*u),
            NodeKind::Float(f) => Value::from(*f),
            NodeKind::Str(s) => Value::String(s.clone()),
            NodeKind::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            NodeKind::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.name.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// The key and node a JSON pointer designates (the key is `None` for the root and for
    /// sequence items). Stops at the deepest node that exists.
    pub fn lookup(&self, pointer: &str) -> (Option<&Key>, &Node) {
        let found = self.resolve(pointer);
        (found.key, found.node)
    }

    /// [`Node::lookup`], saying whether the pointer reached a node exactly or stopped at a
    /// parent of what it names.
    pub fn resolve(&self, pointer: &str) -> Resolved<'_> {
        let mut key = None;
        let mut node = self;
        for segment in pointer.split('/').skip(1) {
            let segment = segment.replace("~1", "/").replace("~0", "~");
            let next = match &node.kind {
                NodeKind::Map(entries) => entries
                    .iter()
                    .rev()
                    .find(|(k, _)| k.name == segment)
                    .map(|(k, v)| (Some(k), v)),
                NodeKind::Seq(items) => segment
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| items.get(i))
                    .map(|v| (None, v)),
                _ => None,
            };
            match next {
                Some((k, v)) => {
                    key = k;
                    node = v;
                }
                None => {
                    return Resolved {
                        key,
                        node,
                        exact: false,
                    };
                }
            }
        }
        Resolved {
            key,
            node,
            exact: true,
        }
    }

    /// Span to underline for this node's value: the scalar itself, or for a block collection
    /// (which has no text of its own) the key that holds it or its first entry.
    pub fn value_span(&self, key: Option<&Key>) -> Range<usize> {
        if !self.span.is_empty() {
            return self.span.clone();
        }
        match (&self.kind, key) {
            (NodeKind::Map(_) | NodeKind::Seq(_), Some(key)) => key.span.clone(),
            (NodeKind::Map(entries), None) => entries
                .first()
                .map_or(self.span.clone(), |(k, _)| k.span.clone()),
            (NodeKind::Seq(items), None) => items
                .first()
                .map_or(self.span.clone(), |item| item.value_span(None)),
            _ => self.span.clone(),
        }
    }
}

/// Where a JSON pointer led.
#[derive(Debug, Clone, Copy)]
pub struct Resolved<'a> {
    /// The key the node is written under (`None` for the root and for sequence items).
    pub key: Option<&'a Key>,
    /// The node.
    pub node: &'a Node,
    /// Whether the pointer named this node, rather than something below it that is not there.
    pub exact: bool,
}

/// What serde-saphyr reports, reworded for people writing a config.
fn yaml_error(error: &serde_saphyr::Error, source: &SourceFile) -> Diagnostic {
    let error = error.without_snippet();
    let span = error.location().map_or(0..0, |l| location_span(&l, source));
    let raw = error.to_string();
    let text = strip_location_prefix(&raw);
    let (message, help) = match error {
        serde_saphyr::Error::MultipleDocuments { .. } => (
            "forge.yaml must hold exactly one YAML document".to_owned(),
            Some("remove the `---` separator and everything after it, or move it to another file"),
        ),
        serde_saphyr::Error::DuplicateMappingKey { .. } => (
            text.split(", set DuplicateKeyPolicy")
                .next()
                .unwrap_or(text)
                .to_owned(),
            Some("each key may appear once in a mapping; remove or rename one of them"),
        ),
        // Budget breaches met while replaying an alias arrive wrapped in alias context.
        _ if matches!(error, serde_saphyr::Error::Budget { .. })
            || text.contains("budget breached") =>
        {
            (
                format!(
                    "the document is too large or too deeply nested ({})",
                    budget_reason(text)
                ),
                Some(
                    "pforge stops here to stay fast and safe (this also stops alias bombs); \
                 a forge.yaml has at most 64 levels of nesting and 250,000 nodes",
                ),
            )
        }
        _ if text.contains("recursion limit") => (
            "the document is nested too deeply".to_owned(),
            Some("a forge.yaml has at most 64 levels of nesting"),
        ),
        _ if text.contains("tabs disallowed") => (
            format!("invalid YAML: {text}"),
            Some("YAML indentation must use spaces, not tabs"),
        ),
        _ if text.contains("alias") && text.contains("limit") => (
            format!("the document is too large ({})", budget_reason(text)),
            Some(
                "pforge stops here to stay fast and safe; aliases may not expand into a huge document",
            ),
        ),
        _ => (format!("invalid YAML: {text}"), None),
    };
    Diagnostic::error(message, span, "").with_optional_help(help.map(str::to_owned))
}

fn budget_reason(text: &str) -> &'static str {
    if text.contains("Depth") {
        "more than 64 levels of nesting"
    } else if text.contains("Alias") || text.contains("alias") {
        "too many alias expansions"
    } else {
        "too many nodes, counting every alias expansion"
    }
}

/// serde-saphyr wraps messages in `line N column M: ...` or `... at line N, column M`; we
/// print our own position.
fn strip_location_prefix(text: &str) -> &str {
    let text = text.strip_prefix("error: ").unwrap_or(text);
    let text = match text
        .strip_prefix("line ")
        .and_then(|rest| rest.split_once(": "))
    {
        Some((position, message)) if position.contains("column") => message,
        _ => text,
    };
    match text.rsplit_once(" at line ") {
        Some((message, position)) if position.contains("column") => message,
        _ => text,
    }
}

fn location_span(location: &Location, source: &SourceFile) -> Range<usize> {
    let span = location.span();
    match (span.byte_offset(), span.byte_len()) {
        (Some(start), Some(len)) if start <= source.text().len() as u64 => {
            let start = start as usize;
            start..start.saturating_add(len as usize)
        }
        _ => {
            let line = usize::try_from(location.line()).unwrap_or(usize::MAX);
            let column = usize::try_from(location.column()).unwrap_or(usize::MAX);
            let start = source.offset(line, column);
            start..start
        }
    }
}

/// The tree as serde-saphyr hands it over, before spans are turned into byte ranges.
#[derive(Debug)]
enum RawNode {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<RawNode>>),
    Map(Vec<(Spanned<String>, Spanned<RawNode>)>),
}

fn to_node(spanned: Spanned<RawNode>, source: &SourceFile) -> Node {
    let span = location_span(&spanned.referenced, source);
    let kind = match spanned.value {
        RawNode::Null => NodeKind::Null,
        RawNode::Bool(b) => NodeKind::Bool(b),
        RawNode::Int(i) => NodeKind::Int(i),
        RawNode::UInt(u) => NodeKind::UInt(u),
        RawNode::Float(f) => NodeKind::Float(f),
        RawNode::Str(s) => NodeKind::Str(s),
        RawNode::Seq(items) => NodeKind::Seq(
            items
                .into_iter()
                .map(|item| to_node(item, source))
                .collect(),
        ),
        RawNode::Map(entries) => NodeKind::Map(
            entries
                .into_iter()
                .map(|(key, value)| {
                    let key_span = location_span(&key.referenced, source);
                    (
                        Key {
                            name: key.value,
                            span: key_span,
                        },
                        to_node(value, source),
                    )
                })
                .collect(),
        ),
    };
    Node { span, kind }
}

impl<'de> Deserialize<'de> for RawNode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = RawNode;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E>(self) -> Result<RawNode, E> {
        Ok(RawNode::Null)
    }

    fn visit_none<E>(self) -> Result<RawNode, E> {
        Ok(RawNode::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<RawNode, D::Error> {
        RawNode::deserialize(deserializer)
    }

    fn visit_bool<E>(self, v: bool) -> Result<RawNode, E> {
        Ok(RawNode::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<RawNode, E> {
        Ok(if v >= 0 {
            RawNode::UInt(v.unsigned_abs())
        } else {
            RawNode::Int(v)
        })
    }

    fn visit_u64<E>(self, v: u64) -> Result<RawNode, E> {
        Ok(RawNode::UInt(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<RawNode, E> {
        Ok(RawNode::Float(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<RawNode, E> {
        Ok(RawNode::Str(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<RawNode, E> {
        Ok(RawNode::Str(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawNode, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<RawNode>>()? {
            items.push(item);
        }
        Ok(RawNode::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawNode, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            let value = map.next_value::<Spanned<RawNode>>()?;
            entries.push((key, value));
        }
        Ok(RawNode::Map(entries))
    }
}
