//! The programs around the server: the command line, the load generator,
//! and the demo with its shop.

/// What the admin commands share: database arguments, opening, printing.
pub mod admin;
/// The load generator behind `kessai bench`.
pub mod bench;
/// The command line: `serve` and the admin commands of PROTOCOL section 9.
pub mod cli;
/// `kessai demo`: the server and the demo shop together.
pub mod demo;
/// `kessai institution …` and `kessai peer …`.
pub mod network;
/// The demo shop: a merchant backend as a merchant would write it.
pub mod shop;
/// `kessai terminal register | revoke | list`.
pub mod terminals;
