//! The in-memory key-value store of `state: memory`. Its limits, `STATE_TTL` and `STATE_MAX`,
//! come from the plan and live in the module root.

use serde_json::Value;

use super::{HandlerError, STATE_MAX, STATE_TTL};

#[derive(Debug)]
struct Entry {
    value: Value,
    written: std::time::Instant,
    // Insertion order, for evicting the oldest entry.
    order: u64,
}

/// The in-memory key-value store native handlers share (`state: memory`).
#[derive(Debug, Default)]
pub struct State {
    // One lock over the entries and the insertion counter, so that eviction order and
    // contents cannot disagree.
    entries: std::sync::Mutex<(std::collections::HashMap<String, Entry>, u64)>,
}

impl State {
    /// The value under `key`, if present, not expired, and of type `T`.
    pub fn get<T: serde::de::DeserializeOwned>(&self, key: &str) -> Option<T> {
        let mut guard = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let expired = guard
            .0
            .get(key)
            .is_some_and(|e| STATE_TTL.is_some_and(|ttl| e.written.elapsed() >= ttl));
        if expired {
            guard.0.remove(key);
            return None;
        }
        guard
            .0
            .get(key)
            .and_then(|e| serde_json::from_value(e.value.clone()).ok())
    }

    /// Stores `value` under `key`, evicting the oldest entry when the store is full.
    pub fn set<T: serde::Serialize>(&self, key: &str, value: &T) -> Result<(), HandlerError> {
        let value = serde_json::to_value(value).map_err(HandlerError::new)?;
        let mut guard = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (entries, counter) = &mut *guard;
        *counter += 1;
        if let Some(max) = STATE_MAX {
            while entries.len() >= max && !entries.contains_key(key) {
                let oldest = entries
                    .iter()
                    .min_by_key(|(_, e)| e.order)
                    .map(|(k, _)| k.clone());
                match oldest {
                    Some(oldest) => entries.remove(&oldest),
                    None => break,
                };
            }
        }
        entries.insert(
            key.to_owned(),
            Entry {
                value,
                written: std::time::Instant::now(),
                order: *counter,
            },
        );
        Ok(())
    }

    /// Removes `key`; true when it was present.
    pub fn remove(&self, key: &str) -> bool {
        let mut guard = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        guard.0.remove(key).is_some()
    }
}
