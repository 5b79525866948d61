//! The bulkhead's cases: it admits `max_concurrent`, queues up to `max_queued` for up to
//! `queue_wait`, rejects the next, and under contention neither exceeds its bound nor loses
//! a wakeup.

use proc_macro2::TokenStream;
use quote::quote;

use crate::plan::BulkheadPlan;

/// Largest queue the generated tests fill one waiter at a time.
const MAX_FILLED_QUEUE: u32 = 10_000;

/// Every case of the tool's bulkhead.
pub fn cases(bulkhead: &BulkheadPlan) -> TokenStream {
    let stress = stress_case();
    let fill = fill_case(bulkhead);
    quote! {
        #stress
        #fill
    }
}

fn stress_case() -> TokenStream {
    quote! {
        #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn under_contention_the_bulkhead_never_exceeds_max_concurrent_nor_loses_a_wakeup() {
            let server = Server::new();
            let active = ::std::sync::Arc::new(::std::sync::atomic::AtomicU32::new(0));
            let most = ::std::sync::Arc::new(::std::sync::atomic::AtomicU32::new(0));
            let tasks: Vec<_> = (0..32)
                .map(|_| {
                    let (server, active, most) = (server.clone(), active.clone(), most.clone());
                    ::tokio::spawn(async move {
                        for _ in 0..50 {
                            let Ok(permit) = guards(&server).bulkhead.enter().await else {
                                continue;
                            };
                            let now = active.fetch_add(1, ::std::sync::atomic::Ordering::SeqCst) + 1;
                            most.fetch_max(now, ::std::sync::atomic::Ordering::SeqCst);
                            ::tokio::task::yield_now().await;
                            active.fetch_sub(1, ::std::sync::atomic::Ordering::SeqCst);
                            drop(permit);
                        }
                    })
                })
                .collect();
            // A lost wakeup would leave a waiter asleep forever: fail instead of hanging.
            let all = async {
                for task in tasks {
                    assert!(task.await.is_ok());
                }
            };
            assert!(::tokio::time::timeout(::std::time::Duration::from_secs(60), all).await.is_ok(), "a waiter was never woken");
            assert!(most.load(::std::sync::atomic::Ordering::SeqCst) <= MAX_CONCURRENT);
            let bulkhead = &guards(&server).bulkhead;
            assert_eq!((bulkhead.in_flight(), bulkhead.queued()), (0, 0));
        }
    }
}

/// The bulkhead filled to its bound: every slot, then the queue (or one waiter when the
/// queue is unbounded or too long to fill), then what happens to the waiters.
fn fill_case(bulkhead: &BulkheadPlan) -> TokenStream {
    let (name, queued, reject) = queue_rule(bulkhead);
    let wait = waiters_end(bulkhead);
    quote! {
        #[::tokio::test(start_paused = true)]
        async fn #name() {
            let server = Server::new();
            let bulkhead = &guards(&server).bulkhead;
            let mut held = Vec::new();
            for _ in 0..MAX_CONCURRENT {
                held.push(bulkhead.enter().await);
            }
            assert!(held.iter().all(Result::is_ok));
            assert_eq!(bulkhead.in_flight(), MAX_CONCURRENT);
            let queued: u32 = #queued;
            let waiters: Vec<_> = (0..queued)
                .map(|_| {
                    let server = server.clone();
                    ::tokio::spawn(async move { guards(&server).bulkhead.enter().await.map(drop) })
                })
                .collect();
            for _ in 0..(queued + 10) * 4 {
                if bulkhead.queued() == queued {
                    break;
                }
                ::tokio::task::yield_now().await;
            }
            assert_eq!(bulkhead.queued(), queued);
            #reject
            #wait
        }
    }
}

/// The case's name, how many wait in the queue, and the check of the caller after them: a
/// bounded queue is filled and the next caller rejected; an unbounded one gets a waiter.
fn queue_rule(bulkhead: &BulkheadPlan) -> (TokenStream, TokenStream, TokenStream) {
    match bulkhead.max_queued {
        Some(queued) if queued <= MAX_FILLED_QUEUE => (
            quote!(the_bulkhead_admits_max_concurrent_queues_max_queued_and_rejects_the_next),
            quote!(MAX_QUEUED),
            quote! {
                let next = bulkhead.enter().await;
                assert_eq!(next.err(), Some(ToolError::BulkheadFull { waited_ms: None }), "one caller too many");
            },
        ),
        _ => (
            quote!(the_bulkhead_admits_max_concurrent_and_queues_the_next),
            quote!(1),
            quote!(),
        ),
    }
}

/// How the waiters end: after exactly `queue_wait` when nobody leaves, else admitted as the
/// slots are given back.
fn waiters_end(bulkhead: &BulkheadPlan) -> TokenStream {
    match bulkhead.wait {
        Some(_) => quote! {
            // Nobody leaves: every waiter gives up after exactly QUEUE_WAIT_MS.
            let start = ::tokio::time::Instant::now();
            for waiter in waiters {
                assert_eq!(waiter.await.ok(), Some(Err(ToolError::BulkheadFull { waited_ms: Some(QUEUE_WAIT_MS) })));
            }
            if queued > 0 {
                assert_eq!(start.elapsed(), ::std::time::Duration::from_millis(QUEUE_WAIT_MS));
            }
            drop(held);
        },
        None => quote! {
            drop(held);
            for waiter in waiters {
                assert_eq!(waiter.await.ok(), Some(Ok(())));
            }
        },
    }
}
