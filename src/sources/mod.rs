//! Where call events come from: the loopback HTTP hook (softphone URL hooks, desk phones,
//! and the `pyrus-phone event` command of a second process). Every source turns what it
//! hears into `domain::CallEvent`s on one bounded channel.

pub mod baresip;
pub mod forward;
pub mod hook_port;
pub mod http_hook;
pub mod monitor;
pub mod runtime_file;
