//! The fallback chain's cases: it runs in order and marks the answer degraded, names every
//! failure when all fail, and leaves an answer that is not a failure alone.

use proc_macro2::TokenStream;
use quote::quote;

use crate::plan::ToolPlan;

/// Every case of the tool's fallbacks, with the `fall_back` helper they share.
pub fn cases(tool: &ToolPlan) -> TokenStream {
    let chain = chain_case();
    let exhausted = exhausted_case();
    let not_replaced = not_replaced_case(tool);
    quote! {
        /// The tool's fallback layer, as `invoke` runs it.
        async fn fall_back<F, Fut>(server: &Server, error: ToolError, fallback: F) -> Result<Answer, ToolError>
        where
            F: FnMut(usize, ToolError) -> Fut,
            Fut: ::std::future::Future<Output = Result<Value, ToolError>>,
        {
            FALLBACKS.run(server.stats().of(INDEX, NAME), error, fallback).await
        }

        #chain
        #exhausted
        #not_replaced
    }
}

fn chain_case() -> TokenStream {
    quote! {
        #[::tokio::test]
        async fn the_fallback_chain_runs_in_order_and_marks_the_answer_degraded() {
            let server = Server::new();
            let order = ::std::sync::Mutex::new(Vec::new());
            let last = FALLBACKS.labels.len() - 1;
            let primary = ToolError::Connection("injected".to_owned());
            let outcome = fall_back(&server, primary.clone(), |index, error| {
                order.lock().unwrap_or_else(::std::sync::PoisonError::into_inner).push(index);
                async move {
                    assert_eq!(error, ToolError::Connection("injected".to_owned()));
                    if index == last { Ok(Value::from("degraded")) } else { Err(ToolError::Handler(format!("fallback {index} injected"))) }
                }
            })
            .await;
            let order = order.into_inner().unwrap_or_else(::std::sync::PoisonError::into_inner);
            let in_order: Vec<usize> = (0..FALLBACKS.labels.len()).collect();
            assert_eq!(order, in_order);
            let degraded = runtime::Degraded { fallback: FALLBACKS.labels[last].to_owned(), error: primary.to_string() };
            let expected = Answer { value: Value::from("degraded"), degraded: Some(degraded) };
            assert_eq!(outcome, Ok(expected));
        }
    }
}

fn exhausted_case() -> TokenStream {
    quote! {
        #[::tokio::test]
        async fn when_every_fallback_fails_the_error_names_each_failure() {
            let server = Server::new();
            let outcome = fall_back(&server, ToolError::Timeout(::std::time::Duration::from_millis(7)), |index, _| async move {
                Err(ToolError::Handler(format!("fallback {index} injected")))
            })
            .await;
            let Err(error) = outcome else { panic!("every fallback failed, yet: {outcome:?}") };
            let message = error.to_string();
            assert!(message.starts_with("timed out after 7 ms"), "{message}");
            for (index, label) in FALLBACKS.labels.iter().enumerate() {
                assert!(message.contains(&format!("{label}: fallback {index} injected")), "{message}");
            }
        }
    }
}

fn not_replaced_case(tool: &ToolPlan) -> TokenStream {
    // Without a retry loop, the fallback layer is where the primary failure is recorded.
    let tracked = tool.policy.retry.is_none().then(|| {
        quote! {
            let errors = &server.stats().tool(INDEX).errors;
            let validation = errors[crate::generated::stats::ErrorClass::Validation as usize].load(::std::sync::atomic::Ordering::Relaxed);
            assert_eq!(validation, 1, "the 404 is tracked");
        }
    });
    quote! {
        #[::tokio::test]
        async fn an_answer_that_is_not_a_failure_is_not_replaced() {
            let server = Server::new();
            let not_found = ToolError::Status { status: 404, retry_after: None, body: String::new() };
            let outcome = fall_back(&server, not_found.clone(), |_, _| async { Ok(Value::Null) }).await;
            assert_eq!(outcome, Err(not_found));
            #tracked
        }
    }
}
