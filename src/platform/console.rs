//! The terminal a command was typed in, and the descriptors a run hands on to what it
//! starts. On Windows the binary is a GUI-subsystem program, so
//! a softphone's hook (`pyrus-phone event ring N`) or a `tel:` link flashes no console
//! window; a command typed in a console attaches to that console here, so its output and
//! errors still reach it. Elsewhere a process simply inherits its terminal.
//!
//! One binary rather than a second console-subsystem one for the CLI: every hook, link and
//! script names the same program, and an installer registers one path. The cost, on
//! Windows: `cmd.exe` does not wait for a GUI-subsystem program, so a script that needs the
//! exit code runs it with `start /wait`.
//!
//! A program started and left running (the instance a softphone's hook starts) must not keep
//! what the softphone leaked into the hook: see
//! [`keep_inherited_descriptors_from_children`].

/// Connects standard output and error to the console of the process that started this one,
/// where they are not connected already (Windows). Returns whether anyone sees what this
/// process writes to standard error: false for a program started by the desktop (a menu,
/// a link, login), whose fatal errors must then be shown in a dialog.
pub fn attach_to_parent() -> bool {
    #[cfg(windows)]
    {
        windows::attach_to_parent()
    }
    #[cfg(not(windows))]
    {
        use std::io::IsTerminal as _;
        // Started by the desktop, standard error goes to a log nobody reads (or nowhere):
        // only a terminal is sure to be seen.
        std::io::stderr().is_terminal()
    }
}

/// Marks every descriptor this process inherited above standard error close-on-exec, so a
/// program it starts and leaves running gets none of them (Linux). A softphone may leak its
/// own into a call script — Twinkle hands a script its SIP sockets, its lock file and extra
/// copies of the pipe it reads the script's output from — and waits for that output to end:
/// an instance started from the script holding a copy would keep the call waiting for as
/// long as it runs. Returns how many were marked.
pub fn keep_inherited_descriptors_from_children() -> usize {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::BorrowedFd;
        let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
            return 0;
        };
        let raw: Vec<i32> = entries
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().to_str()?.parse().ok())
            .filter(|fd| *fd > 2)
            .collect();
        raw.into_iter()
            .filter(|&fd| {
                // The listing's own descriptor is gone by now: the call fails for it, and for
                // any closed since, harmlessly.
                #[expect(unsafe_code, reason = "a descriptor of this process, by number")]
                let fd = unsafe { BorrowedFd::borrow_raw(fd) };
                rustix::io::fcntl_getfd(fd)
                    .and_then(|flags| {
                        rustix::io::fcntl_setfd(fd, flags | rustix::io::FdFlags::CLOEXEC)
                    })
                    .is_ok()
            })
            .count()
    }
    #[cfg(not(target_os = "linux"))]
    {
        0
    }
}

/// Lets this process hear every signal its starter blocked (Unix): a process starts with
/// the signals its starter blocked still blocked, and a softphone may block them — Twinkle
/// runs its call scripts with SIGTERM, SIGINT, SIGALRM and SIGCHLD blocked, so an instance
/// started from one would not stop at logout. Call it before any thread starts (each takes
/// the mask of the thread that starts it).
pub fn hear_stop_signals() {
    #[cfg(unix)]
    {
        #[expect(unsafe_code, reason = "the signal mask, through the C library")]
        let unblocked = unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&raw mut set);
            libc::pthread_sigmask(libc::SIG_SETMASK, &raw const set, std::ptr::null_mut())
        };
        if unblocked != 0 {
            tracing::warn!(code = unblocked, "the stop signals could not be unblocked");
        }
    }
}

#[cfg(windows)]
mod windows {
    use std::fs::OpenOptions;
    use std::os::windows::io::IntoRawHandle as _;

    use windows_sys::Win32::Foundation::{HANDLE, INVALID_HANDLE_VALUE};
    use windows_sys::Win32::System::Console::{
        ATTACH_PARENT_PROCESS, AttachConsole, GetStdHandle, STD_ERROR_HANDLE, STD_HANDLE,
        STD_OUTPUT_HANDLE, SetStdHandle,
    };

    fn connected(which: STD_HANDLE) -> bool {
        // SAFETY: GetStdHandle only reads the process's standard handle table.
        #[expect(unsafe_code, reason = "reading the process's standard handles")]
        let handle: HANDLE = unsafe { GetStdHandle(which) };
        !handle.is_null() && handle != INVALID_HANDLE_VALUE
    }

    pub(super) fn attach_to_parent() -> bool {
        // Redirected by the caller (a pipe, a file): already connected, nothing to attach.
        if connected(STD_ERROR_HANDLE) {
            return true;
        }
        // SAFETY: AttachConsole takes a process id (here the parent's pseudo id) and only
        // fails when there is no console to attach to.
        #[expect(unsafe_code, reason = "attaching to the parent's console")]
        let attached = unsafe { AttachConsole(ATTACH_PARENT_PROCESS) } != 0;
        if !attached {
            return false;
        }
        // The standard handles of a GUI-subsystem process stay empty after attaching on
        // some Windows versions: point them at the console's output.
        for which in [STD_OUTPUT_HANDLE, STD_ERROR_HANDLE] {
            if connected(which) {
                continue;
            }
            if let Ok(console) = OpenOptions::new().read(true).write(true).open("CONOUT$") {
                // The handle is given to the process for its whole life (never closed).
                let raw = console.into_raw_handle();
                // SAFETY: `raw` is a valid, open console handle owned by nobody else now.
                #[expect(unsafe_code, reason = "setting a standard handle")]
                let _ = unsafe { SetStdHandle(which, raw) };
            }
        }
        true
    }
}
