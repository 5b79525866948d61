//! Fuzzing the whole pipeline in process: byte-level and structure-aware mutations of every
//! example and chapter fixture go through load -> plan -> emit. No input may panic; a refused
//! input has only located diagnostics; an accepted one must generate.
//!
//! `PFORGE_FUZZ_INPUTS` sets how many inputs run (default 12,000, what CI runs);
//! `PFORGE_FUZZ_SEED` picks another deterministic sequence; `PFORGE_FUZZ_MAX_MS` fails the run
//! when one input's load + plan + emit took longer than that (never by default: CI machines
//! stall); `PFORGE_FUZZ_INDEX` runs only the input of that index and saves it under the temp
//! directory, to replay a failure; `PFORGE_FUZZ_THREADS` sets the workers (default one per
//! core). Input `i` depends only on the seed and `i`, so the thread count changes nothing but
//! speed.

#[path = "common/mutate.rs"]
mod mutate;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mutate::{Mutation, PIECES, apply};
use serde_json::{Map, Value, json};

/// Inputs of a default run: about 30 s in a debug build on the 2-core CI machine.
const DEFAULT_INPUTS: u64 = 12_000;
const DEFAULT_SEED: u64 = 0x00f0_55ed;

/// SplitMix64: a few lines, good enough to spread mutations, and the same on every platform.
struct Rng(u64);

impl Rng {
    /// The generator of input `index`: seeded from both, so any input can be replayed alone.
    fn for_input(seed: u64, index: u64) -> Self {
        let mut mixer = Rng(seed ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03));
        Rng(mixer.next())
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`0` when `n` is 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Scalars that meet limits, keywords, templates, escaping and encodings.
const HOSTILE_TEXT: &[&str] = &[
    "",
    " ",
    "NaN",
    ".nan",
    ".inf",
    "-.inf",
    "1e999",
    "-0",
    "0x1F",
    "0o17",
    "yes",
    "~",
    "null",
    "type",
    "self",
    "Self",
    "gen",
    "crate",
    "super",
    "async",
    "fn",
    "r#type",
    "*/",
    "/*",
    "//",
    "\\",
    "\\\\n",
    "{",
    "}",
    "{}",
    "{{x}}",
    "{{",
    "}}",
    "{{ x }}",
    "{{user_id}}",
    "{{1x}}",
    "${X}",
    "${X:-y}",
    "${",
    "${X:-${Y}}",
    "\u{0}",
    "\u{7}",
    "\u{1b}[31m",
    "\u{7f}",
    "\r\n",
    "\n",
    "\t",
    "é",
    "日本語",
    "☃",
    "😀",
    "\u{202e}",
    "\u{feff}",
    "\u{2028}",
    "a\"b",
    "'",
    "`",
    "```",
    "#",
    "# x",
    "- x",
    "x: y",
    "r#\"x\"#",
    "0s",
    "0ms",
    "-1s",
    "1.5s",
    "999999999999h",
    "18446744073709551615ms",
    "1e3s",
    "handlers::",
    "handlers::gen::Self",
    "handlers::type",
    "handlers::a::b::c",
    "crate::x",
    "::",
    "http://",
    "https://[::1]:0/{{x}}",
    "file:///etc/passwd",
    "../../x",
    "GET",
    "get",
    "TRACE",
];

const KEYWORDS: &[&str] = &[
    "type",
    "self",
    "Self",
    "gen",
    "crate",
    "super",
    "async",
    "match",
    "mod",
    "main",
    "tools",
    "tests",
    "runtime",
    "stats",
    "handlers",
    "generated",
    "server",
    "input",
    "value",
    "arguments",
    "Box",
    "Type",
    "x",
    "_x",
    "x_",
    "a.b",
    "a-b",
    "a_b",
];

const TYPES: &[&str] = &[
    "native", "http", "cli", "pipeline", "value", "recovery", "bearer", "apikey", "basic",
    "string", "integer", "number", "boolean", "array", "object", "HTTP", "Native", "", "none",
];

/// Keys whose values are names, references or code paths.
const NAME_KEYS: &[&str] = &[
    "name",
    "handler",
    "path",
    "tool",
    "output_var",
    "condition",
    "uri",
    "uri_template",
    "command",
    "endpoint",
    "header",
    "token",
    "key",
    "method",
    "items",
];

fn hostile_number(rng: &mut Rng) -> Value {
    match rng.below(17) {
        0 => json!(0),
        1 => json!(-1),
        2 => json!(1),
        3 => json!(4_294_967_295u64),
        4 => json!(4_294_967_296u64),
        5 => json!(u64::MAX),
        6 => json!(i64::MIN),
        7 => json!(1e308),
        8 => json!(-1e308),
        9 => json!(5e-324),
        10 => json!(0.5),
        11 => json!(-0.0),
        12 => json!(2.0),
        13 => json!(604_800_001u64),
        14 => json!(65_536),
        15 => json!(101),
        _ => json!(rng.next() >> rng.below(64)),
    }
}

fn hostile_text(rng: &mut Rng) -> String {
    match rng.below(8) {
        0 => format!("{}{}", rng.pick(HOSTILE_TEXT), rng.pick(HOSTILE_TEXT)),
        1 => (*rng.pick(KEYWORDS)).to_owned(),
        // Long enough to wrap every doc line and to cost something per byte.
        2 if rng.one_in(8) => rng.pick(HOSTILE_TEXT).repeat(2_000),
        _ => (*rng.pick(HOSTILE_TEXT)).to_owned(),
    }
}

fn hostile_value(rng: &mut Rng) -> Value {
    match rng.below(10) {
        0..=2 => hostile_number(rng),
        3 => json!(rng.one_in(2)),
        4 => Value::Null,
        5 if rng.one_in(2) => json!([]),
        5 => json!({}),
        _ => Value::String(hostile_text(rng)),
    }
}

/// A name that differs from `name` only by case or separator, or the same name.
fn variant(name: &str, rng: &mut Rng) -> String {
    match rng.below(11) {
        0 => name.to_uppercase(),
        1 => name.to_lowercase(),
        2 => {
            let mut out = String::new();
            let mut upper = false;
            for c in name.chars() {
                if c == '_' || c == '-' || c == '.' {
                    upper = true;
                } else if upper {
                    out.extend(c.to_uppercase());
                    upper = false;
                } else {
                    out.push(c);
                }
            }
            out
        }
        3 => {
            let mut out = String::new();
            for c in name.chars() {
                if c.is_uppercase() {
                    out.push('_');
                }
                out.extend(c.to_lowercase());
            }
            out
        }
        4 => name.replace('_', "-"),
        5 => name.replace('_', "."),
        6 => format!("{name}_"),
        7 => format!("_{name}"),
        8 => name.replace('_', "__"),
        9 => {
            let mut chars = name.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect()
            })
        }
        _ => name.to_owned(),
    }
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// JSON pointers of every node, the root (`""`) first.
fn pointers(tree: &Value) -> Vec<String> {
    fn walk(value: &Value, at: String, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                out.push(at.clone());
                for (key, child) in map {
                    walk(child, format!("{at}/{}", escape(key)), out);
                }
            }
            Value::Array(items) => {
                out.push(at.clone());
                for (i, child) in items.iter().enumerate() {
                    walk(child, format!("{at}/{i}"), out);
                }
            }
            _ => out.push(at),
        }
    }
    let mut out = Vec::new();
    walk(tree, String::new(), &mut out);
    out
}

fn last_key(pointer: &str) -> &str {
    pointer.rsplit('/').next().unwrap_or_default()
}

fn parent(pointer: &str) -> &str {
    pointer.rsplit_once('/').map_or("", |(parent, _)| parent)
}

/// A random pointer among those `keep` accepts, if any.
fn pick_pointer(
    tree: &Value,
    rng: &mut Rng,
    keep: impl Fn(&str, &Value) -> bool,
) -> Option<String> {
    let all: Vec<String> = pointers(tree)
        .into_iter()
        .filter(|p| tree.pointer(p).is_some_and(|v| keep(p, v)))
        .collect();
    (!all.is_empty()).then(|| all[rng.below(all.len())].clone())
}

fn is_container(value: &Value) -> bool {
    matches!(value, Value::Object(_) | Value::Array(_))
}

/// Every string written under a key `name` in the tree.
fn names(tree: &Value) -> Vec<String> {
    pointers(tree)
        .iter()
        .filter(|p| last_key(p) == "name")
        .filter_map(|p| tree.pointer(p)?.as_str().map(str::to_owned))
        .collect()
}

/// A name to put where a name was: a keyword, a hostile text, or a near-collision with
/// `current` or another name of the document.
fn hostile_name(current: &str, tree: &Value, rng: &mut Rng) -> Value {
    match rng.below(4) {
        0 => json!(rng.pick(KEYWORDS)),
        1 => hostile_value(rng),
        2 => {
            let others = names(tree);
            if others.is_empty() {
                json!(variant(current, rng))
            } else {
                let other = rng.pick(&others).clone();
                json!(variant(&other, rng))
            }
        }
        _ => json!(variant(current, rng)),
    }
}

/// One structure-aware mutation of the tree; `donors` are the other bases, for grafts.
fn mutate_tree(tree: &mut Value, donors: &[Base], all_keys: &[String], rng: &mut Rng) {
    match rng.below(24) {
        // A scalar (sometimes any node) becomes a hostile value.
        0..=4 => {
            let scalar_only = !rng.one_in(5);
            if let Some(p) = pick_pointer(tree, rng, |_, v| !scalar_only || !is_container(v))
                && let Some(node) = tree.pointer_mut(&p)
            {
                *node = hostile_value(rng);
            }
        }
        // A name or reference becomes a keyword or collides with another.
        5..=7 => {
            if let Some(p) = pick_pointer(tree, rng, |p, _| NAME_KEYS.contains(&last_key(p))) {
                let current = tree
                    .pointer(&p)
                    .and_then(Value::as_str)
                    .unwrap_or("x")
                    .to_owned();
                let name = hostile_name(&current, tree, rng);
                if let Some(node) = tree.pointer_mut(&p) {
                    *node = name;
                }
            }
        }
        // A key is renamed: by case or separator, to a keyword or to a hostile text.
        8..=9 => {
            if let Some(p) = pick_pointer(tree, rng, |_, v| {
                v.as_object().is_some_and(|m| !m.is_empty())
            }) && let Some(Value::Object(map)) = tree.pointer_mut(&p)
            {
                let at = rng.below(map.len());
                let old = map.keys().nth(at).cloned().unwrap_or_default();
                let new = match rng.below(3) {
                    0 => variant(&old, rng),
                    1 => (*rng.pick(KEYWORDS)).to_owned(),
                    _ => hostile_text(rng),
                };
                let entries = std::mem::take(map);
                *map = entries
                    .into_iter()
                    .map(|(k, v)| if k == old { (new.clone(), v) } else { (k, v) })
                    .collect();
            }
        }
        // An element of a list (tool, step, fallback, resource, prompt, argument) is duplicated,
        // its name made to collide.
        10..=12 => {
            let in_tools = rng.one_in(2);
            if let Some(p) = pick_pointer(tree, rng, |p, v| {
                v.as_array().is_some_and(|a| !a.is_empty()) && (!in_tools || p == "/tools")
            }) && let Some(Value::Array(items)) = tree.pointer_mut(&p)
            {
                let mut copy = rng.pick(items).clone();
                if let Some(Value::String(name)) = copy.get_mut("name") {
                    *name = variant(name, rng);
                }
                let at = rng.below(items.len() + 1);
                items.insert(at, copy);
            }
        }
        // A parameter (or header, env, query entry) is added under a colliding name.
        13..=14 => {
            const MAPS: &[&str] = &["params", "arguments", "headers", "env", "query", "input"];
            if let Some(p) = pick_pointer(tree, rng, |p, v| {
                MAPS.contains(&last_key(p)) && v.as_object().is_some_and(|m| !m.is_empty())
            }) && let Some(Value::Object(map)) = tree.pointer_mut(&p)
            {
                let at = rng.below(map.len());
                if let Some((key, value)) = map.iter().nth(at) {
                    let key = if rng.one_in(3) {
                        (*rng.pick(KEYWORDS)).to_owned()
                    } else {
                        variant(key, rng)
                    };
                    let value = value.clone();
                    map.insert(key, value);
                }
            } else if let Some(Value::Array(tools)) = tree.get_mut("tools")
                && !tools.is_empty()
            {
                let at = rng.below(tools.len());
                let name = (*rng.pick(KEYWORDS)).to_owned();
                if let Some(tool) = tools[at].as_object_mut() {
                    tool.insert("params".into(), json!({ (name): "string", "X": "integer" }));
                }
            }
        }
        // A key or list element is dropped.
        15..=16 => {
            if let Some(p) = pick_pointer(tree, rng, |_, v| match v {
                Value::Object(m) => !m.is_empty(),
                Value::Array(a) => !a.is_empty(),
                _ => false,
            }) {
                match tree.pointer_mut(&p) {
                    Some(Value::Object(map)) => {
                        let at = rng.below(map.len());
                        if let Some(key) = map.keys().nth(at).cloned() {
                            map.shift_remove(&key);
                        }
                    }
                    Some(Value::Array(items)) => {
                        items.remove(rng.below(items.len()));
                    }
                    _ => {}
                }
            }
        }
        // A tool, fallback, auth, middleware or parameter changes its type, keeping its keys.
        17..=18 => {
            if let Some(p) = pick_pointer(tree, rng, |p, _| last_key(p) == "type")
                && let Some(node) = tree.pointer_mut(&p)
            {
                *node = json!(rng.pick(TYPES));
            }
        }
        // A node is nested deeper, under lists or keys; rarely very deep.
        19 => {
            let depth = if rng.one_in(40) {
                1 + rng.below(300)
            } else {
                1 + rng.below(3)
            };
            if let Some(p) = pick_pointer(tree, rng, |p, _| !p.is_empty())
                && let Some(node) = tree.pointer_mut(&p)
            {
                let mut value = node.take();
                for _ in 0..depth {
                    value = if rng.one_in(2) {
                        json!([value])
                    } else {
                        let key = rng.pick(all_keys).clone();
                        Value::Object(Map::from_iter([(key, value)]))
                    };
                }
                *node = value;
            }
        }
        // A subtree of another base is grafted at the same place when that exists here (so a
        // whole section moves, or a tool joins another file's list), else anywhere alike.
        20..=21 => {
            let donor = &rng.pick(donors).tree;
            if let Some(from) = pick_pointer(donor, rng, |p, _| !p.is_empty())
                && let Some(graft) = donor.pointer(&from).cloned()
            {
                let into_list = donor.pointer(parent(&from)).is_some_and(Value::is_array);
                let fits = |_: &str, v: &Value| {
                    if into_list {
                        v.is_array()
                    } else {
                        v.is_object()
                    }
                };
                let into = match tree.pointer(parent(&from)) {
                    Some(v) if fits("", v) => Some(parent(&from).to_owned()),
                    _ => pick_pointer(tree, rng, fits),
                };
                let key = last_key(&from).replace("~1", "/").replace("~0", "~");
                match into.and_then(|p| tree.pointer_mut(&p)) {
                    Some(Value::Object(map)) => {
                        map.insert(key, graft);
                    }
                    Some(Value::Array(items)) => {
                        let at = rng.below(items.len() + 1);
                        items.insert(at, graft);
                    }
                    _ => {}
                }
            }
        }
        // A key of the language lands where it may not belong, with a hostile value.
        22 => {
            if let Some(p) = pick_pointer(tree, rng, |_, v| v.is_object()) {
                let key = rng.pick(all_keys).clone();
                let value = hostile_value(rng);
                if let Some(Value::Object(map)) = tree.pointer_mut(&p) {
                    map.insert(key, value);
                }
            }
        }
        // Rarely, enough tools that emit renders them on several threads.
        _ if rng.one_in(16) => {
            if let Some(Value::Array(tools)) = tree.get_mut("tools")
                && !tools.is_empty()
            {
                let originals = tools.clone();
                for i in 0..64 {
                    let mut copy = originals[i % originals.len()].clone();
                    if let Some(Value::String(name)) = copy.get_mut("name") {
                        *name = format!("{name}_{i}");
                    }
                    tools.push(copy);
                }
            }
        }
        // Two elements of a list swap (a pipeline step before the tool it uses, a fallback
        // entry order).
        _ => {
            if let Some(p) =
                pick_pointer(tree, rng, |_, v| v.as_array().is_some_and(|a| a.len() > 1))
                && let Some(Value::Array(items)) = tree.pointer_mut(&p)
            {
                let (a, b) = (rng.below(items.len()), rng.below(items.len()));
                items.swap(a, b);
            }
        }
    }
}

/// Whether YAML may read `text` unquoted (as something, not necessarily a string).
fn plain_ok(text: &str) -> bool {
    !text.is_empty()
        && text.trim() == text
        && !text.starts_with(|c: char| "-?:,[]{}#&*!|>'\"%@`".contains(c))
        && !text.contains(": ")
        && !text.contains(" #")
        && !text.ends_with(':')
        && !text.chars().any(char::is_control)
}

/// Whether plain `text` may read as a null, a boolean or a number instead of a string (a
/// superset of YAML 1.2's core schema, with 1.1's `yes`/`no`).
fn retypes(text: &str) -> bool {
    const WORDS: &[&str] = &[
        "~", "null", "true", "false", "yes", "no", "on", "off", "y", "n",
    ];
    WORDS.contains(&text.to_lowercase().as_str())
        || text.parse::<f64>().is_ok()
        || text.starts_with(['.', '+', '0'])
}

/// How scalars are written as YAML.
#[derive(Clone, Copy)]
struct Style {
    /// Whether a string that reads as a number, boolean or null may be written plain, and so
    /// change its type (`.nan`, `yes`, `1e999`).
    retype: bool,
}

fn yaml_string(text: &str, style: Style, rng: &mut Rng) -> String {
    let plain = plain_ok(text) && (!retypes(text) || (style.retype && rng.one_in(2)));
    if plain && !rng.one_in(3) {
        text.to_owned()
    } else {
        // A JSON string is a YAML double-quoted scalar: the same escapes.
        Value::from(text).to_string()
    }
}

fn yaml_inline(value: &Value, style: Style, rng: &mut Rng) -> String {
    match value {
        Value::String(text) => yaml_string(text, style, rng),
        Value::Null if rng.one_in(2) => "~".into(),
        other => other.to_string(),
    }
}

/// Block-style YAML of a container, flow style (JSON) for some of its children.
fn yaml_block(value: &Value, indent: usize, style: Style, rng: &mut Rng, out: &mut String) {
    let child = |child: &Value, rng: &mut Rng, out: &mut String| {
        let non_empty = match child {
            Value::Object(m) => !m.is_empty(),
            Value::Array(a) => !a.is_empty(),
            _ => false,
        };
        if non_empty && !rng.one_in(5) {
            out.push('\n');
            yaml_block(child, indent + 2, style, rng, out);
        } else {
            out.push(' ');
            out.push_str(&yaml_inline(child, style, rng));
            out.push('\n');
        }
    };
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                out.push_str(&pad);
                out.push_str(&yaml_string(key, style, rng));
                out.push(':');
                child(value, rng, out);
            }
        }
        Value::Array(items) => {
            for value in items {
                out.push_str(&pad);
                out.push('-');
                child(value, rng, out);
            }
        }
        scalar => {
            out.push_str(&pad);
            out.push_str(&yaml_inline(scalar, style, rng));
            out.push('\n');
        }
    }
}

fn serialize(tree: &Value, style: Style, rng: &mut Rng) -> Vec<u8> {
    match rng.below(4) {
        0 => tree.to_string().into_bytes(),
        1 => serde_json::to_vec_pretty(tree).unwrap_or_else(|e| panic!("{e}")),
        _ => {
            let mut out = String::new();
            yaml_block(tree, 0, style, rng, &mut out);
            out.into_bytes()
        }
    }
}

fn byte_mutation(rng: &mut Rng) -> Mutation {
    let at = rng.next() as usize;
    match rng.below(6) {
        0 => Mutation::Delete {
            at,
            len: 1 + rng.below(40),
        },
        1 => Mutation::Insert {
            at,
            piece: rng.below(PIECES.len()),
        },
        2 => Mutation::Byte {
            at,
            byte: rng.below(256) as u8,
        },
        3 => Mutation::DuplicateLine { line: at },
        4 => Mutation::SwapLines {
            a: at,
            b: rng.next() as usize,
        },
        _ => Mutation::Indent {
            line: at,
            spaces: rng.below(7),
        },
    }
}

/// One file the mutations start from.
struct Base {
    path: PathBuf,
    text: String,
    tree: Value,
}

/// The examples and chapter fixtures, sorted. Chapter fragments are placed into a minimal
/// document, as `tests/chapter.rs` does, so that unmutated they are accepted and their
/// mutations reach plan and emit.
fn bases() -> Vec<Base> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    for dir in ["examples", "tests/fixtures/chapter"] {
        let entries = std::fs::read_dir(root.join(dir)).unwrap_or_else(|e| panic!("{dir}: {e}"));
        let mut found: Vec<PathBuf> = entries
            .map(|e| e.unwrap_or_else(|e| panic!("{dir}: {e}")).path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .collect();
        found.sort();
        paths.extend(found);
    }
    paths
        .into_iter()
        .map(|path| {
            let mut text =
                std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
            if !text.starts_with("forge:") && !text.contains("\nforge:") {
                text = format!("forge:\n  name: chapter-example\n  version: 1.0.0\n\n{text}");
                if text.contains("- tool: extract_data") {
                    for tool in ["extract_data", "transform_data", "load_data"] {
                        text.push_str(&format!(
                            "  - type: native\n    name: {tool}\n    handler: handlers::{tool}::handle\n"
                        ));
                    }
                }
            }
            let tree: Value =
                serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"));
            Base { path, text, tree }
        })
        .collect()
}

/// How an input was made.
#[derive(Clone, Copy)]
enum Kind {
    Bytes,
    Tree,
    TreeThenBytes,
}

const KINDS: usize = 3;

/// How many mutations: mostly one, so that many inputs stay valid and reach plan and emit;
/// up to four.
fn count(rng: &mut Rng) -> usize {
    match rng.below(8) {
        0..=4 => 1,
        5..=6 => 2,
        _ => 3 + rng.below(2),
    }
}

/// The input of one index: its base and how it was mutated are drawn from its own generator.
fn make_input(bases: &[Base], all_keys: &[String], rng: &mut Rng) -> (Vec<u8>, Kind) {
    let base = rng.below(bases.len());
    let kind = match rng.below(20) {
        0..=8 => Kind::Bytes,
        9..=17 => Kind::Tree,
        _ => Kind::TreeThenBytes,
    };
    let mut bytes = match kind {
        Kind::Bytes => bases[base].text.clone().into_bytes(),
        Kind::Tree | Kind::TreeThenBytes => {
            let mut tree = bases[base].tree.clone();
            for _ in 0..count(rng) {
                mutate_tree(&mut tree, bases, all_keys, rng);
            }
            let style = Style {
                retype: rng.one_in(4),
            };
            serialize(&tree, style, rng)
        }
    };
    let byte_mutations = match kind {
        Kind::Bytes => count(rng),
        Kind::TreeThenBytes => 1,
        Kind::Tree => 0,
    };
    for _ in 0..byte_mutations {
        apply(&mut bytes, &byte_mutation(rng));
    }
    (bytes, kind)
}

/// What the pipeline made of an input.
enum Verdict {
    Refused,
    Generated { files: usize },
}

/// Loads, plans and emits; returns the verdict and the time of those three steps, or what
/// is wrong.
fn run(input: &[u8]) -> Result<(Verdict, Duration), String> {
    let started = Instant::now();
    let loaded = pforge::load::load_bytes("fuzz.yaml", input);
    let generated = loaded
        .config
        .as_ref()
        .map(|config| pforge::emit::generate(&pforge::plan::plan(config)));
    let took = started.elapsed();
    mutate::check_located(&loaded)?;
    let verdict = match generated {
        None => Verdict::Refused,
        Some(Ok(files)) => Verdict::Generated { files: files.len() },
        Some(Err(error)) => return Err(format!("accepted but not generated: {error}")),
    };
    Ok((verdict, took))
}

fn env_u64(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    Some(parsed.unwrap_or_else(|e| panic!("{name}={text}: {e}")))
}

#[derive(Default)]
struct Stats {
    inputs: [u64; KINDS],
    generated: [u64; KINDS],
    files: u64,
    slowest: Option<(Duration, u64)>,
}

impl Stats {
    fn merge(&mut self, other: Stats) {
        for k in 0..KINDS {
            self.inputs[k] += other.inputs[k];
            self.generated[k] += other.generated[k];
        }
        self.files += other.files;
        if other.slowest.map(|s| s.0) > self.slowest.map(|s| s.0) {
            self.slowest = other.slowest;
        }
    }
}

/// The first failure: its index, what went wrong and where the input was saved.
struct Failure {
    index: u64,
    problem: String,
    saved: PathBuf,
}

fn save(seed: u64, index: u64, input: &[u8]) -> PathBuf {
    let path = std::env::temp_dir().join(format!("pforge-fuzz-{seed:#x}-{index}.yaml"));
    if let Err(e) = std::fs::write(&path, input) {
        eprintln!("fuzz: could not save {}: {e}", path.display());
    }
    path
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

#[test]
fn mutated_inputs_are_generated_or_refused_with_located_errors() {
    let seed = env_u64("PFORGE_FUZZ_SEED").unwrap_or(DEFAULT_SEED);
    let inputs = env_u64("PFORGE_FUZZ_INPUTS").unwrap_or(DEFAULT_INPUTS);
    let max = env_u64("PFORGE_FUZZ_MAX_MS").map(Duration::from_millis);
    let replay = env_u64("PFORGE_FUZZ_INDEX");
    let range = match replay {
        Some(index) => index..index + 1,
        None => 0..inputs,
    };
    let threads = env_u64("PFORGE_FUZZ_THREADS")
        .map(|t| t.max(1) as usize)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let bases = bases();
    let mut all_keys: Vec<String> = bases
        .iter()
        .flat_map(|b| pointers(&b.tree))
        .map(|p| last_key(&p).to_owned())
        .filter(|k| !k.is_empty() && k.parse::<usize>().is_err())
        .collect();
    all_keys.sort();
    all_keys.dedup();

    let stop = AtomicBool::new(false);
    let failure: Mutex<Option<Failure>> = Mutex::new(None);
    let fail = |index: u64, problem: String, input: &[u8]| {
        stop.store(true, Ordering::Relaxed);
        let mut first = failure.lock().unwrap_or_else(|e| e.into_inner());
        if first.as_ref().is_none_or(|f| index < f.index) {
            let saved = save(seed, index, input);
            *first = Some(Failure {
                index,
                problem,
                saved,
            });
        }
    };
    let started = Instant::now();
    let mut stats = Stats::default();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads as u64)
            .map(|worker| {
                let (bases, all_keys, stop, fail, range) =
                    (&bases, &all_keys, &stop, &fail, range.clone());
                scope.spawn(move || {
                    let mut stats = Stats::default();
                    for index in range.skip(worker as usize).step_by(threads) {
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        let mut rng = Rng::for_input(seed, index);
                        let (input, kind) = make_input(bases, all_keys, &mut rng);
                        if replay.is_some() {
                            eprintln!(
                                "fuzz: input {index} is in {}",
                                save(seed, index, &input).display()
                            );
                        }
                        let begun = Instant::now();
                        let outcome = catch_unwind(AssertUnwindSafe(|| run(&input)));
                        stats.inputs[kind as usize] += 1;
                        let took = match outcome {
                            Ok(Ok((verdict, took))) => {
                                if let Verdict::Generated { files } = verdict {
                                    stats.generated[kind as usize] += 1;
                                    stats.files += files as u64;
                                }
                                took
                            }
                            Ok(Err(problem)) => {
                                fail(index, problem, &input);
                                begun.elapsed()
                            }
                            Err(payload) => {
                                fail(
                                    index,
                                    format!("panic: {}", panic_message(&*payload)),
                                    &input,
                                );
                                begun.elapsed()
                            }
                        };
                        if stats.slowest.is_none_or(|(slowest, _)| took > slowest) {
                            stats.slowest = Some((took, index));
                        }
                        if let Some(max) = max
                            && took > max
                        {
                            fail(index, format!("took {took:?}, more than {max:?}"), &input);
                        }
                    }
                    stats
                })
            })
            .collect();
        for worker in workers {
            stats.merge(
                worker
                    .join()
                    .unwrap_or_else(|e| std::panic::resume_unwind(e)),
            );
        }
    });
    let elapsed = started.elapsed();

    let total: u64 = stats.inputs.iter().sum();
    let generated: u64 = stats.generated.iter().sum();
    eprintln!(
        "fuzz: seed {seed:#x}, {total} inputs ({} bytes, {} tree, {} tree+bytes) on {threads} \
         threads in {:.1} s, {:.0} inputs/s",
        stats.inputs[Kind::Bytes as usize],
        stats.inputs[Kind::Tree as usize],
        stats.inputs[Kind::TreeThenBytes as usize],
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64().max(1e-9),
    );
    eprintln!(
        "fuzz: {generated} accepted and generated ({} bytes, {} tree, {} tree+bytes; {} files), \
         {} refused with located errors",
        stats.generated[Kind::Bytes as usize],
        stats.generated[Kind::Tree as usize],
        stats.generated[Kind::TreeThenBytes as usize],
        stats.files,
        total - generated,
    );
    if let Some((took, index)) = stats.slowest {
        eprintln!(
            "fuzz: slowest input {:.1} ms (load + plan + emit): PFORGE_FUZZ_SEED={seed:#x} \
             PFORGE_FUZZ_INDEX={index}",
            took.as_secs_f64() * 1e3
        );
    }
    eprintln!(
        "fuzz: bases {}",
        bases
            .iter()
            .map(|b| b.path.file_name().unwrap_or_default().to_string_lossy())
            .collect::<Vec<_>>()
            .join(", ")
    );
    if let Some(f) = failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
        panic!(
            "input {} failed: {}\nsaved to {}; replay with PFORGE_FUZZ_SEED={seed:#x} \
             PFORGE_FUZZ_INDEX={} cargo test --test fuzz -- --nocapture",
            f.index,
            f.problem,
            f.saved.display(),
            f.index
        );
    }
    assert_eq!(total, range.end - range.start, "every input ran");
}

/// The fuzzer's starting points are valid in every serialization it uses, so that a refusal
/// comes from a mutation, not from the serializer.
#[test]
fn bases_are_accepted_as_written_and_in_every_serialization() {
    for base in bases() {
        let loaded = pforge::load::load_str("base.yaml", &base.text);
        assert!(
            loaded.config.is_some(),
            "{:?}: {:?}",
            base.path,
            loaded.diagnostics
        );
        for seed in 0..16 {
            let mut rng = Rng::for_input(seed, 0);
            let bytes = serialize(&base.tree, Style { retype: false }, &mut rng);
            let loaded = pforge::load::load_bytes("base.yaml", &bytes);
            assert!(
                loaded.config.is_some(),
                "{:?} serialized with seed {seed}:\n{}\n{:?}",
                base.path,
                String::from_utf8_lossy(&bytes),
                loaded.diagnostics
            );
        }
    }
}
