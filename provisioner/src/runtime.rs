//! Instances through the Docker Engine API (bollard): one container per rental, named and
//! labelled after the rental's address so that every step can first look at what exists.
use std::collections::HashMap;
use std::time::Duration;

use bollard::errors::Error as EngineError;
use bollard::models::{
    ContainerCreateBody, DeviceRequest, HostConfig, PortBinding, ResourcesUlimits,
    VolumeCreateRequest,
};
use bollard::query_parameters::{
    CreateContainerOptions, ListContainersOptions, RemoveContainerOptions, StopContainerOptions,
};
use bollard::{ClientVersion, Docker};
use calor_client::Pubkey;
use tokio::io::AsyncReadExt;

pub const LABEL_RENTAL: &str = "calor.rental";
pub const LABEL_NODE: &str = "calor.node";
pub const LABEL_PROVIDER: &str = "calor.provider";
const SSH_PORT: &str = "22/tcp";
/// The instance image's entrypoint installs this for root (see tools/engine/instance-entrypoint.sh).
pub const SSH_KEY_ENV: &str = "CALOR_SSH_AUTHORIZED_KEY";
/// Podman 4 serves the Docker Engine API at 1.41; Docker Engine accepts it too.
const API_VERSION: ClientVersion = ClientVersion {
    major_version: 1,
    minor_version: 41,
};

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("container engine: {0}")]
    Engine(#[from] EngineError),
    #[error("image {0} is not in the engine (no registry pulls are made)")]
    ImageMissing(String),
    #[error("the engine refused to start the instance: {0}")]
    StartRefused(String),
    #[error("unsupported DOCKER_HOST {0:?}: use unix:///path or tcp://host:port")]
    Endpoint(String),
}

impl RuntimeError {
    /// Failures that retrying cannot fix: the rental is failed and refunded.
    pub fn is_permanent(&self) -> bool {
        matches!(self, Self::ImageMissing(_) | Self::StartRefused(_))
    }
}

/// Per-tenant limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub nofile: (i64, i64),
    pub nproc: (i64, i64),
    pub pids: i64,
}

/// What a rental's instance must be.
#[derive(Debug, Clone)]
pub struct InstanceSpec {
    pub rental: Pubkey,
    pub node: Pubkey,
    pub provider: Pubkey,
    pub image: String,
    /// The renter's key line for root; `None`: a key-less rental (web terminal only).
    pub ssh_public_key: Option<String>,
    pub gpu_uuids: Vec<String>,
    pub attach_gpus: bool,
    pub ssh_bind_ip: String,
    pub limits: Limits,
}

/// A rental's instance as the engine has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub rental: Pubkey,
    pub node: Option<Pubkey>,
    pub container_id: String,
    pub running: bool,
    pub ssh_port: Option<u16>,
}

pub fn container_name(rental: &Pubkey) -> String {
    format!("calor-{rental}")
}

pub fn volume_name(rental: &Pubkey) -> String {
    format!("calor-ws-{rental}")
}

/// The container the engine is asked to create for `spec`: the renter's key, a named volume
/// at /workspace, GPUs by UUID, limits, and SSH published on an engine-chosen host port.
pub fn container_body(spec: &InstanceSpec) -> ContainerCreateBody {
    let labels = HashMap::from([
        (LABEL_RENTAL.to_string(), spec.rental.to_string()),
        (LABEL_NODE.to_string(), spec.node.to_string()),
        (LABEL_PROVIDER.to_string(), spec.provider.to_string()),
    ]);
    let device_requests = (spec.attach_gpus && !spec.gpu_uuids.is_empty()).then(|| {
        vec![DeviceRequest {
            driver: Some("nvidia".into()),
            device_ids: Some(spec.gpu_uuids.clone()),
            capabilities: Some(vec![vec!["gpu".into()]]),
            ..DeviceRequest::default()
        }]
    });
    let ulimit = |name: &str, (soft, hard): (i64, i64)| ResourcesUlimits {
        name: Some(name.into()),
        soft: Some(soft),
        hard: Some(hard),
    };
    let port_bindings = HashMap::from([(
        SSH_PORT.to_string(),
        Some(vec![PortBinding {
            host_ip: Some(spec.ssh_bind_ip.clone()),
            host_port: None,
        }]),
    )]);
    let mut env: Vec<String> = spec
        .ssh_public_key
        .iter()
        .map(|key| format!("{SSH_KEY_ENV}={key}"))
        .collect();
    if !spec.gpu_uuids.is_empty() {
        env.push(format!(
            "NVIDIA_VISIBLE_DEVICES={}",
            spec.gpu_uuids.join(",")
        ));
    }
    ContainerCreateBody {
        image: Some(spec.image.clone()),
        labels: Some(labels),
        env: Some(env),
        exposed_ports: Some(vec![SSH_PORT.into()]),
        host_config: Some(HostConfig {
            binds: Some(vec![format!("{}:/workspace", volume_name(&spec.rental))]),
            port_bindings: Some(port_bindings),
            device_requests,
            ulimits: Some(vec![
                ulimit("nofile", spec.limits.nofile),
                ulimit("nproc", spec.limits.nproc),
            ]),
            pids_limit: Some(spec.limits.pids),
            init: Some(true),
            ..HostConfig::default()
        }),
        ..ContainerCreateBody::default()
    }
}

/// A container engine that runs rentals' instances.
pub trait Runtime: Send + Sync {
    /// Every instance labelled with `provider`.
    fn list(
        &self,
        provider: &Pubkey,
    ) -> impl std::future::Future<Output = Result<Vec<Instance>, RuntimeError>> + Send;
    /// Makes the instance exist and run: inspect → create (with its volume) → start.
    fn ensure(
        &self,
        spec: &InstanceSpec,
    ) -> impl std::future::Future<Output = Result<Instance, RuntimeError>> + Send;
    /// Stops and removes the instance and wipes its volume; nothing to do is not an error.
    fn remove(
        &self,
        rental: &Pubkey,
    ) -> impl std::future::Future<Output = Result<(), RuntimeError>> + Send;
}

/// The Docker Engine API, as served by Docker or Podman.
#[derive(Clone)]
pub struct DockerRuntime {
    docker: Docker,
}

fn status(e: &EngineError) -> Option<u16> {
    match e {
        EngineError::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
}

impl DockerRuntime {
    pub fn connect(endpoint: &str) -> Result<Self, RuntimeError> {
        let docker = if let Some(path) = endpoint.strip_prefix("unix://") {
            Docker::connect_with_unix(path, 120, &API_VERSION)?
        } else if endpoint.starts_with("tcp://") || endpoint.starts_with("http://") {
            Docker::connect_with_http(endpoint, 120, &API_VERSION)?
        } else {
            return Err(RuntimeError::Endpoint(endpoint.into()));
        };
        Ok(Self { docker })
    }

    pub async fn version(&self) -> Result<String, RuntimeError> {
        let v = self.docker.version().await?;
        Ok(format!(
            "{} {} (API {})",
            v.platform.map(|p| p.name).unwrap_or_default(),
            v.version.unwrap_or_default(),
            v.api_version.unwrap_or_default()
        ))
    }

    async fn inspect(&self, rental: &Pubkey) -> Result<Option<Instance>, RuntimeError> {
        match self
            .docker
            .inspect_container(&container_name(rental), None)
            .await
        {
            Ok(c) => {
                let running = c.state.as_ref().and_then(|s| s.running).unwrap_or(false);
                let ssh_port = c
                    .network_settings
                    .and_then(|n| n.ports)
                    .and_then(|p| p.get(SSH_PORT).cloned().flatten())
                    .and_then(|b| b.into_iter().find_map(|b| b.host_port?.parse().ok()));
                let node = c
                    .config
                    .and_then(|c| c.labels)
                    .and_then(|l| l.get(LABEL_NODE).and_then(|n| n.parse().ok()));
                Ok(Some(Instance {
                    rental: *rental,
                    node,
                    container_id: c.id.unwrap_or_default(),
                    running,
                    ssh_port,
                }))
            }
            Err(e) if status(&e) == Some(404) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn create(&self, spec: &InstanceSpec) -> Result<(), RuntimeError> {
        let volume = VolumeCreateRequest {
            name: Some(volume_name(&spec.rental)),
            labels: Some(HashMap::from([(
                LABEL_RENTAL.to_string(),
                spec.rental.to_string(),
            )])),
            ..VolumeCreateRequest::default()
        };
        match self.docker.create_volume(volume).await {
            Ok(_) => {}
            Err(e) if status(&e) == Some(409) => {} // kept from an earlier start of this rental
            Err(e) => return Err(e.into()),
        }
        let options = CreateContainerOptions {
            name: Some(container_name(&spec.rental)),
            ..Default::default()
        };
        match self
            .docker
            .create_container(Some(options), container_body(spec))
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if status(&e) == Some(409) => Ok(()), // created by a run that crashed before start
            Err(e) if status(&e) == Some(404) => {
                Err(RuntimeError::ImageMissing(spec.image.clone()))
            }
            Err(e) => Err(e.into()),
        }
    }
}

impl Runtime for DockerRuntime {
    async fn list(&self, provider: &Pubkey) -> Result<Vec<Instance>, RuntimeError> {
        let filters = HashMap::from([(
            "label".to_string(),
            vec![format!("{LABEL_PROVIDER}={provider}")],
        )]);
        let options = ListContainersOptions {
            all: true,
            filters: Some(filters),
            ..Default::default()
        };
        let mut instances = Vec::new();
        for summary in self.docker.list_containers(Some(options)).await? {
            let labels = summary.labels.unwrap_or_default();
            let Some(rental) = labels.get(LABEL_RENTAL).and_then(|r| r.parse().ok()) else {
                continue;
            };
            let ssh_port = summary
                .ports
                .unwrap_or_default()
                .iter()
                .find(|p| p.private_port == 22)
                .and_then(|p| p.public_port);
            instances.push(Instance {
                rental,
                node: labels.get(LABEL_NODE).and_then(|n| n.parse().ok()),
                container_id: summary.id.unwrap_or_default(),
                running: summary
                    .state
                    .map(|s| s.to_string() == "running")
                    .unwrap_or(false),
                ssh_port,
            });
        }
        Ok(instances)
    }

    async fn ensure(&self, spec: &InstanceSpec) -> Result<Instance, RuntimeError> {
        match self.inspect(&spec.rental).await? {
            Some(instance) if instance.running => return Ok(instance),
            Some(_) => {}
            None => self.create(spec).await?,
        }
        match self
            .docker
            .start_container(&container_name(&spec.rental), None)
            .await
        {
            Ok(()) => {}
            Err(e) if status(&e) == Some(304) => {} // already started
            Err(e) if matches!(status(&e), Some(400 | 500)) => {
                return Err(RuntimeError::StartRefused(e.to_string()))
            }
            Err(e) => return Err(e.into()),
        }
        // Read back for the port the engine published.
        self.inspect(&spec.rental)
            .await?
            .ok_or_else(|| RuntimeError::StartRefused("the container vanished after start".into()))
    }

    async fn remove(&self, rental: &Pubkey) -> Result<(), RuntimeError> {
        let name = container_name(rental);
        let stop = StopContainerOptions {
            t: Some(5),
            ..Default::default()
        };
        match self.docker.stop_container(&name, Some(stop)).await {
            Ok(()) => {}
            Err(e) if matches!(status(&e), Some(304 | 404)) => {}
            Err(e) => return Err(e.into()),
        }
        let options = RemoveContainerOptions {
            force: true,
            v: true,
            ..Default::default()
        };
        match self.docker.remove_container(&name, Some(options)).await {
            Ok(()) => {}
            Err(e) if status(&e) == Some(404) => {}
            Err(e) => return Err(e.into()),
        }
        // The tenant's /workspace goes with the rental: the next tenant starts from nothing.
        match self
            .docker
            .remove_volume(
                &volume_name(rental),
                None::<bollard::query_parameters::RemoveVolumeOptions>,
            )
            .await
        {
            Ok(()) => Ok(()),
            Err(e) if status(&e) == Some(404) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// Whether an SSH server answers at `host:port`: the connection is accepted and the server
/// sends its `SSH-2.0-` identification (an accepted connection alone can be a port proxy).
pub async fn ssh_ready(host: &str, port: u16, timeout: Duration) -> bool {
    let probe = async {
        let mut stream = tokio::net::TcpStream::connect((host, port)).await.ok()?;
        let mut banner = [0u8; 8];
        stream.read_exact(&mut banner).await.ok()?;
        Some(banner.starts_with(b"SSH-2.0-"))
    };
    matches!(tokio::time::timeout(timeout, probe).await, Ok(Some(true)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_container_spec_carries_gpus_key_volume_and_limits() {
        let rental = Pubkey::new_unique();
        let spec = InstanceSpec {
            rental,
            node: Pubkey::new_unique(),
            provider: Pubkey::new_unique(),
            image: "localhost/calor-instance:x".into(),
            ssh_public_key: Some("ssh-ed25519 AAAA renter".into()),
            gpu_uuids: vec!["GPU-aaaa".into(), "GPU-bbbb".into()],
            attach_gpus: true,
            ssh_bind_ip: "0.0.0.0".into(),
            limits: Limits {
                nofile: (1024, 20000),
                nproc: (1024, 1024),
                pids: 4096,
            },
        };
        let body = container_body(&spec);
        let host = body.host_config.as_ref().unwrap();
        let gpus = &host.device_requests.as_ref().unwrap()[0];
        assert_eq!(gpus.driver.as_deref(), Some("nvidia"));
        assert_eq!(gpus.device_ids.as_ref().unwrap(), &spec.gpu_uuids);
        assert_eq!(
            gpus.capabilities.as_ref().unwrap(),
            &vec![vec!["gpu".to_string()]]
        );
        assert_eq!(
            host.binds.as_ref().unwrap(),
            &vec![format!("calor-ws-{rental}:/workspace")]
        );
        assert!(body
            .env
            .as_ref()
            .unwrap()
            .contains(&format!("{SSH_KEY_ENV}=ssh-ed25519 AAAA renter")));
        assert_eq!(
            body.labels.as_ref().unwrap()[LABEL_RENTAL],
            rental.to_string()
        );
        let ulimits = host.ulimits.as_ref().unwrap();
        assert_eq!(
            (ulimits[0].soft, ulimits[0].hard),
            (Some(1024), Some(20000))
        );

        let without = container_body(&InstanceSpec {
            attach_gpus: false,
            ..spec
        });
        assert!(without.host_config.unwrap().device_requests.is_none());
    }
}
