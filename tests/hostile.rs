//! Hostile input ends in a clear, located error or a correct result: never a panic, a hang or
//! a stack overflow. (Speed is measured by the benchmark, not asserted here.)

use pforge::load::{Loaded, load_bytes};

fn load(bytes: &[u8]) -> Loaded {
    load_bytes("hostile.yaml", bytes)
}

fn first_error(loaded: &Loaded) -> String {
    let d = loaded.diagnostics.iter().find(|d| d.is_error());
    let d = d.unwrap_or_else(|| panic!("expected an error, got {:?}", loaded.diagnostics));
    let at = loaded.source.position(d.span.start);
    format!("{}:{} {}", at.line, at.column, d.message)
}

#[test]
fn deep_flow_nesting() {
    let text = format!("forge: {}{}", "[".repeat(100_000), "]".repeat(100_000));
    let loaded = load(text.as_bytes());
    assert!(
        first_error(&loaded).contains("nested too deeply"),
        "{}",
        first_error(&loaded)
    );
}

#[test]
fn deep_block_nesting() {
    let text = format!("forge:\n{}x\n", "- ".repeat(100_000));
    assert!(first_error(&load(text.as_bytes())).contains("too deeply nested"));
}

#[test]
fn deep_mapping_nesting() {
    let mut text = String::new();
    for depth in 0..2_000 {
        text.push_str(&" ".repeat(depth));
        text.push_str("a:\n");
    }
    assert!(first_error(&load(text.as_bytes())).contains("nested"));
}

#[test]
fn billion_laughs() {
    let mut text = String::from("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for (name, prev) in ["b", "c", "d", "e", "f", "g", "h", "i"]
        .iter()
        .zip(["a", "b", "c", "d", "e", "f", "g", "h"])
    {
        let refs = vec![format!("*{prev}"); 9].join(", ");
        text.push_str(&format!("{name}: &{name} [{refs}]\n"));
    }
    let loaded = load(text.as_bytes());
    let error = first_error(&loaded);
    assert!(
        error.contains("too large") || error.contains("alias"),
        "{error}"
    );
}

#[test]
fn a_ten_megabyte_file() {
    let mut text = String::from("forge:\n  name: big\n  version: 1.0.0\ntools:\n");
    let mut i = 0;
    while text.len() < 10 * 1024 * 1024 {
        text.push_str(&format!(
            "  - type: native\n    name: tool_{i}\n    handler: handlers::tool_{i}::handle\n"
        ));
        i += 1;
    }
    let error = first_error(&load(text.as_bytes()));
    assert!(error.starts_with("1:1 the file is 10.0 MiB"), "{error}");
}

#[test]
fn duplicate_keys_multi_documents_tabs_and_bad_bytes() {
    assert_eq!(
        first_error(&load(b"forge: 1\nforge: 2\n")),
        "2:1 duplicate mapping key: forge"
    );
    assert_eq!(
        first_error(&load(b"forge: 1\n---\nforge: 2\n")),
        "3:1 forge.yaml must hold exactly one YAML document"
    );
    assert!(first_error(&load(b"forge:\n\tname: x\n")).starts_with("2:2 invalid YAML: tabs"));
    assert_eq!(
        first_error(&load(b"forge:\n  name: \xff\xfe\n")),
        "2:9 the file is not valid UTF-8 (byte 0xFF)"
    );
    assert_eq!(
        first_error(&load(b"")),
        "1:1 the file holds no configuration"
    );
    assert_eq!(
        first_error(&load(b"\n\n   \n")),
        "1:1 the file holds no configuration"
    );
}

#[test]
fn multibyte_characters_do_not_shift_columns() {
    let loaded =
        load("forge:\n  description: \"日本語 ✓\"\n  name: \"ü x\"\n  version: 1.0.0\n".as_bytes());
    assert_eq!(first_error(&loaded), "3:9 `ü x` is not a valid crate name");
    let loaded = load("# ✓✓✓\nforge: {name: ok, version: 1.0.0, bogus: 1}\n".as_bytes());
    assert_eq!(first_error(&loaded), "2:35 unknown key `bogus`");
}

#[test]
fn byte_order_mark_and_crlf() {
    let loaded = load(b"\xef\xbb\xbfforge:\r\n  name: ok\r\n  version: 1.0.0\r\n  bogus: 1\r\n");
    assert_eq!(first_error(&loaded), "4:3 unknown key `bogus`");
}

#[test]
fn odd_scalars_and_keys() {
    for text in [
        "forge: {name: x, version: 1.0.0}\ntools: [{type: native, name: a, handler: handlers::A, params: {1: string}}]\n",
        "? [a, b]\n: c\n",
        "forge: !!binary aGVsbG8=\n",
        "forge: .nan\n",
        "forge: 99999999999999999999999999\n",
        "forge: {name: x, version: 1.0.0}\ntools:\n  - &t {type: native, name: a, handler: handlers::A}\n  - *t\n",
        "forge: {name: x, version: 1.0.0}\nbase: &b {x: 1}\nother:\n  <<: *b\n",
        "\u{0}",
        "forge: \"\\uD800\"\n",
    ] {
        let loaded = load(text.as_bytes());
        assert!(loaded.config.is_some() || loaded.has_errors(), "{text:?}");
    }
}
