//! What the CLI prints for people (`--json` prints the SDK's values instead).
use calor_client::sdk::{
    gpu_slug, Calor, GpuListing, Job, Network, Offered, Pay, Rented, Rewards, Settlement, Unit,
};

fn money(usd: Option<f64>) -> String {
    usd.map_or("-".into(), |u| format!("${u:.2}"))
}

/// Unix seconds as UTC, to the second.
pub fn time(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // civil date from days since 1970-01-01 (Howard Hinnant's algorithm)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

pub fn now() -> String {
    let unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    time(unix)
}

pub fn gpus(gpus: &[GpuListing]) {
    println!(
        "{:<14} {:<12} {:>5} {:>7} {:>10} {:>10}  REGIONS (idle/online)",
        "GPU", "ARCH", "VRAM", "IDLE", "$/H", "CALOR $/H"
    );
    for g in gpus {
        let regions: Vec<String> = g
            .regions
            .iter()
            .filter(|r| r.total > 0)
            .map(|r| format!("{} {}/{}", r.code, r.idle, r.total))
            .collect();
        println!(
            "{:<14} {:<12} {:>4}G {:>3}/{:<3} {:>10} {:>10}  {}",
            g.slug,
            g.architecture,
            g.vram_gb,
            g.idle,
            g.total,
            money(g.rate_usd),
            money(g.calor_rate_usd),
            if regions.is_empty() {
                "none online".to_string()
            } else {
                regions.join(", ")
            }
        );
    }
}

pub fn quote(q: &Offered) {
    println!(
        "{} for {} h at ${:.2}/h{}",
        q.gpu_name,
        q.hours,
        q.hourly_rate_usd,
        q.region
            .as_ref()
            .map_or(" (nearest region with capacity)".into(), |r| format!(
                " in {r}"
            ))
    );
    match q.pay {
        Pay::Sol => println!("  cost:        ${:.2} = {}", q.paid_usd, q.amount_text()),
        Pay::Calor => println!(
            "  cost:        ${:.2} (market ${:.2} less the Calor subsidy) = {}",
            q.paid_usd,
            q.market_usd,
            q.amount_text()
        ),
    }
    println!(
        "  at most:     {} (if the price moves before it lands)",
        q.unit.amount(q.max_payment)
    );
    println!(
        "  deposit:     {} rent, returned at settlement",
        Unit::Sol.amount(q.rent_deposit_lamports)
    );
    println!(
        "  network fee: {}",
        Unit::Sol.amount(q.network_fee_lamports)
    );
    println!(
        "  minimum:     ${:.2} a rental; billing starts when the instance starts; unused time is refunded",
        q.minimum_usd
    );
    if q.queued {
        println!("  every node is busy: the job waits in the queue for the first one free");
    }
}

pub async fn rented(calor: &Calor, r: &Rented) {
    println!(
        "Job {} is {} (opened in {})",
        r.job.id, r.job.state, r.signature
    );
    if r.job.state.to_string() != "running" {
        return;
    }
    match calor.jobs().connect(&r.job.id).await {
        Ok(c) => {
            if let Some(ssh) = &c.ssh_command {
                println!("  ssh:      {ssh}   (or: calor ssh {})", r.job.id);
            }
            println!("  terminal: calor terminal {}", r.job.id);
        }
        Err(e) => println!(
            "  where to connect is not known yet ({e}): calor job {}",
            r.job.id
        ),
    }
    if let Some(ends) = r.job.ends_at {
        println!(
            "  ends:     {} (calor extend {} --hours N)",
            time(ends),
            r.job.id
        );
    }
    println!("  stop:     calor stop {}", r.job.id);
}

pub fn jobs(jobs: &[Job]) {
    if jobs.is_empty() {
        println!("No jobs (`calor jobs --all` lists settled ones too).");
        return;
    }
    println!(
        "{:<45} {:<13} {:<10} {:>5} {:>8}  ENDS",
        "JOB", "STATE", "GPU", "HOURS", "$/H"
    );
    for j in jobs {
        println!(
            "{:<45} {:<13} {:<10} {:>5} {:>8}  {}",
            j.id,
            j.state.to_string(),
            j.gpu_name.as_deref().map_or(j.gpu.to_string(), gpu_slug),
            j.hours,
            format!("${:.2}", j.hourly_rate_usd),
            j.ends_at.map_or("-".into(), time)
        );
    }
}

pub fn job(j: &Job) {
    println!("Job {}", j.id);
    println!("  state:    {}", j.state);
    let gpu = j
        .gpu_name
        .clone()
        .unwrap_or_else(|| format!("model {}", j.gpu));
    println!(
        "  gpu:      {gpu} for {} h at ${:.2}/h",
        j.hours, j.hourly_rate_usd
    );
    println!("  paid:     {}", j.unit.amount(j.escrowed));
    if let Some(node) = &j.node {
        println!("  node:     {node}");
    }
    if let Some(t) = j.started_at {
        println!("  started:  {} (billing started)", time(t));
    }
    if let Some(t) = j.ends_at {
        println!("  ends:     {}", time(t));
    }
    if let Some(s) = &j.settlement {
        settlement(s);
    }
}

pub fn settlement(s: &Settlement) {
    println!("Settled in {}", s.signature);
    println!("  provider paid: {}", s.unit.amount(s.provider_pay));
    println!("  protocol fee:  {}", s.unit.amount(s.fee));
    println!("  burned:        {}", s.unit.amount(s.burned));
    println!(
        "  refund:        {}{}",
        s.unit.amount(s.refund),
        if s.refund_held {
            " (held: calor claim-refund JOB)"
        } else {
            ""
        }
    );
}

pub fn rewards(r: &Rewards) {
    let c = Unit::Calor {
        decimals: r.calor_decimals,
    };
    println!(
        "  staked:    {} earning, {} from next epoch",
        c.amount(r.active),
        c.amount(r.pending)
    );
    println!(
        "  seasoned:  {} (priority tier {})",
        c.amount(r.seasoned),
        r.priority_tier
    );
    println!("  claimable: {}", c.amount(r.claimable));
    println!("  epoch:     {} (ends {})", r.epoch, time(r.epoch_ends_at));
}

pub fn network(n: &Network) {
    println!("  nodes online:  {} of {}", n.nodes_online, n.nodes_total);
    println!(
        "  GPUs busy:     {} of {} online ({:.0}%)",
        n.gpus_busy,
        n.gpus_online,
        n.utilisation * 100.0
    );
    println!("  FP16 online:   {:.2} PFLOPS", n.fp16_pflops_online);
    println!("  open rentals:  {}", n.rentals_open);
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_are_utc_dates() {
        assert_eq!(super::time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(super::time(1_796_000_000), "2026-11-30 00:53:20 UTC");
        assert_eq!(super::time(951_782_400), "2000-02-29 00:00:00 UTC");
    }
}
