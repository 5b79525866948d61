//! Human-written durations (`60s`, `100ms`, `1m 30s`) as used by the reference chapter.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Regular expression the JSON Schema uses for durations. It accepts exactly what
/// [`HumanDuration::parse`] accepts, so the editor and `pforge check` never disagree.
pub const DURATION_PATTERN: &str = r"^ *[0-9]+ *(ms|s|m|h)( *[0-9]+ *(ms|s|m|h))* *$";

/// A duration written as one or more `<integer><unit>` parts, units `ms`, `s`, `m`, `h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HumanDuration(pub Duration);

/// Why a duration string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Nothing but spaces.
    #[error("empty duration")]
    Empty,
    /// A number without a unit, such as `60`.
    #[error("`{0}` has no unit")]
    MissingUnit(String),
    /// A unit that is not one of ms, s, m, h.
    #[error("unknown unit `{0}`")]
    UnknownUnit(String),
    /// A unit without a number in front of it.
    #[error("expected a number before `{0}`")]
    MissingNumber(String),
    /// More than `u64::MAX` milliseconds.
    #[error("duration is too long")]
    Overflow,
}

/// The longest duration a policy may have: 7 days, in milliseconds. No policy needs more,
/// and the semantic checks report longer ones where they are written.
pub const MAX_MS: u64 = 7 * 24 * 3_600_000;

impl HumanDuration {
    /// Parses `60s`, `100ms`, `1m 30s`, `2h`.
    ///
    /// ```
    /// use pforge::config::HumanDuration;
    /// assert_eq!(HumanDuration::parse("1m 30s").map(|d| d.as_millis()), Ok(90_000));
    /// assert!(HumanDuration::parse("60").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self, DurationError> {
        let mut rest = text.trim();
        if rest.is_empty() {
            return Err(DurationError::Empty);
        }
        let mut total_ms: u64 = 0;
        while !rest.is_empty() {
            let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            if digits == 0 {
                let word: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
                return Err(DurationError::MissingNumber(word));
            }
            let number: u64 = rest[..digits]
                .parse()
                .map_err(|_| DurationError::Overflow)?;
            rest = rest[digits..].trim_start();
            let unit_len = rest.len()
                - rest
                    .trim_start_matches(|c: char| c.is_ascii_alphabetic())
                    .len();
            let unit = &rest[..unit_len];
            let scale = match unit {
                "ms" => 1,
                "s" => 1_000,
                "m" => 60_000,
                "h" => 3_600_000,
                "" => return Err(DurationError::MissingUnit(text.trim().to_owned())),
                other => return Err(DurationError::UnknownUnit(other.to_owned())),
            };
            let part = number.checked_mul(scale).ok_or(DurationError::Overflow)?;
            total_ms = total_ms.checked_add(part).ok_or(DurationError::Overflow)?;
            rest = rest[unit_len..].trim_start();
        }
        Ok(Self(Duration::from_millis(total_ms)))
    }

    /// The duration in whole milliseconds (saturating).
    pub fn as_millis(&self) -> u64 {
        u64::try_from(self.0.as_millis()).unwrap_or(u64::MAX)
    }
}

impl fmt::Display for HumanDuration {
    /// Shortest exact spelling: `1m 30s`, `100ms`, `2h`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ms = self.as_millis();
        if ms == 0 {
            return f.write_str("0ms");
        }
        let mut parts = Vec::new();
        for (unit, scale) in [("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1)] {
            if ms >= scale {
                parts.push(format!("{}{unit}", ms / scale));
                ms %= scale;
            }
        }
        f.write_str(&parts.join(" "))
    }
}

impl Serialize for HumanDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for HumanDuration {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": DURATION_PATTERN,
            "description": "A duration: an integer and a unit (ms, s, m, h), several parts allowed; at most 7 days.",
            "examples": ["100ms", "5s", "60s", "1m 30s"]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(text: &str) -> u64 {
        HumanDuration::parse(text)
            .map(|d| d.as_millis())
            .unwrap_or(u64::MAX)
    }

    #[test]
    fn parses_the_chapter_spellings() {
        assert_eq!(ms("60s"), 60_000);
        assert_eq!(ms("100ms"), 100);
        assert_eq!(ms("5s"), 5_000);
        assert_eq!(ms("1m 30s"), 90_000);
        assert_eq!(ms("1m30s"), 90_000);
        assert_eq!(ms("2h"), 7_200_000);
        assert_eq!(ms(" 1 s "), 1_000);
    }

    #[test]
    fn rejects_what_the_pattern_rejects() {
        assert_eq!(
            HumanDuration::parse("60"),
            Err(DurationError::MissingUnit("60".into()))
        );
        assert_eq!(
            HumanDuration::parse("5 sec"),
            Err(DurationError::UnknownUnit("sec".into()))
        );
        assert_eq!(
            HumanDuration::parse("s"),
            Err(DurationError::MissingNumber("s".into()))
        );
        assert_eq!(HumanDuration::parse(""), Err(DurationError::Empty));
        assert_eq!(
            HumanDuration::parse("99999999999999999999h"),
            Err(DurationError::Overflow)
        );
        assert_eq!(
            HumanDuration::parse("9999999999999999h"),
            Err(DurationError::Overflow)
        );
    }

    #[test]
    fn displays_the_shortest_exact_spelling() {
        for (text, shown) in [
            ("90s", "1m 30s"),
            ("100ms", "100ms"),
            ("1500ms", "1s 500ms"),
            ("0s", "0ms"),
        ] {
            assert_eq!(
                HumanDuration::parse(text)
                    .map(|d| d.to_string())
                    .ok()
                    .as_deref(),
                Some(shown)
            );
        }
    }
}
