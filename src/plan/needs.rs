//! Facts about the plan that several emitters ask for, decided here once so that they cannot
//! drift apart: which guards the server keeps, which tools carry policy tests, what the http
//! transport serves and checks.

use super::{MetricsPlan, OAuthPlan, Plan, PolicyPlan, ServerAuthPlan, ToolPlan};

impl PolicyPlan {
    /// Whether the policy has guards with state the server keeps: a breaker or a bulkhead.
    pub fn is_guarded(&self) -> bool {
        self.breaker.is_some() || self.bulkhead.is_some()
    }
}

impl ToolPlan {
    /// Whether the server keeps guards for this tool (see [`PolicyPlan::is_guarded`]).
    pub fn is_guarded(&self) -> bool {
        self.policy.is_guarded()
    }

    /// Whether the tool's module carries policy tests: every layer of
    /// [`ToolPlan::uses_resilience`] has cases, and nothing else has.
    pub fn has_policy_tests(&self) -> bool {
        self.uses_resilience()
    }
}

impl Plan {
    /// The tools whose guards the server keeps, in `tools/list` order.
    pub fn guarded_tools(&self) -> impl Iterator<Item = &ToolPlan> {
        self.tools.iter().filter(|t| t.is_guarded())
    }

    /// Whether the server keeps guards at all (`tools::Guards`).
    pub fn keeps_guards(&self) -> bool {
        self.guarded_tools().next().is_some()
    }

    /// Whether some tool module carries policy tests (they run on tokio's paused clock).
    pub fn has_policy_tests(&self) -> bool {
        self.tools.iter().any(ToolPlan::has_policy_tests)
    }

    /// Whether the server answers `resources/*`: it has resources, or `pforge://stats`.
    pub fn serves_resources(&self) -> bool {
        !self.resources.is_empty() || self.needs.monitoring
    }

    /// Whether the http transport serves `/metrics`.
    pub fn serves_metrics(&self) -> bool {
        self.transport
            .http()
            .is_some_and(|http| http.metrics != MetricsPlan::Off)
    }

    /// The OAuth settings of the http transport, when callers present JWTs.
    fn oauth(&self) -> Option<&OAuthPlan> {
        match self.transport.http()?.auth.as_ref()? {
            ServerAuthPlan::OAuth(oauth) => Some(oauth),
            ServerAuthPlan::Bearer { .. } => None,
        }
    }

    /// Whether `tools/list` and `tools/call` look at the caller's scopes: callers present
    /// JWTs and some tool names scopes.
    pub fn checks_scopes(&self) -> bool {
        self.oauth().is_some() && self.tools.iter().any(|t| !t.scopes.is_empty())
    }
}
