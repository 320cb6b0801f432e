//! Model hyper-parameters as the forward pass uses them (sizes as `usize`).

use crate::format::{ArchParams, Header};

/// Most encoder layers a model may have.
pub const MAX_LAYERS: usize = 64;

/// BERT hyper-parameters, read from a validated header.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BertConfig {
    /// Vocabulary size.
    pub vocab_size: usize,
    /// Hidden size `H`.
    pub hidden: usize,
    /// Encoder layers.
    pub n_layers: usize,
    /// Attention heads.
    pub n_heads: usize,
    /// Size of one head, `H / n_heads`.
    pub head_dim: usize,
    /// Feed-forward inner size `I`.
    pub intermediate: usize,
    /// Longest sequence the position table allows.
    pub max_position: usize,
    /// Rows of the token-type table.
    pub type_vocab_size: usize,
    /// LayerNorm epsilon.
    pub eps: f32,
    /// Labels of the classification head (0 without one).
    pub n_labels: usize,
}

impl BertConfig {
    /// The configuration of a BERT header (`None` for other architectures).
    pub(crate) fn from_header(h: &Header) -> Option<BertConfig> {
        let ArchParams::Bert(p) = &h.params else {
            return None;
        };
        Some(BertConfig {
            vocab_size: p.vocab_size as usize,
            hidden: p.hidden as usize,
            n_layers: p.n_layers as usize,
            n_heads: p.n_heads as usize,
            head_dim: p.hidden.checked_div(p.n_heads).unwrap_or(0) as usize,
            intermediate: p.intermediate as usize,
            max_position: p.max_position as usize,
            type_vocab_size: p.type_vocab_size as usize,
            eps: p.layer_norm_eps,
            n_labels: h.task_params.n_labels as usize,
        })
    }
}
