//! The bound on lines read but not yet dealt with: the reader takes a slot for every line
//! before it hands the line on, and the slot comes back when the line's request starts (it
//! then holds a permit of the dispatcher's until its answer is written), when rmcp takes the
//! message, or when the line's error answer is written. A client that pipelines without limit
//! therefore finds stdin unread once the bound is reached, and the server holds at most
//! `max_in_flight` running requests and as many lines waiting.

use std::sync::{Arc, Condvar, Mutex, PoisonError};

/// A counting semaphore for the reader thread, which blocks on it outside the async runtime.
#[derive(Debug)]
pub struct Slots {
    free: Mutex<usize>,
    freed: Condvar,
}

/// One taken slot; dropping it gives it back.
#[derive(Debug)]
pub struct Slot(Arc<Slots>);

impl Slots {
    /// `count` slots, at least one.
    pub fn new(count: usize) -> Arc<Self> {
        Arc::new(Self {
            free: Mutex::new(count.max(1)),
            freed: Condvar::new(),
        })
    }

    /// A slot if one is free now.
    pub fn try_take(self: &Arc<Self>) -> Option<Slot> {
        let mut free = self.free.lock().unwrap_or_else(PoisonError::into_inner);
        (*free > 0).then(|| {
            *free -= 1;
            Slot(Arc::clone(self))
        })
    }

    /// A slot, waiting until one is given back.
    pub fn take(self: &Arc<Self>) -> Slot {
        let mut free = self.free.lock().unwrap_or_else(PoisonError::into_inner);
        while *free == 0 {
            free = self
                .freed
                .wait(free)
                .unwrap_or_else(PoisonError::into_inner);
        }
        *free -= 1;
        Slot(Arc::clone(self))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut free = self.0.free.lock().unwrap_or_else(PoisonError::into_inner);
        *free += 1;
        drop(free);
        self.0.freed.notify_one();
    }
}
