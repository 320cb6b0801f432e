//! BERT: the encoder, its heads, and [`Session`], which runs text through tokenizer, encoder and
//! head in a caller-owned arena.

mod arena;
mod config;
mod encoder;
mod model;
mod session;
mod weights;

pub use config::{BertConfig, MAX_LAYERS};
pub use model::{Bert, Embeddings, Head, MlmHead};
pub use session::{Classification, Prediction, Session};
pub use weights::LayerWeights;
