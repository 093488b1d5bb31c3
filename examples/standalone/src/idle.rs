//! A request body that fails when the client stops sending for too long.
//!
//! hyper bounds the time to read request headers but not a body: a client that sends half
//! a body and then nothing would hold its connection, a task and any buffered bytes
//! forever. Failing the body makes every layer above treat it as an incomplete upload, so
//! nothing is stored.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http_body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// The error of a body that went quiet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BodyIdle(pub(crate) Duration);

impl fmt::Display for BodyIdle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the client sent no body bytes for {} s",
            self.0.as_secs_f64()
        )
    }
}

impl std::error::Error for BodyIdle {}

pin_project_lite::pin_project! {
    /// `B`, failing with [`BodyIdle`] when no frame arrives within the idle time of being
    /// asked for one.
    pub(crate) struct IdleTimeout<B> {
        #[pin]
        body: B,
        #[pin]
        sleep: Sleep,
        idle: Duration,
        waiting: bool,
    }
}

impl<B> IdleTimeout<B> {
    pub(crate) fn new(body: B, idle: Duration) -> Self {
        Self {
            body,
            sleep: tokio::time::sleep(idle),
            idle,
            waiting: false,
        }
    }
}

impl<B> Body for IdleTimeout<B>
where
    B: Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = B::Data;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let mut this = self.project();
        if !*this.waiting {
            // The clock runs only while someone waits for the body: a layer that takes its
            // time between frames is not the client's fault.
            this.sleep.as_mut().reset(Instant::now() + *this.idle);
            *this.waiting = true;
        }
        match this.body.poll_frame(cx) {
            Poll::Ready(frame) => {
                *this.waiting = false;
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending => match this.sleep.poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyIdle(*this.idle))))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use http_body_util::BodyExt;
    use http_body_util::StreamBody;

    #[tokio::test(start_paused = true)]
    async fn a_quiet_client_fails_the_body_a_steady_one_does_not() {
        let idle = Duration::from_secs(60);
        // Frames 50 s apart: slow but never idle for 60 s.
        let steady = futures_stream(vec![50, 50, 50]);
        let collected = IdleTimeout::new(steady, idle).collect().await;
        assert_eq!(collected.expect("steady").to_bytes(), Bytes::from("xxx"));
        // One gap of 61 s.
        let stalled = futures_stream(vec![1, 61]);
        let error = IdleTimeout::new(stalled, idle)
            .collect()
            .await
            .expect_err("stalled");
        assert!(error.is::<BodyIdle>(), "{error}");
    }

    /// A body yielding `x` after each delay (seconds).
    fn futures_stream(
        delays: Vec<u64>,
    ) -> StreamBody<impl futures_util::Stream<Item = Result<Frame<Bytes>, std::convert::Infallible>>>
    {
        StreamBody::new(futures_util::stream::unfold(
            delays.into_iter(),
            |mut delays| async move {
                let delay = delays.next()?;
                tokio::time::sleep(Duration::from_secs(delay)).await;
                Some((Ok(Frame::data(Bytes::from("x"))), delays))
            },
        ))
    }
}
