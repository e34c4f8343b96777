//! The simulated Internet used by tests and benchmarks: the SMTP farm ([`farm`]) with its
//! personas (data/sim-personas.json) and certificates ([`certs`]), and the generated world
//! with ground truth ([`world`]).

pub mod certs;
pub mod dns;
pub mod farm;
pub mod world;
