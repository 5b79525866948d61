//! The operation of benches/http.sh: as cheap as a call can be, so that the transport shows.

/// Answers at once.
pub async fn noop(
    _input: crate::generated::tools::noop::NoopInput,
    _context: crate::generated::runtime::Context<'_>,
) -> Result<serde_json::Value, crate::generated::runtime::HandlerError> {
    Ok(serde_json::Value::from("ok"))
}
