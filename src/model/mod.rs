//! Models: BERT encoder with embedding, classification and masked-LM heads.
//!
//! `Bert` borrows its weights from a validated blob; a `Session` binds it to a caller-owned arena
//! and runs text through tokenizer, encoder and head.

mod bert;
mod blocks;
mod config;
mod encoder;
mod kv;
mod options;
mod session;
mod state;
mod weights;

pub use bert::{Bert, Embeddings, Head, MlmHead};
pub use config::{BertConfig, MAX_LAYERS};
pub use options::{KvPrecision, SessionOptions};
pub use session::{Classification, Prediction, Session};
pub use weights::{LayerWeights, Linear, Norm};
