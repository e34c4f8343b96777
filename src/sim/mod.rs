//! The simulated Internet used by tests and benchmarks. For now: the SMTP farm
//! ([`farm`]) with its personas (data/sim-personas.json) and certificates ([`certs`]).

pub mod certs;
pub mod farm;
