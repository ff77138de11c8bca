//! The run: the request resolved into a plan before any work (`request`), the orchestrator that
//! takes the plan through the stages (`pipeline`), the build cache around build and stage
//! (`build_cache`, `cached`), reuse of a built tree for another overlay (`tree_reuse`),
//! `--check-reproducible` (`reproduce`), load verification before publishing (`verify`), the
//! bundled example (`demo`), and the listing of targets and build environments (`targets`).

pub(crate) mod request;
pub(crate) mod pipeline;
pub(crate) mod build_cache;
pub(crate) mod cached;
pub(crate) mod tree_reuse;
pub(crate) mod reproduce;
pub(crate) mod demo;
pub(crate) mod verify;
pub(crate) mod targets;
