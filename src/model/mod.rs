//! Models: the BERT encoder (embedding, classification and masked-LM heads) and the decoders
//! (Llama family, GPT-2).
//!
//! Layout: [`schema`] lists every architecture's tensors once; `ops` holds what all architectures
//! share (linear layers, norms, RoPE, attention, the key/value cache); `arena` carves the caller's
//! buffer; `bert` and `decoder` hold one architecture family each: its loader, weights, working
//! memory and forward pass. A BERT model runs in a [`Session`]; a decoder in a [`Generator`].

pub(crate) mod arena;
mod bert;
mod decoder;
pub(crate) mod ops;
mod options;
pub mod schema;
pub(crate) mod views;

pub use arena::ALIGN as ARENA_ALIGN;
pub use bert::Bert;
pub use bert::{
    BertConfig, Classification, Embeddings, Head, LayerWeights, MlmHead, Prediction, Session, MAX_LAYERS,
};
pub use decoder::{Decoder, DecoderConfig, DecoderLayerWeights, Generator, Globals, Limits, Step, Stop};
pub use ops::linear::{Linear, Norm, Observer};
pub use options::{GeneratorOptions, KvPrecision, SessionOptions};
