use anchor_lang::prelude::*;

/// Every rejection the program makes has its own name.
#[error_code]
pub enum CalorError {
    #[msg("the signer is not the program's upgrade authority")]
    NotUpgradeAuthority,
    #[msg("a basis-point value is above 10,000")]
    BpsOutOfRange,
    #[msg("the Calor subsidy is above the 85% cap")]
    SubsidyTooHigh,
    #[msg("the minimum rental value must be greater than zero")]
    ZeroMinimumRental,
    #[msg("the oracle feed id must not be all zeroes")]
    InvalidFeedId,
    #[msg("a duration setting is zero or longer than one week")]
    InvalidDuration,
    #[msg("the Calor price bounds are empty or inverted")]
    InvalidPriceBounds,
    #[msg("the treasury must not be the default (all-zero) address")]
    InvalidTreasury,
    #[msg("arithmetic overflow")]
    MathOverflow,
    #[msg("the protocol is paused")]
    Paused,
    #[msg("the signer is not the config authority")]
    NotConfigAuthority,
    #[msg("no authority transfer is pending for this signer")]
    NotPendingAuthority,
    #[msg("a name is empty or too long")]
    InvalidName,
    #[msg("the GPU model is inactive")]
    GpuModelInactive,
    #[msg("the region is inactive")]
    RegionInactive,
    #[msg("the endpoint is empty or too long")]
    InvalidEndpoint,
    #[msg("the provider is not approved")]
    ProviderNotApproved,
    #[msg("a node needs at least one GPU")]
    ZeroGpuCount,
    #[msg("the hourly rate must be greater than zero")]
    ZeroRate,
    #[msg("the node is serving a rental")]
    NodeBusy,
    #[msg("the node is not idle")]
    NodeNotIdle,
    #[msg("the node's last heartbeat is too old")]
    NodeHeartbeatStale,
    #[msg("hours must be between 1 and the 90-day maximum")]
    InvalidHours,
    #[msg("the SSH key must be one ssh-ed25519, ssh-rsa or ecdsa-sha2-nistp256 public key line: type, base64 key, optional comment, no options or control characters")]
    InvalidSshKey,
    #[msg("the region account does not match the rental's pinned region")]
    RegionMismatch,
    #[msg("the rental is below the minimum USD value")]
    BelowMinimumRental,
    #[msg("the price update is for another feed")]
    WrongPriceFeed,
    #[msg("the price update is not fully verified")]
    PriceNotVerified,
    #[msg("the price is older than the allowed age")]
    StalePrice,
    #[msg("the price's confidence interval is wider than allowed")]
    PriceConfidenceTooWide,
    #[msg("the oracle price is not positive or its exponent is out of range")]
    InvalidOraclePrice,
    #[msg("no Calor price has been posted within its maximum age")]
    StaleCalorPrice,
    #[msg("the Calor price is outside the configured bounds")]
    CalorPriceOutOfBounds,
    #[msg("this instruction is for the rental's other payment kind")]
    WrongPaymentKind,
    #[msg("the rental is not queued")]
    RentalNotQueued,
    #[msg("the rental is not provisioning")]
    RentalNotProvisioning,
    #[msg("the rental is not running")]
    RentalNotRunning,
    #[msg("the node's GPU model is not the one rented")]
    WrongGpuModel,
    #[msg("the node is outside the rental's pinned region")]
    WrongRegion,
    #[msg("the node's rate is above the rental's offered rate")]
    NodeRateAboveOffer,
    #[msg("the node is not the one serving this rental")]
    WrongNode,
    #[msg("the signer may not act on this rental")]
    Unauthorized,
    #[msg("the rental has already started; stop it with complete")]
    RentalAlreadyStarted,
    #[msg("the provider still has time to start the rental (queue timeout not reached)")]
    QueueTimeoutNotReached,
    #[msg("the rental's paid time has not run out")]
    RentalNotExpired,
    #[msg("the rental's paid time has run out")]
    RentalTimeOver,
    #[msg("the node's heartbeat is fresh")]
    HeartbeatFresh,
    #[msg("the rental has not ended")]
    SettleBeforeEnd,
    #[msg("the payee account does not match the rental")]
    WrongPayee,
    #[msg("nothing to withdraw")]
    NothingToWithdraw,
    #[msg("the mint is not the configured Calor mint")]
    WrongMint,
    #[msg("the treasury account does not match the config")]
    WrongTreasury,
    #[msg("an epoch or voting period is zero or longer than 30 days")]
    InvalidPeriod,
    #[msg("priority tiers must be above zero and strictly ascending")]
    InvalidPriorityTiers,
    #[msg("the quorum must be between 1 and 10,000 bps")]
    InvalidQuorum,
    #[msg("the amount must be greater than zero")]
    ZeroAmount,
    #[msg("the amount is more than is staked")]
    InsufficientStake,
    #[msg("the stake's pending tokens became active: pass the epoch record of the epoch they were added in")]
    EpochRecordRequired,
    #[msg("the epoch record is not the one for this stake's pending tokens")]
    WrongEpochRecord,
    #[msg("the current epoch has not ended")]
    EpochNotEnded,
    #[msg("no rewards to claim")]
    NothingToClaim,
    #[msg("the stake account belongs to someone else")]
    NotStakeOwner,
    #[msg("a stake account is given without the stake pool")]
    StakeWithoutPool,
    #[msg("not enough stake to make a proposal")]
    InsufficientStakeToPropose,
    #[msg("the proposal's voting period is over")]
    VotingClosed,
    #[msg("the proposal's voting period has not ended")]
    VotingNotEnded,
    #[msg("no stake to vote with")]
    NoVotingPower,
    #[msg("this stake has already voted on the proposal")]
    AlreadyVoted,
    #[msg("the proposal did not reach its quorum")]
    QuorumNotReached,
    #[msg("the proposal was voted down")]
    ProposalRejected,
    #[msg("the proposal has already been executed")]
    ProposalAlreadyExecuted,
    #[msg("the provider account does not match the proposal")]
    WrongProvider,
    #[msg("the new authority must not be the default (all-zero) address")]
    InvalidAuthority,
    #[msg("the payment would exceed the maximum the renter approved")]
    PaymentAboveMaximum,
    #[msg("the Calor price moves more than the allowed share per hour since the last post")]
    CalorPriceMoveTooLarge,
    #[msg("the Calor price bounds and the subsidy budget change only through governance")]
    GovernedSetting,
    #[msg("the subsidy vault's budget for this epoch cannot cover this rental")]
    SubsidyBudgetExhausted,
    #[msg("the subsidy vault does not hold enough unreserved Calor for this rental")]
    SubsidyVaultInsufficient,
    #[msg("the Calor mint has an extension that could block or drain escrows")]
    MintExtensionNotAllowed,
    #[msg("the Calor mint has a freeze authority, which could freeze escrows")]
    MintHasFreezeAuthority,
    #[msg("the price update's publish time is in the future")]
    PriceFromFuture,
    #[msg("the rental holds the most purchases it can: open a new rental")]
    TooManyExtensions,
    #[msg("the stake is held by a vote or proposal until its voting ends")]
    StakeLocked,
    #[msg("the stake keeps a prioritised rental's tier until that rental is settled")]
    StakeHeldForPriority,
    #[msg("this rental was routed with stake priority: pass the renter's stake account")]
    StakeRequired,
    #[msg("the proposal's execution window has passed")]
    ProposalExpired,
    #[msg("the proposal was vetoed")]
    ProposalVetoed,
    #[msg("only high-impact proposals can be vetoed, and only before they execute")]
    NotVetoable,
    #[msg("the proposal's timelock has not ended")]
    TimelockNotOver,
    #[msg("forwarded ports must be 1-65535, distinct, at most five and never the SSH port")]
    InvalidForwardedPorts,
    #[msg("a location hint needs latitude -90..=90 and longitude -180..=180 degrees")]
    InvalidLocation,
    #[msg("the rental was settled and its refund is no longer held")]
    AlreadySettled,
    #[msg("no refund is held for this rental")]
    NoRefundHeld,
    #[msg("the token account cannot receive this payment")]
    UnusableTokenAccount,
    #[msg("the escrow account is not this rental's")]
    WrongEscrow,
    #[msg("the vault account is not the pool's")]
    WrongVault,
    #[msg("region ids start at 1 (0 means any region)")]
    InvalidRegionId,
    #[msg("the token program must be SPL Token or Token-2022")]
    WrongTokenProgram,
    #[msg("the account is not an initialised token account of that token program")]
    WrongTokenAccount,
    #[msg("the account is not at the address its seeds give")]
    WrongAddress,
    #[msg("the account already exists")]
    AlreadyExists,
}
