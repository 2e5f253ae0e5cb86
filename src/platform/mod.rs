//! Thin shims over the operating system that tests replace: where files live, and how a
//! link is opened.

pub mod browser;
pub mod paths;
