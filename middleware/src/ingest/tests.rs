//! Tests: the head checks as a table, bodies decoded and verified through the service in
//! both modes (read whole, streamed with the end held back), and proptests over random
//! framings signed by the real `aws-sigv4` crate.

mod plain;
mod signed;
mod support;
