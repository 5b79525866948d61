//! Random mutations of valid files never panic and always give either a valid config or at
//! least one located error.

#[path = "common/mutate.rs"]
mod mutate;

use mutate::{Mutation, apply};
use proptest::prelude::*;

const BASES: &[&str] = &[
    include_str!("../examples/full.yaml"),
    include_str!("../examples/minimal.yaml"),
    include_str!("../examples/resilient-api.yaml"),
    include_str!("fixtures/chapter/04-fallback-chain.yaml"),
];

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
        if let Err(problem) = mutate::check_located(&loaded) {
            return Err(TestCaseError::fail(problem));
        }
    }
}
