// @calor/sdk: rent GPUs on Calor from TypeScript.
//
// `Calor` is the documented API (compute, jobs.get / list / watch / stop). Below it, the same
// modules the web app uses: the program client generated from the IDL, the quote and SSH-key
// rules (checked against vectors the program's own Rust code computes), and the instruction
// builders for opening, extending, stopping, claiming refunds and staking.
export { Calor, CalorError, Jobs, gpuSlug, signInText } from './calor';
export type {
  CalorErrorKind,
  CalorOptions,
  CalorWallet,
  Cluster,
  ComputeRequest,
  ComputeResult,
  Job,
  JobState,
  Schemas,
} from './calor';
export * from './chain';
export * from './context';
export * from './market';
export * from './staking';
export * from './token';
export * from './rules/quote';
export * from './rules/sshKey';
export { readPriceUpdate, PYTH_RECEIVER_PROGRAM, type PriceMessage } from './rules/pyth';
export * as accounts from './generated/program/accounts';
export * as instructions from './generated/program/instructions';
export * as types from './generated/program/types';
export * as errors from './generated/program/errors';
export { CALOR_PROGRAM_ADDRESS } from './generated/program/programs';
export * as constants from './generated/constants';
export type { components, paths } from './generated/api';
