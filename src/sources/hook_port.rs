//! The hook as an instance runs it: on the configured port, or — when another program holds
//! that port — on a free loopback port, so command hooks and Simulate still work; published
//! in the runtime file for command hooks; and "Check again" moves it back to the configured
//! port once that is free (desk phones are set up with the fixed port).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use super::http_hook::{self, HookOptions, HookOutputs, HookServer, TokenCell};
use super::monitor::Monitor;
use super::runtime_file;
use crate::domain::{HookHealth, TokenOrigin};

/// What the running hook was asked for, and how it answers.
#[derive(Debug)]
pub struct HookPlan {
    /// The configured port, network setting and allowed addresses.
    pub options: HookOptions,
    /// The allowed addresses as the settings spell them (for the doctor).
    pub allow_text: Vec<String>,
    /// The token.
    pub token: TokenCell,
    /// Where the token comes from.
    pub token_origin: TokenOrigin,
    /// Where events and "show the window" go.
    pub outputs: HookOutputs,
    /// Where the runtime file goes.
    pub runtime_dir: PathBuf,
}

/// The hook of a running instance.
#[derive(Debug)]
pub struct RunningHook {
    plan: HookPlan,
    monitor: Arc<Monitor>,
    server: tokio::sync::Mutex<Option<HookServer>>,
}

impl RunningHook {
    /// Starts the hook on the configured port, or on a free loopback port when that one is
    /// taken; publishes it and reports its health. `None` when it could not listen at all
    /// (the doctor says why).
    pub async fn start(plan: HookPlan, monitor: Arc<Monitor>) -> Option<Arc<Self>> {
        let wanted = plan.options.port;
        let hook = Self {
            plan,
            monitor,
            server: tokio::sync::Mutex::new(None),
        };
        let (server, taken) = match hook.listen(wanted).await {
            Ok(server) => (server, None),
            Err(e) if wanted != 0 => match hook.listen(0).await {
                Ok(server) => {
                    let why = e.to_string();
                    tracing::warn!(port = wanted, instead = server.addr.port(), error = %why, "the hook's port is taken");
                    (server, Some(why))
                }
                Err(e) => {
                    hook.report(None, Some(format!("port {wanted}: {e}")));
                    return None;
                }
            },
            Err(e) => {
                hook.report(None, Some(format!("port {wanted}: {e}")));
                return None;
            }
        };
        let addr = server.addr;
        *hook.server.lock().await = Some(server);
        hook.publish(addr).await;
        hook.report(Some(addr), taken);
        Some(Arc::new(hook))
    }

    /// Where it listens now.
    pub async fn addr(&self) -> Option<SocketAddr> {
        self.server.lock().await.as_ref().map(|s| s.addr)
    }

    /// Tries the configured port again; on success the hook moves there and the runtime
    /// file follows. Returns where it listens afterwards.
    pub async fn check_again(&self) -> Result<SocketAddr, String> {
        let wanted = self.plan.options.port;
        let mut current = self.server.lock().await;
        if let Some(server) = current.as_ref()
            && (server.addr.port() == wanted || wanted == 0)
        {
            return Ok(server.addr);
        }
        match self.listen(wanted).await {
            Ok(server) => {
                let addr = server.addr;
                // The old listener stops as it is dropped; requests in flight finish.
                *current = Some(server);
                drop(current);
                self.publish(addr).await;
                self.report(Some(addr), None);
                tracing::info!(%addr, "the hook is back on its port");
                Ok(addr)
            }
            Err(e) => {
                let why = e.to_string();
                let addr = current.as_ref().map(|s| s.addr);
                drop(current);
                self.report(addr, Some(why.clone()));
                Err(format!("port {wanted} is still taken ({why})"))
            }
        }
    }

    async fn listen(&self, port: u16) -> std::io::Result<HookServer> {
        http_hook::start(
            HookOptions {
                port,
                ..self.plan.options.clone()
            },
            self.plan.token.clone(),
            self.plan.outputs.clone(),
            Arc::clone(&self.monitor),
        )
        .await
    }

    /// Writes the runtime file so command hooks find this port.
    async fn publish(&self, addr: SocketAddr) {
        let dir = self.plan.runtime_dir.clone();
        let published = runtime_file::Instance {
            port: addr.port(),
            token: self.plan.token.get().expose().to_owned(),
            pid: std::process::id(),
        };
        let written =
            tokio::task::spawn_blocking(move || runtime_file::publish(&dir, &published)).await;
        match written {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "command hooks cannot find this instance"),
            Err(e) => tracing::error!(error = %e, "command hooks cannot find this instance"),
        }
    }

    /// Tells the doctor where the hook listens, and which configured port it could not take.
    fn report(&self, listening: Option<SocketAddr>, problem: Option<String>) {
        let wanted = self.plan.options.port;
        let taken = listening.is_some_and(|a| a.port() != wanted) && wanted != 0;
        self.monitor.set_hook(HookHealth {
            listening: listening.map(|a| a.to_string()),
            problem: problem.map(|why| {
                if taken {
                    format!("port {wanted} is taken ({why})")
                } else {
                    why
                }
            }),
            taken_port: taken.then_some(wanted),
            token_origin: self.plan.token_origin.clone(),
            allow: if self.plan.options.network {
                self.plan.allow_text.clone()
            } else {
                Vec::new()
            },
        });
    }
}
