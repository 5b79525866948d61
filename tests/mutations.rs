//! Random mutations of valid files never panic and always give either a valid config or at
//! least one located error.

use proptest::prelude::*;

const BASES: &[&str] = &[
    include_str!("../examples/full.yaml"),
    include_str!("../examples/minimal.yaml"),
    include_str!("../examples/resilient-api.yaml"),
    include_str!("fixtures/chapter/04-fallback-chain.yaml"),
];

/// Pieces that are meaningful to YAML or to our language.
const PIECES: &[&str] = &[
    ":",
    "- ",
    "[",
    "]",
    "{",
    "}",
    "\"",
    "'",
    "\n",
    "  ",
    "\t",
    "&a ",
    "*a",
    "!!str ",
    "# ",
    "|\n",
    ">-\n",
    "---\n",
    "...",
    "0",
    "-1",
    "1e999",
    "3.5",
    "true",
    "null",
    "~",
    "é",
    "日本",
    "{{x}}",
    "${X",
    "${Y:-z}",
    "type: ",
    "http",
    "native",
    "pipeline",
    "retry:",
    "timeout: ",
    "60",
    "0s",
    "handlers::",
    "\u{feff}",
    "\r\n",
    "? ",
    "<<: *a",
    "\\u0000",
    "\u{0}",
];

#[derive(Debug, Clone)]
enum Mutation {
    Delete { at: usize, len: usize },
    Insert { at: usize, piece: usize },
    Byte { at: usize, byte: u8 },
    DuplicateLine { line: usize },
    SwapLines { a: usize, b: usize },
    Indent { line: usize, spaces: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1usize..40).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (any::<usize>(), any::<usize>()).prop_map(|(at, piece)| Mutation::Insert { at, piece }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Byte { at, byte }),
        any::<usize>().prop_map(|line| Mutation::DuplicateLine { line }),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines { a, b }),
        (any::<usize>(), 0usize..7).prop_map(|(line, spaces)| Mutation::Indent { line, spaces }),
    ]
}

fn apply(text: &mut Vec<u8>, mutation: &Mutation) {
    let len = text.len().max(1);
    match *mutation {
        Mutation::Delete { at, len: n } => {
            let at = at % len;
            let end = (at + n).min(text.len());
            text.drain(at.min(text.len())..end);
        }
        Mutation::Insert { at, piece } => {
            let at = at % (text.len() + 1);
            let piece = PIECES[piece % PIECES.len()].as_bytes();
            text.splice(at..at, piece.iter().copied());
        }
        Mutation::Byte { at, byte } => {
            if !text.is_empty() {
                let at = at % text.len();
                text[at] = byte;
            }
        }
        Mutation::DuplicateLine { .. } | Mutation::SwapLines { .. } | Mutation::Indent { .. } => {
            let mut lines: Vec<Vec<u8>> = text.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
            let n = lines.len();
            match *mutation {
                Mutation::DuplicateLine { line } => {
                    let line = lines[line % n].clone();
                    lines.insert(0, line);
                }
                Mutation::SwapLines { a, b } => lines.swap(a % n, b % n),
                Mutation::Indent { line, spaces } => {
                    let line = &mut lines[line % n];
                    line.splice(0..0, std::iter::repeat_n(b' ', spaces));
                }
                _ => {}
            }
            *text = lines.join(&b'\n');
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 768, ..ProptestConfig::default() })]

    #[test]
    fn mutated_files_are_accepted_or_located(
        base in 0..BASES.len(),
        mutations in proptest::collection::vec(mutation(), 1..5),
    ) {
        let mut text = BASES[base].as_bytes().to_vec();
        for m in &mutations {
            apply(&mut text, m);
        }
        let loaded = pforge::load::load_bytes("mutated.yaml", &text);
        let source_len = loaded.source.text().len();
        if loaded.config.is_none() {
            prop_assert!(loaded.has_errors(), "no config and no error: {:?}", loaded.diagnostics);
        } else {
            prop_assert!(!loaded.has_errors());
        }
        let lines = loaded.source.text().lines().count() + 1;
        for d in &loaded.diagnostics {
            prop_assert!(d.span.start <= d.span.end && d.span.end <= source_len, "{d:?}");
            let at = loaded.source.position(d.span.start);
            prop_assert!(at.line >= 1 && at.line <= lines && at.column >= 1, "{d:?}");
            prop_assert!(!d.message.is_empty());
            // Both renderings work for every diagnostic.
            let _ = pforge::diagnostics::render_human(d, &loaded.source, false);
            let json: serde_json::Value = serde_json::from_str(&pforge::diagnostics::render_json_line(d, &loaded.source))
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(json["line"].as_u64(), Some(at.line as u64));
        }
    }
}
