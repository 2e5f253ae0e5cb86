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

/// What moving or republishing the hook could not do.
#[derive(Debug, thiserror::Error)]
pub enum HookPortError {
    /// The runtime file could not be written.
    #[error("The new token is in use, but command hooks cannot find it: see the log")]
    NotPublished,
    /// The configured port is still another program's.
    #[error("port {port} is still taken ({why})")]
    StillTaken {
        /// The configured port.
        port: u16,
        /// What binding it said.
        why: String,
    },
}

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
    /// The listener; held while it is replaced or published, so the runtime file always
    /// names the port and token in use.
    server: tokio::sync::Mutex<Option<HookServer>>,
    /// Where the token is kept now ("New token" may change it).
    token_origin: std::sync::Mutex<TokenOrigin>,
}

impl RunningHook {
    /// Starts the hook on the configured port, or on a free loopback port when that one is
    /// taken; publishes it and reports its health. `None` when it could not listen at all
    /// (the doctor says why).
    pub async fn start(plan: HookPlan, monitor: Arc<Monitor>) -> Option<Arc<Self>> {
        let wanted = plan.options.port;
        let token_origin = std::sync::Mutex::new(plan.token_origin.clone());
        let hook = Self {
            plan,
            monitor,
            server: tokio::sync::Mutex::new(None),
            token_origin,
        };
        let (server, taken) = match hook.listen(wanted, hook.plan.options.network).await {
            Ok(server) => (server, None),
            // Another program holds the port: a free one on this computer keeps command
            // hooks working (never a random port on the network).
            Err(e) if wanted != 0 && e.kind() == std::io::ErrorKind::AddrInUse => {
                match hook.listen(0, false).await {
                    Ok(server) => {
                        let why = e.to_string();
                        tracing::warn!(port = wanted, instead = server.addr.port(), error = %why, "the hook's port is taken");
                        (server, Some(why))
                    }
                    Err(e) => {
                        hook.report(None, Some(format!("port {wanted}: {e}")));
                        return None;
                    }
                }
            }
            Err(e) => {
                hook.report(None, Some(format!("port {wanted}: {e}")));
                return None;
            }
        };
        let addr = server.addr;
        let mut current = hook.server.lock().await;
        *current = Some(server);
        hook.publish(addr).await;
        drop(current);
        hook.report(Some(addr), taken);
        Some(Arc::new(hook))
    }

    /// The token was replaced (the cell holds the new one): publishes it for command hooks
    /// and says where it is kept.
    pub async fn token_renewed(&self, origin: TokenOrigin) -> Result<(), HookPortError> {
        *self
            .token_origin
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = origin.clone();
        self.monitor.update_hook(|h| h.token_origin = origin);
        let current = self.server.lock().await;
        match current.as_ref() {
            Some(server) => {
                if self.publish(server.addr).await {
                    Ok(())
                } else {
                    Err(HookPortError::NotPublished)
                }
            }
            None => Ok(()),
        }
    }

    /// Stops listening and withdraws the runtime file (the instance is stopping).
    pub async fn stop(&self) {
        let mut current = self.server.lock().await;
        *current = None;
        let dir = self.plan.runtime_dir.clone();
        tokio::task::spawn_blocking(move || runtime_file::withdraw(&dir))
            .await
            .ok();
    }

    /// Where it listens now.
    pub async fn addr(&self) -> Option<SocketAddr> {
        self.server.lock().await.as_ref().map(|s| s.addr)
    }

    /// Tries the configured port again; on success the hook moves there and the runtime
    /// file follows. Returns where it listens afterwards.
    pub async fn check_again(&self) -> Result<SocketAddr, HookPortError> {
        let wanted = self.plan.options.port;
        let mut current = self.server.lock().await;
        if let Some(server) = current.as_ref()
            && (server.addr.port() == wanted || wanted == 0)
        {
            return Ok(server.addr);
        }
        match self.listen(wanted, self.plan.options.network).await {
            Ok(server) => {
                let addr = server.addr;
                // The old listener stops as it is dropped; requests in flight finish.
                *current = Some(server);
                self.publish(addr).await;
                drop(current);
                self.report(Some(addr), None);
                tracing::info!(%addr, "the hook is back on its port");
                Ok(addr)
            }
            Err(e) => {
                let why = e.to_string();
                let addr = current.as_ref().map(|s| s.addr);
                drop(current);
                self.report(addr, Some(why.clone()));
                Err(HookPortError::StillTaken { port: wanted, why })
            }
        }
    }

    async fn listen(&self, port: u16, network: bool) -> std::io::Result<HookServer> {
        http_hook::start(
            HookOptions {
                port,
                network,
                ..self.plan.options.clone()
            },
            self.plan.token.clone(),
            self.plan.outputs.clone(),
            Arc::clone(&self.monitor),
        )
        .await
    }

    /// Writes the runtime file so command hooks find this port (call with the server lock
    /// held); false when it could not be written.
    async fn publish(&self, addr: SocketAddr) -> bool {
        let dir = self.plan.runtime_dir.clone();
        let published = runtime_file::Instance {
            port: addr.port(),
            token: self.plan.token.get().expose().to_owned(),
            pid: std::process::id(),
        };
        let written =
            tokio::task::spawn_blocking(move || runtime_file::publish(&dir, &published)).await;
        match written {
            Ok(Ok(())) => true,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "command hooks cannot find this instance");
                false
            }
            Err(e) => {
                tracing::error!(error = %e, "command hooks cannot find this instance");
                false
            }
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
            token_origin: self
                .token_origin
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone(),
            allow: if self.plan.options.network {
                self.plan.allow_text.clone()
            } else {
                Vec::new()
            },
        });
    }
}
