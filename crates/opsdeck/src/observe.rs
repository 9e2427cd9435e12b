//! The `/metrics` listener in a running opsdeck (`[observability]
//! metrics_listen`): the Prometheus recorder is installed and the
//! listener bound before anything else starts, so start-up fails at once
//! on a taken port and no early event goes unrecorded; the server runs
//! under the supervisor as `metrics`, restarted (on the same address) if
//! it ends.

use crate::config::Config;
use crate::supervise::{Policy, Supervisor};
use anyhow::Context;
use metrics_exporter_prometheus::PrometheusHandle;
use opsdeck_metrics::SharedProjection;
use opsdeck_store::Store;
use opsdeck_web::observe::{serve_metrics, MetricsEndpoint};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// The metrics listener, bound, with the recorder it renders.
pub struct MetricsListener {
    listener: TcpListener,
    handle: PrometheusHandle,
}

impl MetricsListener {
    /// Installs the recorder and binds `metrics_listen`, when configured.
    pub async fn prepare(config: &Config) -> anyhow::Result<Option<MetricsListener>> {
        let Some(addr) = config.observability.metrics_listen else {
            return Ok(None);
        };
        let handle = opsdeck_web::observe::prometheus::install()
            .map_err(anyhow::Error::msg)
            .context("cannot install the Prometheus recorder")?;
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr} for /metrics"))?;
        Ok(Some(MetricsListener { listener, handle }))
    }

    /// The address Prometheus scrapes.
    pub fn addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// Serves `/metrics` under `tasks` until the application stops.
    pub fn start(
        self,
        store: Arc<dyn Store>,
        projection: SharedProjection,
        tasks: &mut Supervisor,
    ) -> anyhow::Result<()> {
        let addr = self.addr()?;
        let endpoint = MetricsEndpoint {
            handle: self.handle,
            store,
            projection,
        };
        let mut listener = Some(self.listener);
        let stop = tasks.stop_signal();
        tasks.spawn("metrics", Policy::RESTART, move || {
            let listener = listener.take();
            let (endpoint, mut stop) = (endpoint.clone(), stop.clone());
            async move {
                let listener = match listener {
                    Some(listener) => listener,
                    None => TcpListener::bind(addr)
                        .await
                        .with_context(|| format!("cannot listen on {addr} for /metrics"))?,
                };
                serve_metrics(listener, endpoint, async move {
                    let _ = stop.wait_for(|stopped| *stopped).await;
                })
                .await
                .context("the metrics server failed")
            }
        });
        Ok(())
    }
}
