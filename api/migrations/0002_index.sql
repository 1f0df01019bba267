-- The chain index: what the program emitted, kept after the accounts it describes are closed.

-- How far the indexer has read the program's transaction history (one row).
CREATE TABLE index_cursor (
    id BIGINT PRIMARY KEY,
    signature TEXT NOT NULL,
    slot BIGINT NOT NULL,
    transactions BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Every program transaction applied (failed ones too), so a re-listed one is not applied twice.
CREATE TABLE indexed_transactions (
    signature TEXT PRIMARY KEY,
    slot BIGINT NOT NULL
);
CREATE INDEX indexed_transactions_slot ON indexed_transactions (slot);

-- One row a rental, folded from its events. A rental's address is reused when its renter
-- opens the same id again after settlement closed it: a job is one opening, named by the
-- opening transaction and the event's index in it.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    rental TEXT NOT NULL,
    renter TEXT NOT NULL,
    gpu_model BIGINT NOT NULL,
    region BIGINT,
    payment TEXT NOT NULL,
    hours BIGINT NOT NULL,
    hourly_rate_micro_usd BIGINT NOT NULL,
    escrowed BIGINT NOT NULL,
    usd_paid_micro BIGINT NOT NULL,
    subsidy_reserved BIGINT NOT NULL,
    priority BIGINT NOT NULL,
    state TEXT NOT NULL,
    node TEXT,
    provider TEXT,
    opened_at BIGINT NOT NULL,
    opened_slot BIGINT NOT NULL,
    started_at BIGINT,
    ends_at BIGINT,
    ended_at BIGINT,
    end_reason TEXT,
    served_secs BIGINT,
    settled_at BIGINT,
    provider_amount BIGINT,
    fee BIGINT,
    staker_rewards BIGINT,
    burned BIGINT,
    refund BIGINT,
    refund_held BIGINT,
    refund_claimed BIGINT,
    subsidy_drawn BIGINT,
    event_count BIGINT NOT NULL
);
CREATE INDEX jobs_renter ON jobs (renter, opened_slot);
CREATE INDEX jobs_state ON jobs (state);
CREATE INDEX jobs_rental ON jobs (rental, opened_slot);

-- Every rental event with its transaction: the job's timeline. `seq` counts a job's events
-- from 1 (the id of its server-sent events).
CREATE TABLE job_events (
    signature TEXT NOT NULL,
    idx BIGINT NOT NULL,
    job TEXT NOT NULL,
    rental TEXT NOT NULL,
    seq BIGINT NOT NULL,
    slot BIGINT NOT NULL,
    block_time BIGINT NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL,
    PRIMARY KEY (signature, idx)
);
CREATE UNIQUE INDEX job_events_job ON job_events (job, seq);
CREATE INDEX job_events_time ON job_events (block_time);
