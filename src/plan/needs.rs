//! Facts about the plan that several emitters ask for, decided here once so that they cannot
//! drift apart: which guards the server keeps, which tools carry policy tests, what the http
//! transport serves and checks.

use super::{MetricsPlan, Plan, PolicyPlan, ToolPlan};

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

    /// Whether `tools/list` and `tools/call` look at the caller's scopes: callers present
    /// JWTs ([`Needs::jwt`](super::Needs::jwt)) and some tool names scopes.
    pub fn checks_scopes(&self) -> bool {
        self.needs.jwt && self.tools.iter().any(|t| !t.scopes.is_empty())
    }

    /// Whether calls pass through the user's middleware; the server then also has
    /// `run_without_middleware`, which the crate's own tests use.
    pub fn has_middleware(&self) -> bool {
        !self.middleware.is_empty()
    }
}
