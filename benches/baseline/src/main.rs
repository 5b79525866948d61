//! The smallest reasonable rmcp stdio server with a `greet` and a `date` tool.

use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    JsonObject, ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};

#[derive(Clone)]
struct Server;

fn schema(text: &str) -> Arc<JsonObject> {
    Arc::new(serde_json::from_str(text).unwrap_or_default())
}

impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("baseline-server", "0.1.0"))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(vec![
            Tool::new("greet", "Greet a person by name", schema(r#"{"type":"object","properties":{"name":{"type":"string"},"greeting":{"type":"string","default":"Hello"}},"required":["name"]}"#)),
            Tool::new("date", "Print the current date", schema(r#"{"type":"object","properties":{}}"#)),
        ]))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let arguments = request.arguments.unwrap_or_default();
        let text = match request.name.as_ref() {
            "greet" => {
                let name = arguments.get("name").and_then(|v| v.as_str()).unwrap_or("you");
                let greeting = arguments.get("greeting").and_then(|v| v.as_str()).unwrap_or("Hello");
                format!("{greeting}, {name}!")
            }
            "date" => {
                let output = tokio::process::Command::new("date")
                    .arg("+%Y-%m-%d")
                    .output()
                    .await
                    .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
                String::from_utf8_lossy(&output.stdout).into_owned()
            }
            other => return Err(ErrorData::invalid_params(format!("unknown tool `{other}`"), None)),
        };
        Ok(CallToolResult::success(vec![ContentBlock::text(text)]).into())
    }
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt().with_writer(std::io::stderr).with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    match Server.serve(rmcp::transport::stdio()).await {
        Ok(service) => {
            let _ = service.waiting().await;
        }
        Err(error) => tracing::error!(%error, "cannot start"),
    }
}
