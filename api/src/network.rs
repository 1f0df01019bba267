//! The network over time, from the index: for each hour of a window, the GPU-hours rented
//! (the time each job's node was busy with it, times the node's GPUs), the jobs opened and the
//! USD they paid, and the Calor burned by settlements. Derived from the jobs table, so history
//! needs no sampling and survives restarts: a reindex gives the same answer.
use serde::Serialize;
use sqlx::{AnyPool, Row};
use utoipa::ToSchema;

/// One hour of the network.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryPoint {
    /// The hour's start, unix seconds (the last hour is still running).
    pub at: i64,
    /// GPU-hours of rented time within the hour: its busy GPUs, averaged over the hour.
    pub busy_gpu_hours: f64,
    pub jobs_opened: u32,
    /// USD paid for the jobs opened in the hour.
    pub usd_paid: f64,
    /// Calor base units burned by the settlements in the hour.
    pub burned: u64,
}

/// What the history needs of one job.
#[derive(Debug, Clone, Default)]
pub struct JobSpan {
    pub node: Option<String>,
    pub opened_at: i64,
    pub started_at: Option<i64>,
    /// `None` while it runs.
    pub ended_at: Option<i64>,
    pub settled_at: Option<i64>,
    pub usd_paid_micro: i64,
    pub burned: Option<i64>,
}

pub const HOUR: i64 = 3_600;

/// The start of the first of the `hours` hours up to `now`.
pub fn window_start(now: i64, hours: u32) -> i64 {
    now - now.rem_euclid(HOUR) - HOUR * (i64::from(hours) - 1)
}

/// The `hours` hours up to `now` (the last one partial), from `jobs`; `gpus(node)` is the node's
/// GPU count (1 when the node is no longer listed).
pub fn hourly(
    jobs: &[JobSpan],
    gpus: impl Fn(&str) -> u32,
    now: i64,
    hours: u32,
) -> Vec<HistoryPoint> {
    let first = window_start(now, hours);
    let mut points: Vec<HistoryPoint> = (0..i64::from(hours))
        .map(|i| HistoryPoint {
            at: first + i * HOUR,
            busy_gpu_hours: 0.0,
            jobs_opened: 0,
            usd_paid: 0.0,
            burned: 0,
        })
        .collect();
    let slot = |t: i64| -> Option<usize> {
        (first..=now)
            .contains(&t)
            .then(|| ((t - first) / HOUR) as usize)
    };
    for job in jobs {
        if let Some(i) = slot(job.opened_at) {
            points[i].jobs_opened += 1;
            points[i].usd_paid += job.usd_paid_micro as f64 / 1e6;
        }
        if let (Some(t), Some(burned)) = (job.settled_at, job.burned) {
            if let Some(i) = slot(t) {
                points[i].burned += burned.max(0) as u64;
            }
        }
        let Some(started) = job.started_at else {
            continue;
        };
        let ended = job.ended_at.unwrap_or(now).min(now);
        let count = f64::from(job.node.as_deref().map_or(1, &gpus));
        for point in points.iter_mut() {
            let overlap = ended.min(point.at + HOUR) - started.max(point.at);
            if overlap > 0 {
                point.busy_gpu_hours += overlap as f64 / HOUR as f64 * count;
            }
        }
    }
    points
}

/// The jobs that touch the window from `from`: opened, running, ended or settled in it.
pub async fn spans(pool: &AnyPool, from: i64) -> Result<Vec<JobSpan>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT node, opened_at, started_at, ended_at, settled_at, usd_paid_micro, burned FROM jobs \
         WHERE opened_at >= $1 OR ended_at IS NULL OR ended_at >= $1 OR settled_at >= $1",
    )
    .bind(from)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| JobSpan {
            node: r.get(0),
            opened_at: r.get(1),
            started_at: r.get(2),
            ended_at: r.get(3),
            settled_at: r.get(4),
            usd_paid_micro: r.get(5),
            burned: r.get(6),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000 + 1_800; // half past an hour

    fn hour(n: i64) -> i64 {
        NOW - NOW.rem_euclid(HOUR) - n * HOUR
    }

    #[test]
    fn rented_time_is_split_across_the_hours_it_spans_times_the_nodes_gpus() {
        let job = JobSpan {
            node: Some("n8".into()),
            opened_at: hour(2) + 100,
            started_at: Some(hour(2) + 1_800),
            ended_at: Some(hour(1) + 900),
            settled_at: Some(hour(1) + 960),
            usd_paid_micro: 6_000_000,
            burned: Some(42),
        };
        let points = hourly(&[job], |n| if n == "n8" { 8 } else { 1 }, NOW, 3);
        assert_eq!(
            points.iter().map(|p| p.at).collect::<Vec<_>>(),
            [hour(2), hour(1), hour(0)]
        );
        assert_eq!(points[0].busy_gpu_hours, 0.5 * 8.0);
        assert_eq!(points[1].busy_gpu_hours, 0.25 * 8.0);
        assert_eq!(points[2].busy_gpu_hours, 0.0);
        assert_eq!((points[0].jobs_opened, points[0].usd_paid), (1, 6.0));
        assert_eq!((points[1].burned, points[2].burned), (42, 0));
    }

    #[test]
    fn a_running_job_counts_until_now_and_old_events_fall_outside() {
        let running = JobSpan {
            node: None,
            opened_at: hour(5),
            started_at: Some(hour(5)),
            ended_at: None,
            ..JobSpan::default()
        };
        let points = hourly(&[running], |_| 4, NOW, 2);
        assert_eq!(
            points[0].busy_gpu_hours, 1.0,
            "an unlisted node counts one GPU"
        );
        assert_eq!(points[1].busy_gpu_hours, 0.5, "the current hour, up to now");
        assert_eq!(points.iter().map(|p| p.jobs_opened).sum::<u32>(), 0);
    }
}
