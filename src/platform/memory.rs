//! The C allocator's arenas. glibc gives each thread that allocates while another does an
//! arena of its own, and keeps it — with whatever is free in it — for the life of the
//! process: the window, two runtime workers, the blocking pool and the start-up threads held
//! some 7 MiB that way at rest. Two arenas are plenty for what this program allocates.
//! Linux with glibc only; elsewhere this does nothing.

/// Limits the allocator to two arenas. Call it first in `main`, before any thread starts.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    glibc::limit_arenas();
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[expect(
    unsafe_code,
    reason = "a declaration of a C library function, which Rust cannot check"
)]
mod glibc {
    use std::ffi::c_int;

    unsafe extern "C" {
        // SAFETY: glibc's `int mallopt(int param, int value)`, as declared in <malloc.h>; it
        // only sets a parameter of the allocator, and is safe to call at any time.
        safe fn mallopt(param: c_int, value: c_int) -> c_int;
    }

    /// glibc's `M_ARENA_MAX`.
    const M_ARENA_MAX: c_int = -8;

    pub(super) fn limit_arenas() {
        // 1 when it was set; when not, the allocator keeps its default (nothing breaks).
        let _set = mallopt(M_ARENA_MAX, 2);
    }
}
