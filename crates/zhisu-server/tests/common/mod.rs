//! Helpers shared by the server's integration tests.
#![allow(dead_code)] // each test binary uses part of the shared helpers
pub mod generate;
pub mod postgres;
