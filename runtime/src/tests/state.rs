//! The state store, with the stand-in limits: 2 entries, 500 ms.

use crate::generated::runtime::State;

#[test]
fn values_are_stored_typed_and_removed() {
    let state = State::default();
    assert_eq!(state.get::<u32>("n"), None);
    assert_eq!(state.set("n", &3_u32), Ok(()));
    assert_eq!(state.get::<u32>("n"), Some(3));
    assert_eq!(state.get::<String>("n"), None, "another type");
    assert!(state.remove("n"));
    assert!(!state.remove("n"));
    assert_eq!(state.get::<u32>("n"), None);
}

#[test]
fn the_oldest_write_is_evicted_when_full() {
    let state = State::default();
    for key in ["a", "b", "c"] {
        assert_eq!(state.set(key, &key), Ok(()));
    }
    assert_eq!(state.get::<String>("a"), None);
    assert_eq!(state.get::<String>("b").as_deref(), Some("b"));
    // Rewriting a key takes no room and makes it the newest.
    assert_eq!(state.set("b", &"b2"), Ok(()));
    assert_eq!(state.get::<String>("c").as_deref(), Some("c"));
    assert_eq!(state.set("d", &"d"), Ok(()));
    assert_eq!(state.get::<String>("c"), None);
    assert_eq!(state.get::<String>("b").as_deref(), Some("b2"));
    assert_eq!(state.get::<String>("d").as_deref(), Some("d"));
}

#[test]
fn entries_expire() {
    let state = State::default();
    assert_eq!(state.set("n", &1_u8), Ok(()));
    assert_eq!(state.get::<u8>("n"), Some(1));
    std::thread::sleep(std::time::Duration::from_millis(550));
    assert_eq!(state.get::<u8>("n"), None);
    assert!(!state.remove("n"), "an expired entry is dropped when read");
}
