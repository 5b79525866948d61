//! Printing emitted Rust: `prettyplease`, plus the blank lines between items that it leaves
//! out, so generated files read like hand-written ones.

/// Pretty-prints a parsed file with a blank line between items.
pub fn print(file: &syn::File) -> String {
    space_items(&join_short_macros(&tidy_json_keys(&prettyplease::unparse(
        file,
    ))))
}

/// prettyplease prints an item-level `name! { … }` call over three lines even when it fits
/// on one; rustfmt leaves brace-delimited calls as they are written, so the generated tests'
/// table lines (`command_test! { … }`) are joined back into one line each when they fit.
fn join_short_macros(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::with_capacity(text.len());
    let mut index = 0;
    while index < lines.len() {
        let line = lines[index];
        if let (Some(body), Some(close)) = (lines.get(index + 1), lines.get(index + 2))
            && !line.starts_with(' ')
            && line.ends_with("! {")
            && !line.starts_with("macro_rules!")
            && body.starts_with("    ")
            && !body.trim().is_empty()
            && *close == "}"
        {
            let joined = format!("{} {} }}", line, body.trim());
            if joined.len() <= 100 {
                out.push_str(&joined);
                out.push('\n');
                index += 3;
                continue;
            }
        }
        out.push_str(line);
        out.push('\n');
        index += 1;
    }
    if !text.ends_with('\n') {
        out.pop();
    }
    out
}

/// prettyplease prints macro bodies token by token, so `json!({"tool": x})` comes out as
/// `json!({ "tool" : x })`, which rustfmt leaves alone. The only macro bodies pforge emits
/// with `:` are `json!` objects with string keys; their keys get the usual spacing back.
fn tidy_json_keys(text: &str) -> String {
    if !text.contains("json!(") {
        return text.to_owned();
    }
    text.lines()
        .map(|line| {
            if line.contains("json!(") {
                line.replace("\" : ", "\": ")
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + if text.ends_with('\n') { "\n" } else { "" }
}

/// Inserts a blank line before an item (with its docs and attributes) that directly follows
/// another item, a group of `use` lines or the module docs, at the same indentation.
fn space_items(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut previous: Option<&str> = None;
    for line in text.lines() {
        if previous.is_some_and(|prev| needs_gap(prev, line)) {
            out.push('\n');
        }
        out.push_str(line);
        out.push('\n');
        previous = Some(line);
    }
    out
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

fn needs_gap(prev: &str, line: &str) -> bool {
    let (p, l) = (prev.trim_start(), line.trim_start());
    if indent(prev) != indent(line) || p.is_empty() || !starts_item(l) {
        return false;
    }
    let is_use = |s: &str| s.starts_with("use ") || s.starts_with("pub use ");
    if p.starts_with("//!") {
        return !l.starts_with("//!");
    }
    if p.starts_with("///") || p.starts_with("#[") {
        return false;
    }
    if is_use(p) {
        return !is_use(l);
    }
    // Out-of-line module declarations read as one list, like `use` lines.
    let is_mod = |s: &str| (s.starts_with("mod ") || s.starts_with("pub mod ")) && s.ends_with(';');
    if is_mod(p) && is_mod(l) {
        return false;
    }
    p.ends_with('}') || p.ends_with("};") || (p.ends_with(';') && indent(prev) == 0)
}

fn starts_item(line: &str) -> bool {
    const STARTS: &[&str] = &[
        "///",
        "#[",
        "pub ",
        "fn ",
        "async fn ",
        "impl ",
        "impl<",
        "struct ",
        "enum ",
        "const ",
        "static ",
        "mod ",
        "trait ",
        "type ",
        "use ",
    ];
    STARTS.iter().any(|s| line.starts_with(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_object_keys_are_spaced_as_rustfmt_would() {
        let printed = "    Ok(serde_json::json!({ \"tool\" : context.name, \"input\" : input }))\n";
        assert_eq!(
            tidy_json_keys(printed),
            "    Ok(serde_json::json!({ \"tool\": context.name, \"input\": input }))\n"
        );
        assert_eq!(
            tidy_json_keys("let a = \"x\" : y;\n"),
            "let a = \"x\" : y;\n"
        );
    }

    #[test]
    fn short_item_macro_calls_are_one_line() {
        let printed = "check! {\n    a, b\n}\nmacro_rules! m {\n    () => {};\n}\n";
        assert_eq!(
            join_short_macros(printed),
            "check! { a, b }\nmacro_rules! m {\n    () => {};\n}\n"
        );
        let long = format!("check! {{\n    {}\n}}\n", "x".repeat(100));
        assert_eq!(join_short_macros(&long), long);
    }

    #[test]
    fn separates_items_but_not_attributes_from_their_item() {
        let text = "//! Docs.\nuse a::b;\nuse c::d;\n/// One.\npub const A: u8 = 1;\n/// Two.\n#[derive(Debug)]\npub struct B;\nimpl B {\n    fn x() {}\n    fn y() {\n        let z = 1;\n    }\n}\nmod m;\npub mod n;\n";
        assert_eq!(
            space_items(text),
            "//! Docs.\n\nuse a::b;\nuse c::d;\n\n/// One.\npub const A: u8 = 1;\n\n/// Two.\n#[derive(Debug)]\npub struct B;\n\nimpl B {\n    fn x() {}\n\n    fn y() {\n        let z = 1;\n    }\n}\n\nmod m;\npub mod n;\n"
        );
    }
}
