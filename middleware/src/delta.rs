//! The [`DeltaLayer`] middleware: the tower layer, its service and response future. The
//! service classifies each request and hands the ones it handles to [`crate::ops`].

mod future;
mod layer;
mod route;
mod service;

pub use future::ResponseFuture;
pub use layer::DeltaLayer;
pub use service::Delta;
