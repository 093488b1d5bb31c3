//! The `DeltaLayer` middleware.

mod future;
mod layer;

pub(crate) use layer::Shared;
mod service;

pub use future::ResponseFuture;
pub use layer::DeltaLayer;
pub use service::Delta;
