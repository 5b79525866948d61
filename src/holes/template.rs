//! Strings of forge.yaml with holes, split once into literal text, `{{param}}` placeholders and
//! `${VAR}` references, so that the generated code never scans a string per call and a value
//! filled into one hole can never be read as another.

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Text as written.
    Text(String),
    /// A `{{name}}` placeholder, filled per call.
    Param(String),
    /// `${name}` or `${name:-default}`, read from the environment when the server runs.
    Env {
        /// The variable.
        name: String,
        /// Text used when it is unset or empty.
        default: Option<String>,
    },
}

/// A string split into parts; adjacent text is one part.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Template {
    /// The parts, in order.
    pub parts: Vec<Part>,
}

impl Template {
    /// Splits `text` at its placeholders and environment references. A hole the loader would
    /// report as malformed stays text.
    pub fn split(text: &str) -> Self {
        Self::split_holes(text, true, true)
    }

    /// Splits `text` at its placeholders only: prompts and pipeline arguments are filled from
    /// arguments and variables, never from the environment, so a `${` in them is text.
    pub fn params_only(text: &str) -> Self {
        Self::split_holes(text, false, true)
    }

    /// Splits `text` at its environment references only: credentials are not filled from
    /// arguments, so a `{{` in them is text.
    pub fn env_only(text: &str) -> Self {
        Self::split_holes(text, true, false)
    }

    fn split_holes(text: &str, env: bool, params: bool) -> Self {
        let mut holes: Vec<(std::ops::Range<usize>, Part)> = Vec::new();
        if env {
            let found = super::env_refs(text).unwrap_or_default();
            holes.extend(found.into_iter().map(|r| {
                let part = Part::Env {
                    name: r.name,
                    default: r.default,
                };
                (r.range, part)
            }));
        }
        if params {
            let found = super::placeholders(text).unwrap_or_default();
            holes.extend(found.into_iter().map(|p| (p.range, Part::Param(p.name))));
        }
        holes.sort_by_key(|(range, _)| range.start);
        let mut template = Self::default();
        let mut at = 0;
        for (range, part) in holes {
            // Overlapping holes (`${A:-{{x}}}`): the first one wins, as it reads.
            if range.start < at {
                continue;
            }
            template.push_text(&text[at..range.start]);
            template.parts.push(part);
            at = range.end;
        }
        template.push_text(&text[at..]);
        template
    }

    fn push_text(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        match self.parts.last_mut() {
            Some(Part::Text(last)) => last.push_str(text),
            _ => self.parts.push(Part::Text(text.to_owned())),
        }
    }

    /// The parameters it fills, in order, repeats included.
    pub fn params(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Param(name) => Some(name.as_str()),
            _ => None,
        })
    }

    /// The variable it is, when it is one placeholder and nothing else but blanks.
    pub fn single_param(&self) -> Option<&str> {
        let mut holes = self
            .parts
            .iter()
            .filter(|p| !matches!(p, Part::Text(t) if t.trim().is_empty()));
        match (holes.next(), holes.next()) {
            (Some(Part::Param(name)), None) => Some(name),
            _ => None,
        }
    }

    /// The parameter it begins with: its first placeholder when nothing but environment
    /// references (which may be empty) comes before it.
    pub fn leading_param(&self) -> Option<&str> {
        for part in &self.parts {
            match part {
                Part::Env { .. } => {}
                Part::Param(name) => return Some(name),
                Part::Text(_) => return None,
            }
        }
        None
    }

    /// Whether it is only text (or empty).
    pub fn is_literal(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Text(_)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(t: &str) -> Part {
        Part::Text(t.to_owned())
    }

    #[test]
    fn splits_text_params_and_environment() {
        let split = Template::split("${BASE:-http://h}/users/{{ id }}?k=${KEY}");
        assert_eq!(
            split.parts,
            [
                Part::Env {
                    name: "BASE".into(),
                    default: Some("http://h".into())
                },
                text("/users/"),
                Part::Param("id".into()),
                text("?k="),
                Part::Env {
                    name: "KEY".into(),
                    default: None
                },
            ]
        );
        assert_eq!(split.params().collect::<Vec<_>>(), ["id"]);
    }

    #[test]
    fn credentials_and_malformed_holes_stay_text() {
        assert_eq!(Template::env_only("{{id}}").parts, [text("{{id}}")]);
        assert_eq!(Template::split("a {{b").parts, [text("a {{b")]);
        assert_eq!(Template::split("").parts, []);
        assert!(Template::split("plain").is_literal());
        assert_eq!(
            Template::params_only("${A}{{b}}").parts,
            [text("${A}"), Part::Param("b".into())]
        );
        assert_eq!(Template::split(" {{ v }} ").single_param(), Some("v"));
        assert_eq!(Template::split("a {{ v }}").single_param(), None);
    }
}
