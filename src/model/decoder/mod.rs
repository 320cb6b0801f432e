//! Decoders: Llama family (RMSNorm, RoPE, SwiGLU, grouped-query attention) and GPT-2 (learned
//! positions, LayerNorm, GELU-tanh, fused query/key/value projection), and [`Generator`], which
//! feeds prompts and produces tokens in a caller-owned arena.

mod arena;
mod config;
mod forward;
mod generator;
mod model;
mod weights;

pub use config::DecoderConfig;
pub use generator::{Generator, Limits, Step, Stop};
pub use model::Decoder;
pub use weights::{Globals, LayerWeights as DecoderLayerWeights};
