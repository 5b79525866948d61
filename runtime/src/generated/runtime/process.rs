//! The guard that kills what a cli tool started when its call is dropped.

/// Kills a command's whole process group if it is dropped before the command finished.
#[derive(Debug)]
pub struct ProcessGroup(Option<u32>);

impl ProcessGroup {
    /// Watches the group a just-spawned child leads.
    pub fn of(child: &tokio::process::Child) -> Self {
        Self(child.id())
    }

    /// The command finished by itself: nothing to kill.
    pub fn finished(&mut self) {
        self.0 = None;
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(id) = self.0.and_then(|id| i32::try_from(id).ok()) {
            // The group may already be gone; there is nothing useful to do about an error.
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(id),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}
