//! Tenants on one host are isolated: each instance has its node's share of memory (no swap),
//! CPU, /dev/shm and disk, few capabilities, no-new-privileges and a network of its own.
//! Two tenants, A and B, on two nodes of one cluster: B cannot reach A, a memory hog in A is
//! OOM-killed alone, a disk filler in B meets its quota and not the host's disk.
mod support;

use std::time::Duration;

use calor_client::accounts::RentalState;
use calor_provisioner::runtime::{container_name, network_name};
use support::*;

const WAIT: Duration = Duration::from_secs(60);
const MIB: u64 = 1024 * 1024;

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_are_isolated_by_memory_cpu_disk_capabilities_and_network() {
    let mut stack = Stack::with_nodes("isolation", &[1], 2).await;
    stack.start_provisioner(0, &ProvisionerOptions::default());
    let (mut a, mut b) = (Renter::new(&stack).await, Renter::new(&stack).await);
    let rental_a = a.open(&stack, None).await;
    let rental_b = b.open(&stack, None).await;
    for r in [&rental_a, &rental_b] {
        stack
            .wait_rental(r, "running", WAIT, is_state(RentalState::Running))
            .await;
    }
    let port_a = wait_ssh_port(&stack.clusters[0], &rental_a).await;
    let port_b = wait_ssh_port(&stack.clusters[0], &rental_b).await;

    // The share and the hardening, as the tenant sees them.
    let out = a.ssh(
        port_a,
        "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes 2>/dev/null; \
         echo cpu $(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) $(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us); \
         echo shm $(df -m --output=size /dev/shm | tail -1); \
         echo ws $(df -m --output=size /workspace | tail -1); \
         grep -E '^(CapEff|NoNewPrivs)' /proc/self/status",
    );
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.lines().next() == Some(&(TEST_MEMORY_MIB * MIB).to_string()),
        "memory limit: {text}"
    );
    assert!(
        text.contains("cpu 100000 100000"),
        "one CPU of quota: {text}"
    );
    assert!(text.contains(&format!("shm {TEST_SHM_MIB}")), "{text}");
    let ws_mib: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("ws "))
        .and_then(|v| v.trim().parse().ok())
        .expect("workspace size");
    assert!(
        ws_mib > TEST_WORKSPACE_MIB / 2 && ws_mib <= TEST_WORKSPACE_MIB,
        "/workspace is its own {TEST_WORKSPACE_MIB} MiB filesystem: {text}"
    );
    assert!(text.contains("NoNewPrivs:\t1"), "{text}");
    let cap_eff = text
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:\t"))
        .map(|h| u64::from_str_radix(h.trim(), 16).unwrap())
        .unwrap();
    const CAP_SYS_ADMIN: u64 = 1 << 21;
    const CAP_NET_RAW: u64 = 1 << 13;
    const CAP_SYS_PTRACE: u64 = 1 << 19;
    assert_eq!(
        cap_eff & (CAP_SYS_ADMIN | CAP_NET_RAW | CAP_SYS_PTRACE),
        0,
        "dropped: {cap_eff:#x}"
    );

    // B cannot reach A's instance on A's network; the host can (the probe is not vacuous).
    let details = engine()
        .inspect_container(&container_name(&rental_a))
        .await
        .unwrap()
        .unwrap();
    let ip_a = details.network.networks.unwrap()[&network_name(&rental_a)]
        .ip_address
        .clone();
    assert!(!ip_a.is_empty());
    assert!(
        tokio::time::timeout(
            Duration::from_secs(3),
            tokio::net::TcpStream::connect((ip_a.as_str(), 22))
        )
        .await
        .is_ok_and(|c| c.is_ok()),
        "the host reaches A at {ip_a}:22"
    );
    let out = b.ssh(
        port_b,
        &format!("timeout 3 bash -c 'echo > /dev/tcp/{ip_a}/22' && echo REACHED || echo BLOCKED"),
    );
    assert_eq!(stdout(&out).trim(), "BLOCKED", "B reached A at {ip_a}");

    // A memory hog in A is killed by A's own limit; A and B go on.
    let out = a.ssh(port_a, "timeout 60 tail /dev/zero; echo exit=$?");
    assert!(stdout(&out).contains("exit=137"), "{}", stdout(&out));
    for (renter, port) in [(&a, port_a), (&b, port_b)] {
        assert!(renter.ssh(port, "true").status.success());
    }
    for r in [&rental_a, &rental_b] {
        let d = engine()
            .inspect_container(&container_name(r))
            .await
            .unwrap()
            .unwrap();
        assert!(d.state.running && d.restart_count == 0);
    }

    // A disk filler in B meets its quota; the host's disk holds only the reserved image.
    let image = stack.clusters[0]
        .workspaces()
        .join(format!("{rental_b}.ext4"));
    let reserved = std::fs::metadata(&image).unwrap();
    let out = b.ssh(
        port_b,
        &format!(
            "dd if=/dev/zero of=/workspace/fill bs=1M count={} 2>&1; echo exit=$?",
            TEST_WORKSPACE_MIB * 4
        ),
    );
    let text = stdout(&out);
    assert!(text.contains("No space left on device"), "{text}");
    assert!(text.contains("exit=1"), "{text}");
    let after = std::fs::metadata(&image).unwrap();
    {
        use std::os::unix::fs::MetadataExt;
        assert_eq!(after.len(), TEST_WORKSPACE_MIB * MIB);
        assert_eq!(
            after.blocks(),
            reserved.blocks(),
            "not a block more of the host's disk"
        );
    }
    assert!(
        a.ssh(port_a, "echo ok > /workspace/a").status.success(),
        "A's disk is its own"
    );

    stack.finish(&[rental_a, rental_b]).await;
}
