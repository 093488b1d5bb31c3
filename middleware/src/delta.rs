//! The [`DeltaLayer`] middleware: the tower layer, its service and response future. The
//! service classifies each request and hands the ones it handles to [`crate::ops`].

mod layer;
mod route;
mod service;

pub use crate::future::ResponseFuture;
pub use layer::DeltaLayer;
pub use service::Delta;
