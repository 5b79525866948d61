//! The operation of both tools: as cheap as a call can be, so that the policies' cost shows.

/// The protected tool's operation.
pub async fn protected(
    input: crate::generated::tools::protected::ProtectedInput,
    _context: crate::generated::runtime::Context<'_>,
) -> Result<serde_json::Value, crate::generated::runtime::HandlerError> {
    Ok(serde_json::Value::from(input.n))
}

/// The bare tool's operation.
pub async fn bare(
    input: crate::generated::tools::bare::BareInput,
    _context: crate::generated::runtime::Context<'_>,
) -> Result<serde_json::Value, crate::generated::runtime::HandlerError> {
    Ok(serde_json::Value::from(input.n))
}
