//! "Did you mean" hints for misspelt keys and values.

/// The candidate closest to `word`, if it is close enough to be a likely typo.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word_lower = word.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|candidate| {
            (
                strsim::damerau_levenshtein(&word_lower, &candidate.to_ascii_lowercase()),
                candidate,
            )
        })
        .filter(|(distance, candidate)| {
            // One edit for short words, up to a third of the length for longer ones.
            let allowed = (candidate.chars().count().max(word.chars().count()) / 3).max(1);
            *distance <= allowed
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// `did you mean `x`?`, or the list of allowed words when none is close.
pub fn hint(word: &str, candidates: &[&str], what: &str) -> Option<String> {
    if let Some(best) = closest(word, candidates.iter().copied()) {
        return Some(format!("did you mean `{best}`?"));
    }
    match candidates {
        [] => None,
        [only] => Some(format!("the only {what} allowed here is `{only}`")),
        _ if candidates.len() <= 16 => Some(format!(
            "{what}s allowed here: {}",
            candidates
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_misses_only() {
        let keys = ["retry", "timeout_ms", "circuit_breaker", "fallback"];
        assert_eq!(closest("retyr", keys), Some("retry"));
        assert_eq!(closest("timeout", keys), Some("timeout_ms"));
        assert_eq!(closest("circuit_braker", keys), Some("circuit_breaker"));
        assert_eq!(closest("zzz", keys), None);
        assert_eq!(closest("HTTP", ["http", "cli"]), Some("http"));
    }

    #[test]
    fn lists_candidates_when_nothing_is_close() {
        assert_eq!(
            hint("zzz", &["a", "b"], "key").as_deref(),
            Some("keys allowed here: `a`, `b`")
        );
        assert_eq!(
            hint("x", &["recovery"], "type").as_deref(),
            Some("the only type allowed here is `recovery`")
        );
    }
}
