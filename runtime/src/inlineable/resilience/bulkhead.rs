//! The bulkhead: one per tool, its limits const generics.

use crate::generated::runtime::ToolError;

/// `QUEUE` value of a bulkhead whose callers may all wait.
pub const UNBOUNDED: u32 = u32::MAX;

/// `WAIT_MS` value of a bulkhead whose callers wait until a slot frees.
pub const FOREVER: u64 = u64::MAX;

/// A bulkhead: at most `MAX` attempts in flight, at most `QUEUE` callers waiting for a
/// slot (one more is rejected at once), each waiting at most `WAIT_MS`, first come first
/// served. Taking and giving back a slot is one atomic operation each, with no lock; only a
/// caller that has to wait touches the wait queue.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread()
/// #     .enable_time()
/// #     .build()
/// #     .map_err(|e| e.to_string())?
/// #     .block_on(async {
/// use pforge_runtime::generated::resilience::Bulkhead;
/// use pforge_runtime::generated::runtime::ToolError;
///
/// // 1 slot, nobody may wait.
/// let bulkhead = Bulkhead::<1, 0, 100>::default();
/// let slot = bulkhead.enter().await;
/// assert!(slot.is_ok());
/// assert_eq!(bulkhead.enter().await.err(), Some(ToolError::BulkheadFull { waited_ms: None }));
/// drop(slot);
/// assert!(bulkhead.enter().await.is_ok());
/// # Ok::<(), String>(())
/// # })?; Ok::<(), String>(())
/// ```
#[derive(Debug, Default)]
pub struct Bulkhead<const MAX: u32, const QUEUE: u32, const WAIT_MS: u64> {
    in_flight: std::sync::atomic::AtomicU32,
    queued: std::sync::atomic::AtomicU32,
    freed: tokio::sync::Notify,
}

/// A slot of a bulkhead, given back when dropped.
#[derive(Debug)]
#[must_use = "the slot is given back as soon as the permit is dropped"]
pub struct Permit<'a, const MAX: u32, const QUEUE: u32, const WAIT_MS: u64>(
    &'a Bulkhead<MAX, QUEUE, WAIT_MS>,
);

impl<const MAX: u32, const QUEUE: u32, const WAIT_MS: u64> Drop
    for Permit<'_, MAX, QUEUE, WAIT_MS>
{
    fn drop(&mut self) {
        use std::sync::atomic::Ordering;
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
        if self.0.queued.load(Ordering::Acquire) > 0 {
            // A woken waiter that has gone (timed out, cancelled) passes this on to the next.
            self.0.freed.notify_one();
        }
    }
}

/// Counts a caller out of the queue however its wait ends, a cancellation included.
struct Waiting<'a>(&'a std::sync::atomic::AtomicU32);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

impl<const MAX: u32, const QUEUE: u32, const WAIT_MS: u64> Bulkhead<MAX, QUEUE, WAIT_MS> {
    /// Attempts in flight at once.
    pub const MAX_CONCURRENT: u32 = MAX;
    /// Callers that may wait for a slot ([`UNBOUNDED`] for no limit).
    pub const MAX_QUEUED: u32 = QUEUE;
    /// How long a caller waits for a slot, in milliseconds ([`FOREVER`] for no limit).
    pub const QUEUE_WAIT_MS: u64 = WAIT_MS;

    fn take(&self) -> Option<Permit<'_, MAX, QUEUE, WAIT_MS>> {
        use std::sync::atomic::Ordering;
        self.in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < MAX).then_some(n + 1)
            })
            .ok()
            .map(|_| Permit(self))
    }

    /// A slot for one attempt, held until the permit is dropped.
    pub async fn enter(&self) -> Result<Permit<'_, MAX, QUEUE, WAIT_MS>, ToolError> {
        use std::sync::atomic::Ordering;
        // Callers already waiting go first.
        if self.queued.load(Ordering::Acquire) == 0
            && let Some(permit) = self.take()
        {
            return Ok(permit);
        }
        let ahead = self.queued.fetch_add(1, Ordering::AcqRel);
        let _waiting = Waiting(&self.queued);
        if QUEUE != UNBOUNDED && ahead >= QUEUE {
            return Err(ToolError::BulkheadFull { waited_ms: None });
        }
        let wait = async {
            loop {
                // Registered before trying, so a slot freed in between still wakes us.
                let mut freed = std::pin::pin!(self.freed.notified());
                freed.as_mut().enable();
                if let Some(permit) = self.take() {
                    return permit;
                }
                freed.await;
            }
        };
        if WAIT_MS == FOREVER {
            return Ok(wait.await);
        }
        tokio::time::timeout(std::time::Duration::from_millis(WAIT_MS), wait)
            .await
            .map_err(|_| ToolError::BulkheadFull {
                waited_ms: Some(WAIT_MS),
            })
    }

    /// Attempts in flight now.
    pub fn in_flight(&self) -> u32 {
        self.in_flight.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Slots: attempts that may run at once.
    pub fn capacity(&self) -> u32 {
        MAX
    }

    /// Callers waiting for a slot now.
    pub fn queued(&self) -> u32 {
        self.queued.load(std::sync::atomic::Ordering::Acquire)
    }
}

impl<const MAX: u32, const QUEUE: u32, const WAIT_MS: u64> super::Enter
    for Bulkhead<MAX, QUEUE, WAIT_MS>
{
    type Permit<'a> = Permit<'a, MAX, QUEUE, WAIT_MS>;

    fn enter(&self) -> impl Future<Output = Result<Self::Permit<'_>, ToolError>> + Send {
        Bulkhead::enter(self)
    }
}
